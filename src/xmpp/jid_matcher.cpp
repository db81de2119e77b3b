#include "xmpp/jid_matcher.hpp"

namespace starling::xmpp {

JidMatcher::JidMatcher(const std::vector<Jid>& jids) {
    for (const auto& j : jids) items_.insert(j.str());
}

bool JidMatcher::matches(const Jid& jid) const {
    if (items_.empty()) return false;
    const std::string& full = jid.str();
    if (items_.contains(std::string_view{full})) return true;
    // Jids are canonical, so the bare JID and the domain are prefixes of the full one.
    std::string_view bare{full};
    if (jid.has_resource()) bare.remove_suffix(jid.resource().size() + 1);
    if (jid.has_local() && jid.has_resource() && items_.contains(bare)) return true;
    if (!jid.is_domain() && items_.contains(jid.domain())) return true;
    return false;
}

}  // namespace starling::xmpp
