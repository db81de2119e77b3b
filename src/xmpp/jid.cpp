#include "xmpp/jid.hpp"

#include "xmpp/precis.hpp"

#include <arpa/inet.h>
#include <unicode/uidna.h>

#include <memory>
#include <stdexcept>

namespace starling::xmpp {
namespace {

// RFC 7622 §3.1: each part is 1..1023 octets after enforcement.
constexpr std::size_t max_part_octets = 1023;

std::optional<std::string> enforce_localpart(std::string_view local) {
    auto out = precis::username_case_mapped(local);
    if (!out || out->size() > max_part_octets) return std::nullopt;
    // RFC 7622 §3.3.1. Checked after enforcement because width mapping can produce them
    // (U+FF20 FULLWIDTH COMMERCIAL AT becomes '@', RFC 7622 §3.1 implementation note).
    if (out->find_first_of("\"&'/:<>@") != std::string::npos) return std::nullopt;
    return out;
}

std::optional<std::string> enforce_resourcepart(std::string_view resource) {
    auto out = precis::opaque_string(resource);  // RFC 7622 §3.4
    if (!out || out->size() > max_part_octets) return std::nullopt;
    return out;
}

// RFC 3986 §3.2.2 IPv4address: four dec-octets, no leading zeros.
bool is_ipv4_address(std::string_view s) {
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (s.empty() || s.front() != '.') return false;
            s.remove_prefix(1);
        }
        std::size_t digits = 0;
        int value = 0;
        while (digits < s.size() && digits < 4 && s[digits] >= '0' && s[digits] <= '9') {
            value = value * 10 + (s[digits] - '0');
            ++digits;
        }
        if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && s.front() == '0')) {
            return false;
        }
        s.remove_prefix(digits);
    }
    return s.empty();
}

// RFC 7622 §3.1: IP-literal of RFC 6874. Only IPv6 addresses are taken: a zone identifier
// names an interface of the sender and means nothing to anyone else. The address is written
// in the RFC 5952 §4 form so that equal addresses compare equal as strings.
std::optional<std::string> enforce_ip_literal(std::string_view literal) {
    if (literal.size() < 3 || literal.back() != ']') return std::nullopt;
    const std::string address{literal.substr(1, literal.size() - 2)};
    in6_addr binary{};
    if (inet_pton(AF_INET6, address.c_str(), &binary) != 1) return std::nullopt;
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, &binary, text, sizeof text) == nullptr) return std::nullopt;
    return "[" + std::string{text} + "]";
}

struct UidnaClose {
    void operator()(UIDNA* idna) const { uidna_close(idna); }
};

// Shared by all threads: uidna.h documents the instance as safe for concurrent use.
const UIDNA& uts46() {
    // RFC 7622 §3.2 and RFC 5891: nontransitional processing keeps "ß" and "ς" (IDNA2008),
    // STD3 rules keep domainparts to letters, digits and hyphens.
    static const std::unique_ptr<UIDNA, UidnaClose> idna = [] {
        UErrorCode status = U_ZERO_ERROR;
        std::unique_ptr<UIDNA, UidnaClose> p{uidna_openUTS46(
            UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE |
                UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_USE_STD3_RULES,
            &status)};
        if (U_FAILURE(status)) throw std::runtime_error{"ICU UTS #46 data is missing"};
        return p;
    }();
    return *idna;
}

using IdnaFunction = int32_t (*)(const UIDNA*, const char*, int32_t, char*, int32_t,
                                 UIDNAInfo*, UErrorCode*);

// Runs one UTS #46 operation; nullopt if ICU reports an error other than `ignored`.
std::optional<std::string> run_idna(IdnaFunction function, std::string_view name,
                                    uint32_t ignored) {
    std::string out(name.size() * 2 + 16, '\0');
    for (int attempt = 0; attempt < 2; ++attempt) {
        UIDNAInfo info = UIDNA_INFO_INITIALIZER;
        UErrorCode status = U_ZERO_ERROR;
        const int32_t length =
            function(&uts46(), name.data(), static_cast<int32_t>(name.size()), out.data(),
                     static_cast<int32_t>(out.size()), &info, &status);
        if (status == U_BUFFER_OVERFLOW_ERROR) {
            out.resize(static_cast<std::size_t>(length));
            continue;
        }
        if (U_FAILURE(status) || (info.errors & ~ignored) != 0) return std::nullopt;
        out.resize(static_cast<std::size_t>(length));
        return out;
    }
    return std::nullopt;
}

// RFC 7622 §3.2.1: A-labels become U-labels; §3.2.2: UTS #46 mapping lower-cases and
// width-maps. The A-label form is computed only to hold each label to 63 octets
// (RFC 5890 §2.3.2.1). The RFC 1034 limit on the whole name is not applied: the part is
// allowed 1023 octets (RFC 7622 §3.2), and names that are never looked up in DNS (component
// hosts, local hostnames) need not meet it.
std::optional<std::string> enforce_domain_name(std::string_view domain) {
    auto unicode = run_idna(uidna_nameToUnicodeUTF8, domain, 0);
    // ICU accepts a trailing empty (root) label; RFC 7622 §3.2 allows only one final dot,
    // which the caller has already removed.
    if (!unicode || unicode->empty() || unicode->back() == '.') return std::nullopt;
    if (unicode->size() > max_part_octets) return std::nullopt;
    if (!run_idna(uidna_nameToASCII_UTF8, *unicode, UIDNA_ERROR_DOMAIN_NAME_TOO_LONG)) {
        return std::nullopt;
    }
    return unicode;
}

std::optional<std::string> enforce_domainpart(std::string_view domain) {
    // RFC 7622 §3.2: one final label separator is stripped before anything else.
    if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
    if (domain.empty()) return std::nullopt;
    if (domain.front() == '[') return enforce_ip_literal(domain);
    if (is_ipv4_address(domain)) return std::string{domain};
    return enforce_domain_name(domain);
}

}  // namespace

std::optional<Jid> Jid::parse(std::string_view text) {
    // RFC 7622 §3.2: the first '/' ends the domainpart, then the first '@' before it ends the
    // localpart; both splits happen before any mapping (RFC 7622 §3.1 implementation note).
    std::string_view resource;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        resource = text.substr(slash + 1);
        text = text.substr(0, slash);
        if (resource.empty()) return std::nullopt;
    }
    std::string_view local;
    if (const auto at = text.find('@'); at != std::string_view::npos) {
        local = text.substr(0, at);
        text = text.substr(at + 1);
        if (local.empty()) return std::nullopt;
    }
    return from_parts(local, text, resource);
}

std::optional<Jid> Jid::from_parts(std::string_view local, std::string_view domain,
                                   std::string_view resource) {
    Jid jid;
    if (!local.empty()) {
        auto enforced = enforce_localpart(local);
        if (!enforced) return std::nullopt;
        jid.local_len_ = enforced->size();
        jid.full_ = std::move(*enforced);
        jid.full_ += '@';
    }
    auto enforced_domain = enforce_domainpart(domain);
    if (!enforced_domain) return std::nullopt;
    jid.domain_len_ = enforced_domain->size();
    jid.full_ += *enforced_domain;
    if (!resource.empty()) {
        auto enforced = enforce_resourcepart(resource);
        if (!enforced) return std::nullopt;
        jid.resource_len_ = enforced->size();
        jid.full_ += '/';
        jid.full_ += *enforced;
    }
    return jid;
}

std::string_view Jid::local() const {
    return std::string_view{full_}.substr(0, local_len_);
}

std::string_view Jid::domain() const {
    return std::string_view{full_}.substr(local_len_ == 0 ? 0 : local_len_ + 1, domain_len_);
}

std::string_view Jid::resource() const {
    if (resource_len_ == 0) return {};
    return std::string_view{full_}.substr(full_.size() - resource_len_);
}

BareJid Jid::bare() const {
    Jid jid = *this;
    if (resource_len_ != 0) {
        jid.full_.resize(full_.size() - resource_len_ - 1);
        jid.resource_len_ = 0;
    }
    return BareJid{std::move(jid)};
}

std::optional<Jid> Jid::with_resource(std::string_view resource) const {
    // RFC 7622 §3.4: a resourcepart is never empty; a bare JID is bare(), not "".
    auto enforced = enforce_resourcepart(resource);
    if (!enforced) return std::nullopt;
    Jid jid = *this;
    jid.full_.resize(full_.size() - (resource_len_ == 0 ? 0 : resource_len_ + 1));
    jid.full_ += '/';
    jid.full_ += *enforced;
    jid.resource_len_ = enforced->size();
    return jid;
}

std::optional<BareJid> BareJid::parse(std::string_view text) {
    auto jid = Jid::parse(text);
    if (!jid || jid->has_resource()) return std::nullopt;
    return BareJid{std::move(*jid)};
}

}  // namespace starling::xmpp
