#pragma once
// DiscoRegistry: what disco#info and disco#items (XEP-0030) answer for the host or a
// service, collected from modules at start-up: identities, features (the host's, and those
// answered on accounts' behalf) and items (the services a host offers).
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

// XEP-0030 §4: an item of disco#items, such as a service the host offers.
struct DiscoItem {
    std::string jid, name, node;
    auto operator<=>(const DiscoItem&) const = default;
};

class DiscoRegistry {
public:
    void add_item(DiscoItem item) { items_.insert(std::move(item)); }
    const std::set<DiscoItem>& items() const { return items_; }
    void add_feature(std::string_view feature, To to = To::host) { (to == To::host ? host_ : account_).emplace(feature); }
    void add_identity(DiscoIdentity identity) { identities_.insert(std::move(identity)); }
    const std::set<std::string>& features(To to) const { return to == To::host ? host_ : account_; }
    const std::set<DiscoIdentity>& identities() const { return identities_; }

private:
    std::set<std::string> host_, account_;
    std::set<DiscoIdentity> identities_;
    std::set<DiscoItem> items_;
};

}  // namespace starling::server
