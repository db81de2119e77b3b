#pragma once
// CapsCache: what the entities that send presence to this server's accounts can do (XEP-0115).
// A presence's <c/> names a verification string; the features behind it are asked once per
// string (disco#info to 'node#ver', ModuleContext::learn_caps) and kept only if they hash to
// it (§5.4), so one client version's answer serves every user of that version. PEP reads it
// for +notify (XEP-0163 §4). Server-wide and used from every shard: a mutex guards it; it is
// read per notification and written once per new version or presence.
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "xmpp/caps.hpp"
#include "xmpp/jid.hpp"

namespace starling::xml { class Element; }

namespace starling::server {

struct CapsFeatures {
    std::vector<std::string> features;  // sorted
    bool has(std::string_view feature) const;
};
using CapsFeaturesPtr = std::shared_ptr<const CapsFeatures>;

class CapsCache {
public:
    explicit CapsCache(std::size_t max_versions = 10'000) : max_versions_{max_versions} {}

    // The features of a full JID whose last available presence had caps that are known.
    CapsFeaturesPtr features_of(const xmpp::Jid& full) const;
    // Records the caps of `full`'s presence; their features if the version is known already.
    CapsFeaturesPtr note(const xmpp::Jid& full, const xmpp::Caps& caps);
    // `full` went unavailable.
    void forget(const xmpp::Jid& full);
    // Whoever gets true asks the entity for `ver`'s features; false: known, being asked, or
    // found not to hash to its version before (a client that lies is not asked again).
    bool start_asking(const xmpp::Caps& caps);
    // The answer to that question (a disco#info <query/>, or null when none came): kept if it
    // hashes to the version. Returns the features, or null.
    CapsFeaturesPtr finish_asking(const xmpp::Caps& caps, const xml::Element* query);
    // While someone asks `caps`' version: `done` runs (on the thread that finishes asking)
    // once the answer is in or given up, and this returns true; false when nobody is asking.
    bool when_answered(const xmpp::Caps& caps, std::function<void()> done);

    std::size_t versions() const;
    std::size_t entities() const;

private:
    mutable std::mutex mutex_;
    std::size_t max_versions_;
    std::unordered_map<std::string, CapsFeaturesPtr> by_version_;  // key: hash + ' ' + ver
    std::unordered_map<xmpp::Jid, std::string> version_of_;         // full JID → key
    std::unordered_set<std::string> refused_;
    std::unordered_map<std::string, std::vector<std::function<void()>>> asking_;  // → who waits
};

}  // namespace starling::server
