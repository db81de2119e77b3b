#pragma once
// ElementChannel: the seam between how XML travels (TCP+TLS today; BOSH and WebSocket
// later) and what the conversation means (C2sStream). A channel turns bytes into stream
// events and elements into bytes; the stream logic never sees a byte.
// Owned by one stream, on that stream's shard.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "net/task.hpp"
#include "xml/element.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/sasl/scram.hpp"

namespace starling::server {

// Which kind of stream a channel carries; it sets the content namespace the channel writes
// stanzas in (RFC 6120 §4.8.2: jabber:client, jabber:server; XEP-0114 §2:
// jabber:component:accept), so s2s and components reuse the same transports.
enum class StreamRole { client, server, component };

constexpr std::string_view content_namespace(StreamRole role) {
    switch (role) {
        case StreamRole::client: return ns::client;
        case StreamRole::server: return ns::server;
        case StreamRole::component: return ns::component_accept;
    }
    return ns::client;
}

struct ChannelEvent {
    enum class Kind {
        opened,        // stream header: element holds its attributes, default_ns its xmlns
        element,       // one top-level element
        closed,        // the peer closed the stream (</stream:stream>)
        parse_error,   // the XML broke a rule; parse_error says which
        disconnected,  // the transport went away (or TLS failed)
        timed_out,     // the read deadline passed
        overflow,      // the peer does not read and our queue hit its limit
    };
    Kind kind;
    xml::Element element;
    std::string default_ns;
    xml::ParseError parse_error = xml::ParseError::not_well_formed;
};

class ElementChannel {
public:
    virtual ~ElementChannel() = default;

    // The next event. Only one read at a time.
    virtual Task<ChannelEvent> read() = 0;
    // Absolute deadline for the reads to come (pre-auth timeout, idle timeout).
    virtual void set_read_deadline(std::chrono::steady_clock::time_point deadline) = 0;
    // Times out when nothing arrives for this long (0: never).
    virtual void set_idle_timeout(std::chrono::seconds timeout) = 0;
    // Whitespace keepalives, or the transport's equivalent, once the stream is up.
    virtual void enable_keepalives(bool on) = 0;

    // Writes our stream header with these attributes (from, id, version, xml:lang...).
    virtual void open_stream(const xml::Element& header) = 0;
    virtual void write(const xml::Element& element) = 0;
    virtual void write_keepalive() = 0;
    // Writes </stream:stream>, flushes, then closes the transport (after a grace period
    // for the peer's own closing tag, RFC 6120 §4.4).
    virtual void close_stream() = 0;
    // Closes at once without writing anything more.
    virtual void abort() = 0;
    // Time of the last write, for whitespace keepalives.
    virtual std::chrono::steady_clock::time_point last_write() const = 0;

    // RFC 6120 §4.3.3: a new stream on the same transport, with a fresh parser.
    virtual void restart_stream() = 0;
    virtual void set_parser_limits(xml::ParserLimits limits) = 0;

    virtual bool can_start_tls() const = 0;
    // After <proceed/> is queued: everything after it is TLS (RFC 6120 §5.4.3.3: bytes the
    // client sent after <starttls/> in plaintext are discarded).
    virtual void start_tls(std::string_view domain) = 0;
    virtual bool is_secure() const = 0;
    virtual xmpp::sasl::ChannelBindings channel_bindings() const = 0;
    // The channel-binding types to advertise (XEP-0440); -PLUS accepts all of the above.
    virtual std::vector<std::string> advertised_binding_types() const = 0;
    virtual std::string security_description() const = 0;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"

    virtual const std::string& remote_address() const = 0;
    // What the connection is, for the log ("WebSocket"); empty: a TCP port.
    virtual std::string transport() const { return {}; }
};

}  // namespace starling::server
