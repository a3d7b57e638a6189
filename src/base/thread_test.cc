#include "base/thread.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace kennel {
namespace {

// The name a new thread reads back after naming itself `name`.
std::string NameAfterNaming(const char* name) {
  std::string seen;
  std::thread t([&] {
    NameThisThread(name);
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    seen = buf;
  });
  t.join();
  return seen;
}

TEST(NameThisThread, SetsTheName) { EXPECT_EQ(NameAfterNaming("store-writer"), "store-writer"); }

TEST(NameThisThread, KeepsTheFirstFifteenBytes) {
  EXPECT_EQ(NameAfterNaming("a-name-longer-than-fifteen"), "a-name-longer-t");
}

}  // namespace
}  // namespace kennel
