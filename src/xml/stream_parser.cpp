#include "xml/stream_parser.hpp"

#include "xml/writer.hpp"

#include <dlfcn.h>
#include <expat.h>

#include <algorithm>
#include <cstring>
#include <strings.h>
#include <utility>

namespace starling::xml {

namespace {

constexpr char separator = ' ';  // namespace URIs cannot contain a space
constexpr std::string_view xml_ns = "http://www.w3.org/XML/1998/namespace";
// An unfinished token this short is cheap to re-scan on every read; see token_outlook().
constexpr long long short_token_bytes = 32;

struct QName {
    std::string_view uri;
    std::string_view local;
    std::string_view prefix;
};

// expat with namespace triplets: "uri local prefix", "uri local" or "local".
QName split(const XML_Char* name) {
    std::string_view s{name};
    auto sp = s.find(separator);
    if (sp == std::string_view::npos) return {{}, s, {}};
    QName q{s.substr(0, sp), s.substr(sp + 1), {}};
    if (auto sp2 = q.local.find(separator); sp2 != std::string_view::npos) {
        q.prefix = q.local.substr(sp2 + 1);
        q.local = q.local.substr(0, sp2);
    }
    return q;
}

std::string attribute_name(const XML_Char* raw) {
    QName q = split(raw);
    if (q.uri.empty()) return std::string(q.local);
    if (q.uri == xml_ns) return "xml:" + std::string(q.local);
    return "{" + std::string(q.uri) + "}" + std::string(q.local);
}

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string_view describe(ParseError error) {
    switch (error) {
        case ParseError::not_well_formed: return "not well-formed";
        case ParseError::restricted_xml: return "restricted XML (DTD, entity, PI or comment)";
        case ParseError::bad_namespace_prefix: return "undeclared namespace prefix";
        case ParseError::unsupported_encoding: return "encoding other than UTF-8";
        case ParseError::too_large: return "element over the size limit";
        case ParseError::too_deep: return "elements nested too deeply";
        case ParseError::nested_root: return "stream header inside the stream";
    }
    return "parse error";
}

struct StreamParser::ExpatParser {
    XML_Parser p = nullptr;
    ~ExpatParser() {
        if (p) XML_ParserFree(p);
    }
};

struct StreamParser::Callbacks {
    static StreamParser& self(void* data) { return *static_cast<StreamParser*>(data); }
    static XML_Index index(StreamParser& s) { return XML_GetCurrentByteIndex(s.expat_->p); }
    static XML_Index end_of_token(StreamParser& s) {
        return XML_GetCurrentByteIndex(s.expat_->p) + XML_GetCurrentByteCount(s.expat_->p);
    }

    static void start(void* data, const XML_Char* name, const XML_Char** atts) {
        StreamParser& s = self(data);
        if (s.failed_) return;
        ++s.depth_;
        if (s.depth_ > s.limits_.max_depth) return s.fail(ParseError::too_deep);
        QName q = split(name);
        Element element{std::string(q.local), std::string(q.uri)};
        for (int i = 0; atts[i]; i += 2) element.set_attribute(attribute_name(atts[i]), atts[i + 1]);

        if (s.depth_ == 1) {
            if (static_cast<std::size_t>(end_of_token(s)) > s.limits_.max_header_bytes + static_cast<std::size_t>(s.boundary_))
                return s.fail(ParseError::too_large);
            s.boundary_ = end_of_token(s);
            if (s.reviving_) return;  // the stand-in header of a released parser
            s.root_name_ = element.name();
            s.root_ns_ = element.xmlns();
            s.root_qname_ = q.prefix.empty() ? std::string(q.local) : std::string(q.prefix) + ":" + std::string(q.local);
            s.emit(StreamEvent{StreamEvent::Kind::opened, std::move(element), s.default_ns_});
            return;
        }
        if (s.depth_ == 2) {
            if (element.name() == s.root_name_ && element.xmlns() == s.root_ns_)
                return s.fail(ParseError::nested_root);
            s.element_start_ = index(s);
            s.building_ = std::move(element);
            s.open_.assign(1, &s.building_);
            return;
        }
        s.open_.push_back(&s.open_.back()->add_child(std::move(element)));
    }

    static void end(void* data, const XML_Char*) {
        StreamParser& s = self(data);
        if (s.failed_) return;
        std::size_t depth = s.depth_--;
        if (depth == 1) {
            s.boundary_ = end_of_token(s);
            s.emit(StreamEvent{StreamEvent::Kind::closed, {}, {}});
        } else if (depth == 2) {
            XML_Index end = end_of_token(s);
            if (static_cast<std::size_t>(end - s.element_start_) > s.limits_.max_element_bytes)
                return s.fail(ParseError::too_large);
            s.boundary_ = end;
            s.element_start_ = -1;
            s.open_.clear();
            s.emit(StreamEvent{StreamEvent::Kind::element, std::move(s.building_), {}});
            s.building_ = Element{};
        } else {
            s.open_.pop_back();
        }
    }

    static void characters(void* data, const XML_Char* text, int len) {
        StreamParser& s = self(data);
        if (s.failed_) return;
        std::string_view t{text, static_cast<std::size_t>(len)};
        if (s.depth_ <= 1) {
            // RFC 6120 §11.7: only whitespace may appear between top-level elements.
            if (!std::all_of(t.begin(), t.end(), is_xml_space)) return s.fail(ParseError::not_well_formed);
            s.boundary_ = end_of_token(s);
            return;
        }
        s.open_.back()->add_text(t);
    }

    static void cdata_start(void* data) {
        StreamParser& s = self(data);
        if (s.depth_ <= 1) s.fail(ParseError::not_well_formed);
    }

    static void namespace_start(void* data, const XML_Char* prefix, const XML_Char* uri) {
        StreamParser& s = self(data);
        if (s.depth_ != 0 || s.reviving_) return;
        if (prefix == nullptr) s.default_ns_ = uri ? uri : "";
        s.root_declarations_.push_back({prefix ? prefix : "", uri ? uri : ""});
    }

    // RFC 6120 §11.1: no comments, PIs, DTDs or entity declarations, ever.
    static void comment(void* data, const XML_Char*) { self(data).fail(ParseError::restricted_xml); }
    static void processing_instruction(void* data, const XML_Char*, const XML_Char*) {
        self(data).fail(ParseError::restricted_xml);
    }
    static void doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
        self(data).fail(ParseError::restricted_xml);
    }
    static void entity_decl(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                            const XML_Char*, const XML_Char*, const XML_Char*) {
        self(data).fail(ParseError::restricted_xml);
    }
    static void xml_decl(void* data, const XML_Char*, const XML_Char* encoding, int) {
        // RFC 6120 §11.6: UTF-8 only.
        if (encoding && strcasecmp(encoding, "UTF-8") != 0) self(data).fail(ParseError::unsupported_encoding);
    }
};

StreamParser::StreamParser(ParserLimits limits) : limits_{limits} { create(); }
StreamParser::~StreamParser() = default;

void StreamParser::make_expat() {
    expat_ = std::make_unique<ExpatParser>();
    XML_Parser p = XML_ParserCreateNS("UTF-8", separator);
    expat_->p = p;
    XML_SetReturnNSTriplet(p, XML_TRUE);
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, &Callbacks::start, &Callbacks::end);
    XML_SetCharacterDataHandler(p, &Callbacks::characters);
    XML_SetStartCdataSectionHandler(p, &Callbacks::cdata_start);
    XML_SetStartNamespaceDeclHandler(p, &Callbacks::namespace_start);
    XML_SetCommentHandler(p, &Callbacks::comment);
    XML_SetProcessingInstructionHandler(p, &Callbacks::processing_instruction);
    XML_SetStartDoctypeDeclHandler(p, &Callbacks::doctype);
    XML_SetEntityDeclHandler(p, &Callbacks::entity_decl);
    XML_SetXmlDeclHandler(p, &Callbacks::xml_decl);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    // The parser defers by itself (token_outlook()); expat's own deferral must be off.
#if STARLING_EXPAT_HAS_REPARSE_DEFERRAL
    XML_SetReparseDeferralEnabled(p, XML_FALSE);
#else
    // Built against a header without it, but the library loaded may be newer (a security
    // update installed after the build) and defer by default: look for it at run time.
    using SetDeferral = XML_Bool (*)(XML_Parser, XML_Bool);
    static const auto set_deferral =
        reinterpret_cast<SetDeferral>(dlsym(RTLD_DEFAULT, "XML_SetReparseDeferralEnabled"));
    if (set_deferral) set_deferral(p, XML_FALSE);
#endif
}

void StreamParser::create() {
    make_expat();
    root_declarations_.clear();
    root_qname_.clear();
    reviving_ = false;
    pending_.clear();
    queued_.clear();
    unparsed_.clear();
    pending_base_ = 0;
    unparsed_base_ = 0;
    token_start_ = 0;
    token_scanned_ = 0;
    token_quote_ = 0;
    prolog_ = Prolog::outside;
    prolog_scanned_ = 0;
    prolog_quote_ = 0;
    suspended_ = false;
    failed_ = false;
    event_.reset();
    depth_ = 0;
    element_start_ = -1;
    boundary_ = 0;
    open_.clear();
    building_ = Element{};
    default_ns_.clear();
    root_name_.clear();
    root_ns_.clear();
}

void StreamParser::fail(ParseError error) {
    if (failed_) return;
    failed_ = true;
    event_ = StreamEvent{StreamEvent::Kind::error, {}, {}, error};
    XML_StopParser(expat_->p, XML_FALSE);
}

void StreamParser::emit(StreamEvent event) {
    event_ = std::move(event);
    XML_StopParser(expat_->p, XML_TRUE);
}

void StreamParser::feed(std::string_view bytes) {
    if (failed_ || bytes.empty()) return;
    // expat may hold a pointer into pending_ while suspended; never reallocate it under it.
    queued_.append(bytes);
    unparsed_.append(bytes);
}

std::size_t StreamParser::current_limit() const {
    return depth_ == 0 ? limits_.max_header_bytes : limits_.max_element_bytes;
}

bool StreamParser::release() {
    if (!expat_ || failed_ || suspended_ || depth_ != 1 || !queued_.empty() || !pending_.empty() ||
        boundary_ != pending_base_)
        return false;
    expat_.reset();
    std::string{}.swap(pending_);
    std::string{}.swap(queued_);
    std::string{}.swap(unparsed_);
    unparsed_base_ = boundary_;
    building_ = Element{};
    open_ = {};
    return true;
}

// A released parser is rebuilt in the state it was in: inside the root element, with the
// root's namespace declarations in scope. A stand-in header re-creates them; byte indexes
// then continue from its end.
void StreamParser::revive() {
    make_expat();
    std::string header = "<" + root_qname_;
    for (const auto& [prefix, uri] : root_declarations_) {
        header += prefix.empty() ? " xmlns='" : " xmlns:" + prefix + "='";
        escape_attribute(header, uri);
        header += '\'';
    }
    header += '>';
    depth_ = 0;
    boundary_ = 0;
    reviving_ = true;
    XML_Parse(expat_->p, header.data(), static_cast<int>(header.size()), XML_FALSE);
    reviving_ = false;
    auto end = static_cast<long long>(header.size());
    pending_base_ = unparsed_base_ = boundary_ = token_start_ = token_scanned_ = end;
    token_quote_ = 0;
    element_start_ = -1;
}

std::optional<StreamEvent> StreamParser::next() {
    if (!expat_ && !queued_.empty() && !failed_) revive();
    while (!failed_) {
        XML_Status status;
        if (suspended_) {
            suspended_ = false;
            status = XML_ResumeParser(expat_->p);
        } else if (!queued_.empty()) {
            unparsed_.erase(0, static_cast<std::size_t>(boundary_ - unparsed_base_));
            unparsed_base_ = boundary_;
            if (!prolog_is_well_formed()) {
                failed_ = true;
                return StreamEvent{StreamEvent::Kind::error, {}, {}, ParseError::not_well_formed};
            }
            TokenOutlook outlook = token_outlook();
            if (outlook == TokenOutlook::restricted) {
                failed_ = true;
                return StreamEvent{StreamEvent::Kind::error, {}, {}, ParseError::restricted_xml};
            }
            if (outlook == TokenOutlook::unfinished) {
                // Held back, not parsed: the bytes still count against the limit.
                if (static_cast<std::size_t>(pending_base_ + static_cast<long long>(queued_.size()) - boundary_) >
                    current_limit()) {
                    failed_ = true;
                    return StreamEvent{StreamEvent::Kind::error, {}, {}, ParseError::too_large};
                }
                return std::nullopt;
            }
            // expat is done with pending_ (it copies an unfinished token into its own buffer).
            pending_.swap(queued_);
            status = XML_Parse(expat_->p, pending_.data(), static_cast<int>(pending_.size()), XML_FALSE);
        } else {
            return std::nullopt;
        }

        if (status == XML_STATUS_SUSPENDED) {
            suspended_ = true;
            return std::exchange(event_, std::nullopt);
        }
        if (status == XML_STATUS_ERROR) {
            if (!failed_) {
                failed_ = true;
                auto code = XML_GetErrorCode(expat_->p);
                ParseError e = code == XML_ERROR_UNBOUND_PREFIX       ? ParseError::bad_namespace_prefix
                               : code == XML_ERROR_INCORRECT_ENCODING ? ParseError::unsupported_encoding
                               : code == XML_ERROR_UNKNOWN_ENCODING   ? ParseError::unsupported_encoding
                                                                      : ParseError::not_well_formed;
                event_ = StreamEvent{StreamEvent::Kind::error, {}, {}, e};
            }
            return std::exchange(event_, std::nullopt);
        }
        // All of pending_ consumed. Anything expat holds back is an unfinished token or
        // element: cut it off at the limit rather than wait for its end.
        pending_base_ += static_cast<long long>(pending_.size());
        pending_.clear();
        if (pending_.capacity() > 16 * 1024) std::string{}.swap(pending_);  // idle sessions stay small
        // Outside a handler this is where expat's unfinished token starts (the end of the
        // input if there is none); it stays put while expat defers.
        if (XML_Index start = XML_GetCurrentByteIndex(expat_->p); start >= 0 && start != token_start_) {
            token_start_ = start;
            token_scanned_ = start;
            token_quote_ = 0;
        }
        if (static_cast<std::size_t>(pending_base_ - boundary_) > current_limit()) {
            failed_ = true;
            return StreamEvent{StreamEvent::Kind::error, {}, {}, ParseError::too_large};
        }
        if (event_) return std::exchange(event_, std::nullopt);
        // Bytes fed while expat was suspended are parsed before reporting "nothing yet".
    }
    return std::nullopt;
}

// expat re-scans an unfinished token from its start on every XML_Parse call, so a long token
// fed a byte at a time would cost quadratic time (CVE-2023-52425). Expat >= 2.6 and Debian's
// later 2.5.0 backports defer re-parsing until the buffered bytes double, but that also holds
// back a stanza whose last bytes arrive in a small read, and the client may send no more; and
// Debian 12's first 2.5.0 has no deferral at all. So the parser defers by itself, the same way
// on every expat: expat's own deferral is off (make_expat), and while expat holds a long
// unfinished token, new bytes are only handed over once a '>' or ';' outside quotes arrives,
// which ends a tag or a reference or makes it an error. Each byte is scanned here once.
// A short token, or none, is always handed over (cheap to re-scan). 'restricted' is a comment
// or processing instruction, refused (RFC 6120 §11.1) before expat sees its end, which could
// be far away.
StreamParser::TokenOutlook StreamParser::token_outlook() {
    long long end = unparsed_base_ + static_cast<long long>(unparsed_.size());
    // pending_base_ is the end of what expat has seen; it holds [token_start_, pending_base_).
    bool eager = depth_ == 0 || token_start_ < unparsed_base_ ||
                 pending_base_ - token_start_ <= short_token_bytes;
    if (eager) return TokenOutlook::may_end;
    std::string_view token = std::string_view(unparsed_).substr(static_cast<std::size_t>(token_start_ - unparsed_base_));
    if (token.starts_with("<?") || token.starts_with("<!--")) return TokenOutlook::restricted;
    bool may_end = false;
    for (; token_scanned_ < end; ++token_scanned_) {
        char c = unparsed_[static_cast<std::size_t>(token_scanned_ - unparsed_base_)];
        if (token_quote_) {
            if (c == token_quote_) token_quote_ = 0;
        } else if (c == '\'' || c == '"') {
            token_quote_ = c;
        } else if (c == '>' || c == ';') {
            may_end = true;
        }
    }
    return may_end ? TokenOutlook::may_end : TokenOutlook::unfinished;
}

// Before the stream header only whitespace, the XML declaration and the header itself may
// come (RFC 6120 §11.1 leaves no DOCTYPE, comment or PI). Checked here, byte by byte as they
// arrive, because expat reads stray quotes there as the start of a literal and judges its
// bytes differently depending on how they were split (a fuzzer found a stream that failed
// when fed whole and waited forever when fed a byte at a time).
bool StreamParser::prolog_is_well_formed() {
    long long end = unparsed_base_ + static_cast<long long>(unparsed_.size());
    for (; prolog_ != Prolog::done && prolog_scanned_ < end; ++prolog_scanned_) {
        char c = unparsed_[static_cast<std::size_t>(prolog_scanned_ - unparsed_base_)];
        switch (prolog_) {
            case Prolog::outside:
                if (c == '<') prolog_ = Prolog::opened;
                else if (prolog_scanned_ < 3 && c == "\xEF\xBB\xBF"[prolog_scanned_]) continue;  // a BOM
                else if (!is_xml_space(c)) return false;
                continue;
            case Prolog::opened:
                prolog_ = c == '?' ? Prolog::declaration : Prolog::root_tag;
                break;
            default: break;
        }
        if (prolog_quote_) {
            if (c == prolog_quote_) prolog_quote_ = 0;
        } else if (c == '\'' || c == '"') {
            prolog_quote_ = c;
        } else if (c == '>') {
            prolog_ = prolog_ == Prolog::declaration ? Prolog::outside : Prolog::done;
        }
    }
    return true;
}

// Everything after the last event or whitespace between stanzas: the next stream's first
// bytes (after SASL) or bytes to discard (after STARTTLS, RFC 6120 §5.3.3).
// Whitespace right after the last element still belongs to the old stream (RFC 6120 §11.7),
// and carried over it would put the next stream's XML declaration off the start of its
// document, which is not well-formed: go-xmpp writes "</auth>\n", then "<?xml ...?>".
std::string StreamParser::reset() {
    std::string_view rest = std::string_view(unparsed_).substr(static_cast<std::size_t>(boundary_ - unparsed_base_));
    while (!rest.empty() && is_xml_space(rest.front())) rest.remove_prefix(1);
    std::string next_stream{rest};
    create();
    return next_stream;
}

}  // namespace starling::xml
