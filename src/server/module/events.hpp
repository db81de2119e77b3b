#pragma once
// Every hook point, in pipeline order, with the shard it fires on. Modules add behaviour
// here; the core knows no module by name.
#include <optional>
#include <vector>

#include "net/task.hpp"
#include "server/module/session.hpp"
#include "xml/element.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/jid_matcher.hpp"
#include "xmpp/stanza.hpp"

namespace starling::server {

// Connection shard, while building <stream:features/> after authentication: add yours.
struct StreamFeaturesOffered {
    Session& session;
    xml::Element& features;
};

// Connection shard, while building <stream:features/> before authentication, where
// authentication is offered (after TLS if c2s.require_encryption): add yours (XEP-0077 §8).
// A separate event, so handlers of the post-authentication features never see this one.
struct PreAuthFeaturesOffered {
    Session& session;
    xml::Element& features;
};

// Connection shard: an iq get or set before authentication, where authentication is offered
// (XEP-0077 §3.1.1). Flow::stop: taken; the handler answers with session.send_preauth(), at
// once or in `work`, which the stream awaits before it reads its next element (so the answer
// precedes whatever the client sent after the iq, and the stream outlives the task).
// Nobody takes it: the stream closes with <not-authorized/> (RFC 6120 §4.9.3.12).
struct PreAuthIq {
    Session& session;
    const xmpp::Stanza& iq;
    std::optional<Task<void>> work;
};

// Connection shard, once a resource is bound and the result written, before the stream reads
// its next stanza: a module that needs per-session state (Session::module_state) in place
// before the first stanza adds work; the stream awaits each task before it reads on.
struct SessionBound {
    Session& session;
    std::vector<Task<void>>& work;
};

// Connection shard: an element after authentication that is no stanza (not a jabber:client
// message, presence or iq): stream management's <enable/>, <r/>, <a/>, <resume/>, CSI's
// <active/> and <inactive/>. `bound`: a resource is bound. Flow::stop: taken (the handler
// answers with Session::write_element); nobody takes it: the stream ends with
// <unsupported-stanza-type/> (RFC 6120 §4.9.3.22).
struct NonStanzaElement {
    Session& session;
    const xml::Element& element;
    bool bound;
};

// Connection shard, after 'from' is stamped and before routing. Flow::stop: consumed.
struct StanzaFromClient {
    Session& session;
    xmpp::Stanza& stanza;
};

// Connection shard, just before a stanza is written to the client. Flow::stop: not written.
struct StanzaToClient {
    Session& session;
    xmpp::Stanza& stanza;
};

// Owner shard of the recipient: any stanza for a local account (bare or full JID), before
// the router looks at it. Flow::stop: taken; the handler dropped it, answered it, or holds it
// and routes it again later (ModuleContext::route_again), when this event fires for it again.
struct StanzaToAccount {
    xmpp::Stanza& stanza;
};

// The shard where it arrives: a message or presence addressed to the host's domain itself
// (or domain/resource). Flow::stop: taken; otherwise dropped (RFC 6120 §10.3.1).
struct StanzaToHost {
    xmpp::Stanza& stanza;
};

// Owner shard of the sender: a stanza a module sends on behalf of a local account (presence
// broadcast, probes, answers to subscriptions). Flow::stop: not sent.
struct StanzaFromAccount {
    xmpp::Stanza& stanza;
};

// Owner shard: the account is about to block the JIDs `added` matches (XEP-0191 §3.3).
// Handlers add work that must happen while those JIDs may still be reached (their
// unavailable presence); the block takes effect when every task is done.
struct ContactsBlocking {
    const xmpp::BareJid& account;
    const xmpp::JidMatcher& added;
    std::vector<Task<void>>& work;
};

// Owner shard: the JIDs `removed` matches are blocked no more (XEP-0191 §3.4, §3.5).
struct ContactsUnblocked {
    const xmpp::BareJid& account;
    const xmpp::JidMatcher& removed;
};

// Owner shard of the sender's account: a resource's own presence (no 'to', available or
// unavailable), after the router recorded its availability. `initial`: its first available
// presence in this session (RFC 6121 §4.2). Handlers broadcast it.
struct OwnPresence {
    xmpp::Stanza& stanza;
    bool initial;
};

// Owner shard of the sender: directed presence (available or unavailable with a 'to',
// RFC 6121 §4.6), just before it is routed. Handlers remember who must hear of the end.
struct DirectedPresence {
    xmpp::Stanza& stanza;
};

// Owner shard of the sender: a subscription request or answer the user sends (RFC 6121 §3),
// 'from' already the user's bare JID. Flow::stop: the handler routes it (or not) itself.
struct OutboundSubscription {
    xmpp::Stanza& stanza;
};

// Owner shard of the recipient: a subscription stanza or a probe for a local account.
// Flow::stop: handled; otherwise subscription stanzas go to available resources and probes
// are dropped.
struct InboundSubscription {
    xmpp::Stanza& stanza;
};

// Owner shard of the recipient: available or unavailable presence for a local account's bare
// JID, before it goes to the available resources. Flow::stop: the handler delivers it later
// itself (to keep it behind a subscription change still being stored).
struct PresenceToAccount {
    xmpp::Stanza& stanza;
};

// Owner shard of the recipient: a chat or normal message for a local account that has no
// resource to take it (none available, or all with negative priority). Flow::stop: the
// handler took it (stored it, or answered the sender); otherwise service-unavailable.
struct MessageForOfflineAccount {
    xmpp::Stanza& stanza;
};

// Owner shard of the account: it is about to be deleted in-band (XEP-0077 §3.2), its data
// still there. Handlers add work (telling contacts); the deletion waits for it.
struct AccountRemoving {
    const xmpp::BareJid& account;
    std::vector<Task<void>>& work;
};

// Owner shard of the account, after a resource is bound / after it is gone.
struct ResourceBound {
    const xmpp::Jid& jid;
};
struct ResourceUnbound {
    const xmpp::Jid& jid;
};

// Owner shard of the account, before AccountDiscoInfo or AccountDiscoItems fires for a
// request: handlers add what must be done first (PEP loads the account's nodes from the
// store); the fold waits for every task.
struct AccountDiscoPreparing {
    const xmpp::BareJid& account;
    const xmpp::Jid& requester;
    std::vector<Task<void>>& work;  // run one after the other, in the order added
};

// Owner shard of the account: a disco#info request to an account's bare JID (XEP-0030) from
// the account itself or someone who receives its presence (RFC 6121 §8.5.1: nobody else
// learns anything), answered by the disco module. Handlers add what the account offers to
// `query` (PEP: the pubsub/pep identity, XEP-0163 §6.1; a node's own info). `node` empty:
// the account; otherwise the handler that knows the node sets `node_found` (else
// item-not-found).
struct AccountDiscoInfo {
    const xmpp::BareJid& account;
    const xmpp::Jid& requester;
    std::string_view node;
    xml::Element& query;
    bool node_found = false;
};

// The same for disco#items (PEP: the account's nodes, XEP-0163 §6.2).
struct AccountDiscoItems {
    const xmpp::BareJid& account;
    const xmpp::Jid& requester;
    std::string_view node;
    xml::Element& query;
    bool node_found = false;
};

}  // namespace starling::server
