#pragma once
// XEP-0059 Result Set Management: what page of an ordered result a request's <set/> asks
// for, and the <set/> that describes the page sent. Used by PubSub items (XEP-0060 §6.5.4);
// the message archive (XEP-0313) pages the same way.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "xml/element.hpp"

namespace starling::xmpp {

inline constexpr std::string_view rsm_ns = "http://jabber.org/protocol/rsm";

struct PageRequest {
    std::optional<std::size_t> max;     // <max/>
    std::optional<std::string> after;   // <after>id</after>: the page after that item
    std::optional<std::string> before;  // <before>id</before>; empty (<before/>): the last page
    std::optional<std::size_t> index;   // <index/> (§2.4): a page from that position
};

// What a <set xmlns='http://jabber.org/protocol/rsm'/> asks; an error text when it is malformed.
Result<PageRequest, std::string> page_request(const xml::Element& set);

// The items [begin, end) of a result of `count` items, in their order.
struct Page {
    std::size_t begin = 0;
    std::size_t end = 0;
};

// The page `request` selects, at most `most` items long whatever <max/> says; `position`
// finds an item's place by its id. nullopt: <after/> or <before/> names no item (§2.6:
// item-not-found).
std::optional<Page> select_page(const PageRequest& request, std::size_t count, std::size_t most,
                                const std::function<std::optional<std::size_t>(std::string_view)>& position);

// <set xmlns='http://jabber.org/protocol/rsm'> with <first index/> and <last/> (when the page
// has items, whose ids those are) and <count/>.
xml::Element page_answer(const Page& page, std::string_view first, std::string_view last, std::size_t count);

}  // namespace starling::xmpp
