#include "client/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace kennel::client {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(WorkQueueTest, DeduplicatesQueuedKeys) {
  WorkQueue q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
  q.Done("a");
  q.Done("b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedAfterDone) {
  WorkQueue q;
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  q.Add("a");  // changed again while a worker handles it
  q.Add("a");
  EXPECT_EQ(q.Len(), 0u) << "a second worker must not get a key being processed";
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AddAfterReleasesInDeadlineOrder) {
  WorkQueue q;
  auto start = Clock::now();
  q.AddAfter("late", milliseconds(150));
  q.AddAfter("early", milliseconds(50));
  q.Add("now");
  EXPECT_EQ(q.Len(), 1u);  // delayed keys are not ready yet
  EXPECT_EQ(q.Get(), "now");
  EXPECT_EQ(q.Get(), "early");
  EXPECT_GE(Clock::now() - start, milliseconds(50));
  EXPECT_EQ(q.Get(), "late");
  EXPECT_GE(Clock::now() - start, milliseconds(150));
}

TEST(WorkQueueTest, AddAfterKeepsEarlierDeadline) {
  WorkQueue q;
  auto start = Clock::now();
  q.AddAfter("k", milliseconds(20));
  q.AddAfter("k", milliseconds(10000));
  EXPECT_EQ(q.Get(), "k");
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  q.Done("k");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, GetWakesForAnEarlierDelayedKey) {
  WorkQueue q;
  q.AddAfter("far", milliseconds(60000));
  auto got = std::async(std::launch::async, [&] { return q.Get(); });
  // Whether the getter is already sleeping until "far" or not, "near" must
  // come out long before.
  q.AddAfter("near", milliseconds(10));
  ASSERT_EQ(got.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(got.get(), "near");
  q.ShutDown();
}

TEST(WorkQueueTest, RateLimiterGrowsPerKeyAndForgetResets) {
  WorkQueue q;
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(5));
  q.AddRateLimited("a");
  EXPECT_EQ(q.NumRequeues("a"), 1);
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(10));
  q.AddRateLimited("a");
  q.AddRateLimited("a");
  EXPECT_EQ(q.NumRequeues("a"), 3);
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(40));
  EXPECT_EQ(q.NextBackoff("b"), milliseconds(5)) << "back-off is per key";
  for (int i = 0; i < 40; ++i) q.AddRateLimited("a");
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(1000 * 1000)) << "capped at 1000 s";
  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
  EXPECT_EQ(q.NextBackoff("a"), milliseconds(5));
  // The first rate-limited add (5 ms) is handed out.
  EXPECT_EQ(q.Get(), "a");
}

TEST(WorkQueueTest, ShutDownUnblocksGet) {
  WorkQueue q;
  auto got = std::async(std::launch::async, [&] { return q.Get(); });
  EXPECT_EQ(got.wait_for(milliseconds(50)), std::future_status::timeout);
  q.ShutDown();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(got.get(), std::nullopt);
  EXPECT_TRUE(q.ShuttingDown());
  q.Add("x");
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueueTest, WorkersNeverShareAKey) {
  WorkQueue q;
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlap{false};
  std::atomic<int> handled{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        if (in_flight.fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        in_flight.fetch_sub(1);
        ++handled;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.Add("same");
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while ((q.Len() > 0 || handled == 0) && Clock::now() < deadline) std::this_thread::yield();
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap);
  EXPECT_GE(handled.load(), 1);
}

}  // namespace
}  // namespace kennel::client
