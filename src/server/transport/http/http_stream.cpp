#include "server/transport/http/http_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/tls_domains.hpp"

namespace starling::server {

namespace asio = boost::asio;

HttpStream::Tls::Tls(const net::TlsDomains& domains) : session{domains.first(), pending} {}

HttpStream::HttpStream(asio::ip::tcp::socket socket, const net::TlsDomains* tls)
    : socket_{std::move(socket)}, tls_{tls ? std::make_unique<Tls>(*tls) : nullptr} {}

HttpStream::~HttpStream() = default;

Task<bool> HttpStream::handshake() {
    if (!tls_) co_return true;
    Tls& t = *tls_;
    while (!t.session.handshake_done()) {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(t.cipher_in), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return false;
        auto status = t.session.feed({t.cipher_in.data(), n}, t.plain_in);
        if (!t.pending.empty()) {
            // The server's flight (and after the last step, TLS 1.3's session tickets).
            t.sending.clear();
            t.sending.swap(t.pending);
            auto [wec, written] = co_await asio::async_write(socket_, asio::buffer(t.sending), asio::as_tuple(asio::use_awaitable));
            if (wec) co_return false;
        }
        if (status != net::TlsSession::Status::ok) co_return false;
    }
    co_return true;
}

void HttpStream::close() {
    boost::system::error_code ignored;
    if (tls_ && socket_.is_open()) {
        // close_notify, best effort: the peer may be gone already.
        tls_->session.shutdown();
        if (!tls_->pending.empty()) asio::write(socket_, asio::buffer(tls_->pending), ignored);
        tls_->pending.clear();
    }
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

void teardown(boost::beast::role_type, HttpStream& stream, boost::system::error_code& ec) {
    stream.close();
    ec = {};
}

}  // namespace starling::server
