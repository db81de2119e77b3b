#pragma once
// Option descriptors: each setting is described once (name, member, help) and that one
// description validates the TOML file, fills the defaults and writes the documentation
// (starling.example.toml). Unknown keys and wrong types are errors naming key and line.
#include <toml++/toml.h>

#include <any>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

namespace starling::config {

struct ConfigError {
    std::string key;  // dotted path, e.g. "c2s.port"
    int line = 0;     // 0 when unknown
    std::string message;
    std::string describe() const {
        return line ? fmt::format("line {}: {}: {}", line, key, message) : fmt::format("{}: {}", key, message);
    }
};
using ConfigErrors = std::vector<ConfigError>;

namespace detail {

inline int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

template <class T>
struct Codec;

template <>
struct Codec<bool> {
    static constexpr const char* type = "boolean";
    static bool read(const toml::node& n, bool& out) {
        if (auto v = n.value<bool>(); v && n.is_boolean()) { out = *v; return true; }
        return false;
    }
    static std::string show(bool v) { return v ? "true" : "false"; }
};

template <class T>
    requires std::is_integral_v<T> && (!std::is_same_v<T, bool>)
struct Codec<T> {
    static constexpr const char* type = "integer";
    static bool read(const toml::node& n, T& out) {
        if (!n.is_integer()) return false;
        auto v = *n.value<std::int64_t>();
        if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
            return false;
        out = static_cast<T>(v);
        return true;
    }
    static std::string show(T v) { return std::to_string(v); }
};

template <>
struct Codec<std::string> {
    static constexpr const char* type = "string";
    static bool read(const toml::node& n, std::string& out) {
        if (!n.is_string()) return false;
        out = *n.value<std::string>();
        return true;
    }
    static std::string show(const std::string& v) { return toml_quote(v); }
    static std::string toml_quote(const std::string& v) {
        std::string out = "\"";
        for (char c : v) {
            if (c == '"' || c == '\\') out.push_back('\\');
            out.push_back(c);
        }
        return out + "\"";
    }
};

template <>
struct Codec<std::filesystem::path> {
    static constexpr const char* type = "string (a path)";
    static bool read(const toml::node& n, std::filesystem::path& out) {
        if (!n.is_string()) return false;
        out = *n.value<std::string>();
        return true;
    }
    static std::string show(const std::filesystem::path& v) { return Codec<std::string>::toml_quote(v.string()); }
};

template <>
struct Codec<std::chrono::seconds> {
    static constexpr const char* type = "integer (seconds)";
    static bool read(const toml::node& n, std::chrono::seconds& out) {
        if (!n.is_integer() || *n.value<std::int64_t>() < 0) return false;
        out = std::chrono::seconds{*n.value<std::int64_t>()};
        return true;
    }
    static std::string show(std::chrono::seconds v) { return std::to_string(v.count()); }
};

template <>
struct Codec<std::vector<std::string>> {
    static constexpr const char* type = "array of strings";
    static bool read(const toml::node& n, std::vector<std::string>& out) {
        const toml::array* a = n.as_array();
        if (!a) return false;
        std::vector<std::string> v;
        for (const auto& e : *a) {
            if (!e.is_string()) return false;
            v.push_back(*e.value<std::string>());
        }
        out = std::move(v);
        return true;
    }
    static std::string show(const std::vector<std::string>& v) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i)
            out += (i ? ", " : "") + Codec<std::string>::toml_quote(v[i]);
        return out + "]";
    }
};

}  // namespace detail

// The descriptors of one TOML table, filling struct S.
template <class S>
class OptionSet {
public:
    template <class T>
    OptionSet& add(std::string name, T S::*member, std::string help,
                   std::function<std::string(const T&)> check = {}) {
        options_.push_back(Option{
            name, help, detail::Codec<T>::type,
            [member, check, name](const toml::node& n, S& s, std::string& why) {
                T value{};
                if (!detail::Codec<T>::read(n, value)) {
                    why = fmt::format("expected {}", detail::Codec<T>::type);
                    return false;
                }
                if (check) {
                    why = check(value);
                    if (!why.empty()) return false;
                }
                s.*member = std::move(value);
                return true;
            },
            [member](const S& s) { return detail::Codec<T>::show(s.*member); }});
        return *this;
    }

    // Fills `s` from `table`; every problem is appended to `errors`.
    void apply(const toml::table& table, S& s, const std::string& path, ConfigErrors& errors) const {
        for (const auto& [key, node] : table) {
            std::string full = path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
            const Option* o = find(key.str());
            if (!o) {
                errors.push_back({full, detail::line_of(node), "unknown setting"});
                continue;
            }
            std::string why;
            if (!o->read(node, s, why)) errors.push_back({full, detail::line_of(node), why});
        }
    }

    // Documentation: each setting with its help and its default, as TOML.
    void describe(std::string& out, const S& defaults) const {
        for (const auto& o : options_)
            out += fmt::format("# {} ({})\n{} = {}\n\n", o.help, o.type, o.name, o.show(defaults));
    }

private:
    struct Option {
        std::string name, help, type;
        std::function<bool(const toml::node&, S&, std::string&)> read;
        std::function<std::string(const S&)> show;
    };
    const Option* find(std::string_view name) const {
        for (const auto& o : options_)
            if (o.name == name) return &o;
        return nullptr;
    }
    std::vector<Option> options_;
};

// A module's options, type-erased so ModuleInfo can hold any module's Options struct.
class ModuleOptions {
public:
    virtual ~ModuleOptions() = default;
    virtual std::any defaults() const = 0;
    virtual void apply(const toml::table& table, std::any& options, const std::string& path,
                       ConfigErrors& errors) const = 0;
    virtual void describe(std::string& out) const = 0;
};

template <class O>
class ModuleOptionsOf final : public ModuleOptions {
public:
    explicit ModuleOptionsOf(OptionSet<O> set) : set_{std::move(set)} {}
    std::any defaults() const override { return O{}; }
    void apply(const toml::table& table, std::any& options, const std::string& path,
               ConfigErrors& errors) const override {
        set_.apply(table, std::any_cast<O&>(options), path, errors);
    }
    void describe(std::string& out) const override { set_.describe(out, O{}); }

private:
    OptionSet<O> set_;
};

}  // namespace starling::config
