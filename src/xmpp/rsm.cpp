#include "xmpp/rsm.hpp"

#include <algorithm>

#include "base/number.hpp"

namespace starling::xmpp {

Result<PageRequest, std::string> page_request(const xml::Element& set_element) {
    const xml::Element* set = &set_element;
    PageRequest request;
    if (const xml::Element* max = set->find_child("max", rsm_ns)) {
        if (!(request.max = parse_number<std::size_t>(max->text()))) return Failure{std::string("<max/> is a number")};
    }
    if (const xml::Element* index = set->find_child("index", rsm_ns)) {
        if (!(request.index = parse_number<std::size_t>(index->text()))) return Failure{std::string("<index/> is a number")};
    }
    if (const xml::Element* after = set->find_child("after", rsm_ns)) {
        if (after->text().empty()) return Failure{std::string("<after/> names an item")};
        request.after = after->text();
    }
    if (const xml::Element* before = set->find_child("before", rsm_ns)) request.before = before->text();
    if (request.after && request.before) return Failure{std::string("<after/> or <before/>, not both")};
    return request;
}

std::optional<Page> select_page(const PageRequest& request, std::size_t count, std::size_t most,
                                const std::function<std::optional<std::size_t>(std::string_view)>& position) {
    std::size_t max = std::min(request.max.value_or(most), most);
    Page page;
    if (request.after) {
        auto at = position(*request.after);
        if (!at) return std::nullopt;
        page.begin = *at + 1;
        page.end = std::min(count, page.begin + max);
    } else if (request.before) {
        std::size_t end = count;  // <before/>: the last page (§2.5)
        if (!request.before->empty()) {
            auto at = position(*request.before);
            if (!at) return std::nullopt;
            end = *at;
        }
        page.end = end;
        page.begin = end > max ? end - max : 0;
    } else {
        page.begin = std::min(request.index.value_or(0), count);
        page.end = std::min(count, page.begin + max);
    }
    return page;
}

xml::Element page_answer(const Page& page, std::string_view first, std::string_view last, std::size_t count) {
    xml::Element set{"set", std::string(rsm_ns)};
    if (page.end > page.begin) {
        set.add_child("first", std::string(rsm_ns)).set_attribute("index", std::to_string(page.begin)).add_text(first);
        set.add_child("last", std::string(rsm_ns)).add_text(last);
    }
    set.add_child("count", std::string(rsm_ns)).add_text(std::to_string(count));
    return set;
}

}  // namespace starling::xmpp
