#pragma once
// The HTTP side of the server (Beast): one coroutine per connection, on the shard that
// accepted it. It serves
//   /xmpp-websocket           XMPP over WebSocket (RFC 7395): the connection becomes a
//                             WebSocketChannel under a C2sStream, like a TCP client's
//   /.well-known/host-meta    XEP-0156 discovery of the endpoints (XRD, and .json)
//   anything else             a file from [http] static_dir, if set (a web client)
// with CORS for the configured origins, request size and idle limits, and the client's
// address and scheme from X-Forwarded-For/-Proto when the peer is a trusted proxy.
#include <boost/asio/ip/tcp.hpp>

#include "net/task.hpp"

namespace starling::server {

class Server;
struct ShardContext;

// Serves one accepted connection until it closes or becomes a WebSocket stream. `tls`: the
// HTTPS port (TLS from the first byte).
Task<void> serve_http(Server& server, ShardContext& shard, boost::asio::ip::tcp::socket socket, bool tls);

}  // namespace starling::server
