#pragma once
// JidMatcher: a set of JIDs matched the way XEP-0016 §2.1 and XEP-0191 §6 say: a full JID
// matches only itself; a bare JID, any of its resources; domain/resource, only that JID; a
// domain, the domain itself and every JID at it. Blocklists are made of these.
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "xmpp/jid.hpp"

namespace starling::xmpp {

class JidMatcher {
public:
    JidMatcher() = default;
    explicit JidMatcher(const std::vector<Jid>& jids);

    bool matches(const Jid& jid) const;
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_set<std::string, Hash, std::equal_to<>> items_;
};

}  // namespace starling::xmpp
