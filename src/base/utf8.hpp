#pragma once
// UTF-8 validation (RFC 3629 §4): no overlong forms, surrogates or code points above
// U+10FFFF. SASL fields (RFC 4616, RFC 5802) additionally refuse NUL.
#include <string_view>

namespace starling::utf8 {

bool is_valid(std::string_view bytes, bool allow_nul = true);

}  // namespace starling::utf8
