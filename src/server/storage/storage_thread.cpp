#include "server/storage/storage_thread.hpp"

namespace starling::storage {

StorageThread::StorageThread(const std::filesystem::path& file)
    : db_{std::make_unique<Database>(file)},
      work_{std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          context_.get_executor())},
      thread_{[this] { context_.run(); }} {}

StorageThread::~StorageThread() { stop(); }

void StorageThread::stop() {
    work_.reset();
    if (thread_.joinable()) thread_.join();
}

}  // namespace starling::storage
