#pragma once
// XMPP addresses, RFC 7622. A Jid is always valid and in canonical (enforced) form, so
// comparing two Jids is comparing strings. BareJid is a distinct type so that ownership keys
// (accounts, rooms) can never be full JIDs by mistake.
#include <compare>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace starling::xmpp {

class BareJid;

class Jid {
public:
    // Parses and enforces RFC 7622 §3: localpart UsernameCaseMapped, domainpart per
    // IDNA2008/UTS #46 (lower case, trailing dot removed, IP literals allowed), resourcepart
    // OpaqueString; each part 1..1023 octets. nullopt if malformed.
    static std::optional<Jid> parse(std::string_view text);
    // Builds from parts that each still need enforcement; empty local/resource mean absent.
    static std::optional<Jid> from_parts(std::string_view local, std::string_view domain,
                                         std::string_view resource);

    const std::string& str() const { return full_; }
    std::string_view local() const;
    std::string_view domain() const;
    std::string_view resource() const;
    bool has_local() const { return local_len_ != 0; }
    bool has_resource() const { return resource_len_ != 0; }
    bool is_bare() const { return resource_len_ == 0; }
    bool is_domain() const { return local_len_ == 0 && resource_len_ == 0; }

    BareJid bare() const;
    // Same account, another resource (already-valid resource checked again).
    std::optional<Jid> with_resource(std::string_view resource) const;

    friend bool operator==(const Jid& a, const Jid& b) { return a.full_ == b.full_; }
    friend auto operator<=>(const Jid& a, const Jid& b) { return a.full_ <=> b.full_; }

private:
    friend class BareJid;
    Jid() = default;
    std::string full_;  // local@domain/resource, canonical
    std::size_t local_len_ = 0;
    std::size_t domain_len_ = 0;
    std::size_t resource_len_ = 0;
};

class BareJid {
public:
    static std::optional<BareJid> parse(std::string_view text);  // refuses a resource
    const std::string& str() const { return jid_.str(); }
    std::string_view local() const { return jid_.local(); }
    std::string_view domain() const { return jid_.domain(); }
    bool has_local() const { return jid_.has_local(); }
    const Jid& jid() const { return jid_; }
    std::optional<Jid> with_resource(std::string_view resource) const {
        return jid_.with_resource(resource);
    }

    friend bool operator==(const BareJid& a, const BareJid& b) { return a.jid_ == b.jid_; }
    friend auto operator<=>(const BareJid& a, const BareJid& b) { return a.jid_ <=> b.jid_; }

private:
    friend class Jid;
    explicit BareJid(Jid jid) : jid_{std::move(jid)} {}
    Jid jid_;
};

}  // namespace starling::xmpp

template <>
struct std::hash<starling::xmpp::Jid> {
    std::size_t operator()(const starling::xmpp::Jid& j) const noexcept {
        return std::hash<std::string>{}(j.str());
    }
};
template <>
struct std::hash<starling::xmpp::BareJid> {
    std::size_t operator()(const starling::xmpp::BareJid& j) const noexcept {
        return std::hash<std::string>{}(j.str());
    }
};
