// Small string helpers shared by flags and URLs lists.
#pragma once

#include <string>
#include <vector>

namespace kennel {

// "a,b,,c" → {"a", "b", "c"}: the items of a comma-separated list, empty ones
// dropped (a trailing comma in a flag is not an item).
std::vector<std::string> SplitCommaList(const std::string& text);

}  // namespace kennel
