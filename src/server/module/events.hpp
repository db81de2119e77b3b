#pragma once
// Every hook point, in pipeline order, with the shard it fires on. Modules add behaviour
// here; the core knows no module by name.
#include "xml/element.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/stanza.hpp"

namespace starling::server {

class C2sStream;

// Connection shard, while building <stream:features/> after authentication: add yours.
struct StreamFeaturesOffered {
    C2sStream& stream;
    xml::Element& features;
};

// Connection shard, after 'from' is stamped and before routing. Flow::stop: consumed.
struct StanzaFromClient {
    C2sStream& stream;
    xmpp::Stanza& stanza;
};

// Connection shard, just before a stanza is written to the client. Flow::stop: not written.
struct StanzaToClient {
    C2sStream& stream;
    xmpp::Stanza& stanza;
};

// Owner shard of the account, after a resource is bound / after it is gone.
struct ResourceBound {
    const xmpp::Jid& jid;
};
struct ResourceUnbound {
    const xmpp::Jid& jid;
};

}  // namespace starling::server
