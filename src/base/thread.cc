#include "base/thread.h"

#include <pthread.h>

#include <string>

namespace kennel {

void NameThisThread(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

}  // namespace kennel
