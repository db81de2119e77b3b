#pragma once
// Hooks: typed events with prioritized handlers. One Hooks per (host, shard), so handlers
// run on the shard that fires the event and need no locks. An event is a struct; a fold is
// an event with a mutable field. A handler that throws is logged with its module's name and
// the chain goes on.
#include <algorithm>
#include <exception>
#include <functional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "base/log.hpp"
#include "server/module/priority.hpp"

namespace starling::server {

class Hooks {
public:
    template <class E>
    void on(std::function<Flow(E&)> handler, Priority priority, std::string owner) {
        auto& list = handlers_[typeid(E)];
        Entry entry{static_cast<int>(priority), std::move(owner),
                    [h = std::move(handler)](void* e) { return h(*static_cast<E*>(e)); }};
        // Stable: equal priorities keep registration (catalog) order.
        auto at = std::find_if(list.begin(), list.end(), [&](const Entry& x) { return x.priority < entry.priority; });
        list.insert(at, std::move(entry));
    }
    template <class E>
    void on(std::function<void(E&)> handler, Priority priority, std::string owner) {
        on<E>(std::function<Flow(E&)>([h = std::move(handler)](E& e) { h(e); return Flow::next; }), priority,
              std::move(owner));
    }

    // Runs the handlers in priority order; stop if one returns Flow::stop.
    template <class E>
    Flow fire(E& event) const {
        auto it = handlers_.find(typeid(E));
        if (it == handlers_.end()) return Flow::next;
        for (const auto& h : it->second) {
            try {
                if (h.call(&event) == Flow::stop) return Flow::stop;
            } catch (const std::exception& ex) {
                log::error("module {}: handler for {} failed: {}", h.owner, typeid(E).name(), ex.what());
            }
        }
        return Flow::next;
    }

    template <class E>
    bool has() const {
        return handlers_.contains(typeid(E));
    }

private:
    struct Entry {
        int priority;
        std::string owner;
        std::function<Flow(void*)> call;
    };
    std::unordered_map<std::type_index, std::vector<Entry>> handlers_;
};

}  // namespace starling::server
