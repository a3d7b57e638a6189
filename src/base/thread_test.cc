#include "base/thread.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace kennel {
namespace {

std::string NameOfThisThread() {
  char buf[32] = {};
  pthread_getname_np(pthread_self(), buf, sizeof buf);
  return buf;
}

TEST(NameThisThread, SetsTheName) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("store-writer");
    seen = NameOfThisThread();
  });
  t.join();
  EXPECT_EQ(seen, "store-writer");
}

TEST(NameThisThread, KeepsTheFirstFifteenBytes) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("a-name-longer-than-fifteen");
    seen = NameOfThisThread();
  });
  t.join();
  EXPECT_EQ(seen, "a-name-longer-t");
}

}  // namespace
}  // namespace kennel
