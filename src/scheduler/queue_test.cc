#include "scheduler/queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace kennel::scheduler {
namespace {

std::shared_ptr<const PodInfo> P(const std::string& name, int64_t priority = 0,
                                 const std::string& image = "a") {
  json pod = {
      {"metadata", {{"name", name}, {"namespace", "ns"}}},
      {"spec", {{"priority", priority}, {"containers", {{{"name", "c"}, {"image", image}}}}}}};
  return CompilePod(pod);
}

SchedulingQueue::Options Fast() {
  SchedulingQueue::Options o;
  o.initial_backoff = std::chrono::milliseconds(20);
  o.max_backoff = std::chrono::milliseconds(40);
  return o;
}

TEST(SchedulingQueueTest, HighestPriorityFirstThenArrivalOrder) {
  SchedulingQueue q;
  q.Add(P("a", 0));
  q.Add(P("b", 100));
  q.Add(P("c", 0));
  q.Add(P("d", 100));
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) order.push_back(q.Pop()->name);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "d", "a", "c"}));
}

TEST(SchedulingQueueTest, UnschedulablePodsWaitForAClusterChange) {
  SchedulingQueue q(Fast());
  q.Add(P("a"));
  auto a = q.Pop();
  q.Unschedulable("ns/a");
  EXPECT_EQ(q.ParkedLen(), 1u);
  // Our own status write (no spec change) does not wake it.
  q.Add(P("a"));
  EXPECT_EQ(q.ParkedLen(), 1u);
  EXPECT_EQ(q.ActiveLen(), 0u);
  q.MoveAllToActive();
  EXPECT_EQ(q.ParkedLen(), 0u);
  // It comes back once its back-off (20 ms) is over: Pop waits for it.
  auto again = q.Pop();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->name, "a");
  q.Done("ns/a");
}

TEST(SchedulingQueueTest, ASpecChangeRetriesAtOnce) {
  SchedulingQueue q(Fast());
  q.Add(P("a"));
  q.Pop();
  q.Unschedulable("ns/a");
  q.Add(P("a", 0, "b"));
  EXPECT_EQ(q.ActiveLen(), 1u);
}

TEST(SchedulingQueueTest, AChangeDuringTheCycleIsNotMissed) {
  SchedulingQueue q(Fast());
  q.Add(P("a"));
  q.Pop();
  q.MoveAllToActive();  // e.g. a node joined while the pod was being tried
  q.Unschedulable("ns/a");
  EXPECT_EQ(q.ParkedLen(), 0u);
  EXPECT_EQ(q.BackoffLen(), 1u);
  EXPECT_EQ(q.Pop()->name, "a");
}

// A pod whose claim the scheduler has not seen yet waits for a claim event,
// without the back-off of a failed attempt (the default 1 s here), and other
// changes in the cluster do not retry it.
TEST(SchedulingQueueTest, APodAwaitingItsClaimIsRetriedOnTheClaimsEventWithoutBackOff) {
  SchedulingQueue q;  // 1 s initial back-off
  q.Add(P("a"));
  q.Pop();
  q.AwaitClaim("ns/a");
  EXPECT_EQ(q.ParkedLen(), 1u);
  q.MoveAllToActive();  // a node or pod changed: no help to it
  EXPECT_EQ(q.ParkedLen(), 1u);
  EXPECT_EQ(q.BackoffLen(), 0u);
  q.ClaimChanged();
  EXPECT_EQ(q.ActiveLen(), 1u);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.Pop()->name, "a");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  // A claim event during the cycle: tried again at once.
  q.ClaimChanged();
  q.AwaitClaim("ns/a");
  EXPECT_EQ(q.ActiveLen(), 1u);
  EXPECT_EQ(q.Pop()->name, "a");
  // An ordinary failure after that still backs off.
  q.Unschedulable("ns/a");
  q.MoveAllToActive();
  EXPECT_EQ(q.BackoffLen(), 1u);
}

TEST(SchedulingQueueTest, DeleteAndShutDown) {
  SchedulingQueue q;
  q.Add(P("a"));
  q.Delete("ns/a");
  EXPECT_EQ(q.ActiveLen(), 0u);
  std::thread t([&] { EXPECT_EQ(q.Pop(), nullptr); });
  q.ShutDown();
  t.join();
}

}  // namespace
}  // namespace kennel::scheduler
