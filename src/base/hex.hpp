#pragma once
#include <string>
#include <string_view>

namespace starling::hex {

std::string encode(std::string_view bytes);

}  // namespace starling::hex
