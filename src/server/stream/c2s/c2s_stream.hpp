#pragma once
// C2sStream: one client's stream, RFC 6120 from the first header to the closing tag:
// stream negotiation, STARTTLS, SASL, resource binding, then stanzas in and out. It runs on
// the shard that accepted the connection, as one coroutine reading its ElementChannel;
// other shards reach it only through SessionRef posts (deliver, replace).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

#include "net/task.hpp"
#include "server/module/session.hpp"
#include "server/stream/c2s/preauth_table.hpp"
#include "server/transport/element_channel.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/sasl/scram.hpp"
#include "xmpp/stanza.hpp"
#include "xmpp/stream_error.hpp"

namespace starling::server {

class AccountRate;
class Host;
class DeliveryHold;
struct HoldWaiter;
class Server;
struct ShardContext;

class C2sStream final : public Session, public std::enable_shared_from_this<C2sStream> {
public:
    C2sStream(Server& server, ShardContext& shard, std::shared_ptr<ElementChannel> channel, std::uint64_t id,
              bool direct_tls);
    ~C2sStream();

    Task<void> run();
    // On the connection shard: the pre-auth table chose this connection to make room for a
    // newer one (preauth_table.hpp).
    void evict();

    // Session, on the connection shard.
    void deliver(xmpp::Stanza stanza) override;
    void close(xmpp::StreamError error) override;
    void send_preauth(const xmpp::Stanza& stanza) override;
    void write_element(const xml::Element& element) override;
    std::shared_ptr<Session> shared() override { return shared_from_this(); }
    std::uint64_t id() const override { return id_; }
    const std::optional<xmpp::Jid>& jid() const override { return jid_; }
    bool is_secure() const override;
    const std::string& remote_address() const override;

private:
    friend class DeliveryHold;
    enum class State { wait_header, negotiating, authenticated, bound, closing };

    Task<void> serve();
    Task<void> on_open(const ChannelEvent& event);
    Task<void> on_element(xml::Element element);
    Task<void> on_preauth_iq(xml::Element element);
    bool offers_authentication() const;
    void send_features();
    void fail(xmpp::StreamErrorCondition condition, std::string text = {});
    void finish();
    void advance(PreauthProgress progress);
    void leave_preauth();

    // TLS and SASL (c2s_auth.cpp)
    void on_starttls();
    Task<void> on_auth(const xml::Element& auth);
    Task<void> on_sasl_response(const xml::Element& response);
    Task<void> scram_client_first(const std::string& message);
    Task<void> plain_login(const std::string& message);
    Task<void> sasl_failure(xmpp::sasl::SaslCondition condition, std::string_view account = {});
    void sasl_success(std::string username, std::string server_final);
    xml::Element mechanisms() const;
    bool offers(std::string_view mechanism) const;

    // Binding and stanzas (c2s_session.cpp)
    Task<void> on_bind(xmpp::Stanza iq);
    void on_stanza(xml::Element element);
    void reply_malformed(xml::Element element, const xmpp::StanzaError& error);
    bool check_stanza(const xmpp::Stanza& stanza);
    Task<void> pace();
    void hold(xmpp::Stanza& message);
    Task<void> await_holds();
    void hold_released();

    std::string log_prefix() const;
    // The served domain this stream is for (the 'to' of its header), and its Host here.
    Host& host() const;
    const xmpp::Jid& domain() const;

    Server& server_;
    ShardContext& shard_;
    std::shared_ptr<ElementChannel> channel_;
    std::uint64_t id_;
    bool direct_tls_;
    State state_ = State::wait_header;
    bool header_sent_ = false;
    std::size_t host_ = 0;  // index in ShardContext::hosts, chosen by the header's 'to'

    bool preauth_ = true;  // in the server's PreauthTable until it authenticates or ends
    std::string stream_id_;
    std::string username_;
    std::optional<xmpp::Jid> jid_;
    bool binding_ = false;
    std::vector<xmpp::Stanza> early_;  // delivered while the bind result was on its way
    std::shared_ptr<AccountRate> rate_;  // the account's stanza budget (limits.account_stanzas_per_second)
    std::weak_ptr<DeliveryHold> hold_;  // carried by the messages still on their way
    std::unique_ptr<HoldWaiter> hold_waiter_;
    // SASL exchange in progress
    std::unique_ptr<xmpp::sasl::ScramServer> scram_;
    std::string scram_username_;
    std::string mechanism_;
    bool awaiting_plain_ = false;
    xmpp::sasl::ScramHash scram_hash_ = xmpp::sasl::ScramHash::sha256;
    std::uint32_t sasl_failures_ = 0;
};

}  // namespace starling::server
