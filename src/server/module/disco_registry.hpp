#pragma once
// DiscoRegistry: what the server's disco#info (XEP-0030) answers, collected from modules at
// start-up: identities and features of the host, and features answered on accounts' behalf.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/module/iq_table.hpp"

namespace starling::server {

struct DiscoIdentity {
    std::string category, type, name;
    auto operator<=>(const DiscoIdentity&) const = default;
};

class DiscoRegistry {
public:
    void add_feature(std::string_view feature, To to = To::host) { (to == To::host ? host_ : account_).emplace(feature); }
    void add_identity(DiscoIdentity identity) { identities_.insert(std::move(identity)); }
    const std::set<std::string>& features(To to) const { return to == To::host ? host_ : account_; }
    const std::set<DiscoIdentity>& identities() const { return identities_; }

private:
    std::set<std::string> host_, account_;
    std::set<DiscoIdentity> identities_;
};

}  // namespace starling::server
