#pragma once
// Exports: typed services one module offers the others on the same host and shard, such as
// the roster's PresenceSubscriptions. The provider registers an implementation in its
// constructor; users look it up when they need it (not in their own constructor: modules
// are created in catalog order) and get null when the providing module is off.
#include <stdexcept>
#include <string>
#include <typeindex>
#include <unordered_map>

namespace starling::server {

class Exports {
public:
    template <class T>
    void provide(T& implementation, const std::string& module) {
        auto [it, added] = by_type_.try_emplace(std::type_index(typeid(T)), Entry{&implementation, module});
        if (!added)
            throw std::runtime_error("modules " + it->second.module + " and " + module + " both provide " +
                                     typeid(T).name());
    }
    template <class T>
    T* find() const {
        auto it = by_type_.find(std::type_index(typeid(T)));
        return it == by_type_.end() ? nullptr : static_cast<T*>(it->second.implementation);
    }

private:
    struct Entry {
        void* implementation;
        std::string module;
    };
    std::unordered_map<std::type_index, Entry> by_type_;
};

}  // namespace starling::server
