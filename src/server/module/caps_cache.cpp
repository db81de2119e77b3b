#include "server/module/caps_cache.hpp"

#include <algorithm>

#include "xml/element.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

namespace {

std::string key_of(const xmpp::Caps& caps) { return caps.hash + ' ' + caps.ver; }

}  // namespace

bool CapsFeatures::has(std::string_view feature) const {
    return std::binary_search(features.begin(), features.end(), feature,
                              [](std::string_view a, std::string_view b) { return a < b; });
}

CapsFeaturesPtr CapsCache::features_of(const xmpp::Jid& full) const {
    std::lock_guard lock{mutex_};
    auto version = version_of_.find(full);
    if (version == version_of_.end()) return nullptr;
    auto features = by_version_.find(version->second);
    return features == by_version_.end() ? nullptr : features->second;
}

CapsFeaturesPtr CapsCache::note(const xmpp::Jid& full, const xmpp::Caps& caps) {
    std::string key = key_of(caps);
    std::lock_guard lock{mutex_};
    auto features = by_version_.find(key);
    version_of_[full] = std::move(key);
    return features == by_version_.end() ? nullptr : features->second;
}

void CapsCache::forget(const xmpp::Jid& full) {
    std::lock_guard lock{mutex_};
    version_of_.erase(full);
}

bool CapsCache::start_asking(const xmpp::Caps& caps) {
    std::string key = key_of(caps);
    std::lock_guard lock{mutex_};
    if (by_version_.count(key) || refused_.count(key)) return false;
    return asking_.try_emplace(std::move(key)).second;
}

bool CapsCache::when_answered(const xmpp::Caps& caps, std::function<void()> done) {
    std::lock_guard lock{mutex_};
    auto it = asking_.find(key_of(caps));
    if (it == asking_.end()) return false;
    it->second.push_back(std::move(done));
    return true;
}

CapsFeaturesPtr CapsCache::finish_asking(const xmpp::Caps& caps, const xml::Element* query) {
    std::string key = key_of(caps);
    // §5.4: the features count only if they are what the version says.
    CapsFeaturesPtr features;
    if (query && xmpp::caps_verification(*query, caps.hash) == caps.ver) {
        auto found = std::make_shared<CapsFeatures>();
        for (const auto& node : query->children())
            if (!node.is_text() && node.element->is("feature", ns::disco_info))
                found->features.emplace_back(node.element->attribute("var"));
        std::sort(found->features.begin(), found->features.end());
        features = std::move(found);
    }
    std::vector<std::function<void()>> waiting;
    {
        std::lock_guard lock{mutex_};
        if (auto it = asking_.find(key); it != asking_.end()) {
            waiting = std::move(it->second);
            asking_.erase(it);
        }
        if (!features) {
            // No answer is not a lie: the next presence with this version asks again.
            if (query && refused_.size() < max_versions_) refused_.insert(std::move(key));
        } else {
            // Bounded: a flood of made-up versions costs a disco#info each, never unbounded memory.
            if (by_version_.size() >= max_versions_) by_version_.clear();
            by_version_[std::move(key)] = features;
        }
    }
    for (auto& done : waiting) done();
    return features;
}

std::size_t CapsCache::versions() const {
    std::lock_guard lock{mutex_};
    return by_version_.size();
}

std::size_t CapsCache::entities() const {
    std::lock_guard lock{mutex_};
    return version_of_.size();
}

}  // namespace starling::server
