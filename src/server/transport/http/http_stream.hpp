#pragma once
// HttpStream: the byte stream under HTTP and WebSocket connections, in plaintext (port 5280)
// or TLS from the first byte (5281) through the same TlsSession as the XMPP ports (their
// certificates, SNI, channel bindings). It is an Asio AsyncReadStream/AsyncWriteStream, so
// Beast's HTTP and WebSocket code runs over it unchanged. Beast keeps at most one read and
// one write in flight; TLS records a read produces (rare after the handshake) go out with
// the next write. Movable: the TLS state lives behind a pointer, so its buffers stay put.
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>

#include <array>
#include <memory>
#include <string>

#include "net/task.hpp"
#include "net/tls_session.hpp"

namespace starling::net {
class TlsDomains;
}

namespace starling::server {

class HttpStream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    using error_code = boost::system::error_code;

    // `tls`: TLS from the first byte with these certificates; null: plaintext.
    HttpStream(boost::asio::ip::tcp::socket socket, const net::TlsDomains* tls);
    HttpStream(HttpStream&&) noexcept = default;
    HttpStream& operator=(HttpStream&&) noexcept = default;
    ~HttpStream();

    executor_type get_executor() { return socket_.get_executor(); }
    boost::asio::ip::tcp::socket& socket() { return socket_; }
    // TLS: reads and writes until the handshake is done (false: it failed); plaintext: true.
    Task<bool> handshake();
    bool is_secure() const { return tls_ != nullptr; }
    const net::TlsSession* tls() const { return tls_ ? &tls_->session : nullptr; }
    // Ends the connection: close_notify under TLS, then the socket closes.
    void close();

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(ReadOp<MutableBuffers>{this, buffers},
                                                                              token, socket_);
    }
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(WriteOp<ConstBuffers>{this, buffers},
                                                                              token, socket_);
    }

private:
    struct Tls {
        Tls(const net::TlsDomains& domains);
        std::string pending;   // records TLS made, not yet handed to the socket
        std::string sending;   // records being written now
        std::string plain_in;  // decrypted, not yet read
        std::array<char, 16 * 1024> cipher_in;
        net::TlsSession session;  // appends to `pending`
        bool closed = false;      // the peer sent close_notify
    };

    template <class Buffers>
    struct ReadOp {
        HttpStream* s;
        Buffers buffers;
        int state = 0;
        template <class Self>
        void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
            namespace asio = boost::asio;
            if (!s->tls_) {
                if (state++ == 0) return s->socket_.async_read_some(buffers, std::move(self));
                return self.complete(ec, n);
            }
            Tls& t = *s->tls_;
            if (state == 1) {  // ciphertext arrived
                if (ec) return self.complete(ec, 0);
                auto status = t.session.feed({t.cipher_in.data(), n}, t.plain_in);
                if (status == net::TlsSession::Status::error) return self.complete(asio::error::connection_reset, 0);
                if (status == net::TlsSession::Status::closed) t.closed = true;
            }
            if (!t.plain_in.empty() || t.closed) {
                if (state == 0) {  // never complete inside the initiating call
                    state = 2;
                    return asio::post(s->socket_.get_executor(), std::move(self));
                }
                if (t.plain_in.empty()) return self.complete(asio::error::eof, 0);
                std::size_t copied = asio::buffer_copy(buffers, asio::buffer(t.plain_in));
                t.plain_in.erase(0, copied);
                return self.complete({}, copied);
            }
            state = 1;
            s->socket_.async_read_some(asio::buffer(t.cipher_in), std::move(self));
        }
    };

    template <class Buffers>
    struct WriteOp {
        HttpStream* s;
        Buffers buffers;
        int state = 0;
        std::size_t size = 0;
        template <class Self>
        void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
            namespace asio = boost::asio;
            if (!s->tls_) {
                if (state++ == 0) return s->socket_.async_write_some(buffers, std::move(self));
                return self.complete(ec, n);
            }
            Tls& t = *s->tls_;
            if (state == 0) {
                state = 1;
                size = asio::buffer_size(buffers);
                std::string plain(size, '\0');
                asio::buffer_copy(asio::buffer(plain), buffers);
                if (!t.session.write(plain)) {
                    state = 2;
                    ec = asio::error::connection_reset;
                    return asio::post(s->socket_.get_executor(), [self = std::move(self), ec]() mutable { self(ec, 0); });
                }
                t.sending.clear();
                t.sending.swap(t.pending);
                return asio::async_write(s->socket_, asio::buffer(t.sending), std::move(self));
            }
            self.complete(ec, ec ? 0 : size);
        }
    };

    boost::asio::ip::tcp::socket socket_;
    std::unique_ptr<Tls> tls_;
};

// Beast closes the transport when a WebSocket operation fails or times out (found by ADL).
inline void beast_close_socket(HttpStream& stream) { stream.close(); }
// Beast's WebSocket closing handshake ends with the transport's teardown (found by ADL).
void teardown(boost::beast::role_type role, HttpStream& stream, boost::system::error_code& ec);
template <class Handler>
void async_teardown(boost::beast::role_type, HttpStream& stream, Handler&& handler) {
    stream.close();
    boost::asio::post(stream.get_executor(),
                      [h = std::forward<Handler>(handler)]() mutable { h(boost::system::error_code{}); });
}

}  // namespace starling::server
