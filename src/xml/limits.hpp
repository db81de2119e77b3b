#pragma once
#include <cstddef>

namespace starling::xml {

struct ParserLimits {
    // Bytes of one top-level element (stanza), counted from its '<' to the end of its end tag.
    std::size_t max_element_bytes = 256 * 1024;
    // Bytes of the stream header itself.
    std::size_t max_header_bytes = 4 * 1024;
    // Element nesting, counting the stream root as depth 1.
    std::size_t max_depth = 64;
};

}  // namespace starling::xml
