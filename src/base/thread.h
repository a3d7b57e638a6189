// Naming threads, so that top -H, perf and gdb say which of the server's
// threads is busy (the store's writer, an API I/O thread, an informer…)
// instead of showing one name for all.
#pragma once

#include <string_view>

namespace kennel {

// Names the calling thread; Linux keeps the first 15 bytes.
void NameThisThread(std::string_view name);

}  // namespace kennel
