// Leader election of the control plane on the real binary: `kennel server`
// holds the Lease kube-system/kennel-control-plane and runs its controllers
// under it; a clean stop releases the lease, so the next server leads at
// once. (Two servers on one store need the etcd backend: not here yet.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = seconds(30);

json GetJson(KennelServer& server, const std::vector<std::string>& args) {
  std::vector<std::string> a = args;
  a.push_back("-o");
  a.push_back("json");
  RunResult r = server.Kubectl(a);
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

json Lease(KennelServer& server) {
  return GetJson(server, {"get", "lease", "-n", "kube-system", "kennel-control-plane"});
}

std::string Holder(KennelServer& server) {
  json lease = Lease(server);
  if (!lease.is_object()) return "";
  return lease.value("spec", json::object()).value("holderIdentity", "");
}

// Pods of the deployment `web` not being deleted: the Deployment and
// ReplicaSet controllers made them.
size_t WebPods(KennelServer& server) {
  json list = GetJson(server, {"get", "pods", "-l", "app=web"});
  if (!list.is_object()) return 0;
  size_t n = 0;
  for (const json& p : list.value("items", json::array())) {
    if (!p["metadata"].contains("deletionTimestamp")) ++n;
  }
  return n;
}

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return host;
}

TEST(LeaderElection, TheServerHoldsTheLeaseAndItsControllersReconcile) {
  TempDir dir;
  // Short durations, given as Kubernetes' flags write them. On the embedded
  // store election is off unless asked for.
  KennelServer server(dir.path(), "127.0.0.1:0",
                      {"--leader-elect", "--leader-elect-lease-duration=3s",
                       "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period", "500ms"});
  const auto start = Clock::now();
  ASSERT_TRUE(server.Start()) << server.log();

  // A single server finds no lease and takes it at once.
  ASSERT_TRUE(WaitFor([&] { return !Holder(server).empty(); }, kDeadline)) << server.log();
  const auto led = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::printf("kennel server: start to lease held (as seen by kubectl): %lld ms\n",
              static_cast<long long>(led.count()));
  const std::string first = Holder(server);
  EXPECT_EQ(first.rfind(HostName() + "_", 0), 0u) << first;
  std::string table = server.KubectlOk({"get", "lease", "-n", "kube-system"});
  EXPECT_NE(table.find("HOLDER"), std::string::npos) << table;
  EXPECT_NE(table.find("kennel-control-plane"), std::string::npos) << table;
  EXPECT_NE(table.find(first), std::string::npos) << table;
  json lease = Lease(server);
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 3) << lease.dump(2);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0) << lease.dump(2);
  const std::string renewed = lease["spec"].value("renewTime", "");
  EXPECT_FALSE(renewed.empty()) << lease.dump(2);
  // It keeps renewing, every retry period.
  EXPECT_TRUE(
      WaitFor([&] { return Lease(server)["spec"].value("renewTime", "") != renewed; }, seconds(5)));

  // The controllers run under the elector: a Deployment gets its pods.
  server.KubectlOk({"create", "deployment", "web", "--image=host", "--replicas=2"});
  EXPECT_TRUE(WaitFor([&] { return WebPods(server) == 2; }, kDeadline)) << server.log();
  EXPECT_NE(server.log().find("became leader"), std::string::npos) << server.log();

  // A clean stop releases the lease: the next server leads at once rather
  // than after the lease duration, and counts a transition.
  ASSERT_EQ(server.Stop(), 0) << server.log();
  KennelServer again(dir.path(), "127.0.0.1:0",
                     {"--leader-elect=true", "--leader-elect-lease-duration=30s"});
  const auto restart = Clock::now();
  ASSERT_TRUE(again.Start()) << again.log();
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string holder = Holder(again);
        return !holder.empty() && holder != first;
      },
      kDeadline))
      << again.log();
  EXPECT_LT(Clock::now() - restart, seconds(15)) << "the new server waited for the old lease";
  EXPECT_EQ(Lease(again)["spec"]["leaseTransitions"], 1);
  again.KubectlOk({"scale", "deployment", "web", "--replicas=3"});
  EXPECT_TRUE(WaitFor([&] { return WebPods(again) == 3; }, kDeadline)) << again.log();
  EXPECT_EQ(again.Stop(), 0) << again.log();
}

TEST(LeaderElection, OnTheEmbeddedStoreTheControllersRunWithoutALeaseByDefault) {
  // One server alone can open the embedded store: nobody to elect among, and
  // a restart after kill -9 must not wait out the dead server's lease.
  TempDir dir;
  KennelServer server(dir.path(), "127.0.0.1:0");
  ASSERT_TRUE(server.Start()) << server.log();
  server.KubectlOk({"create", "deployment", "web", "--image=host", "--replicas=1"});
  EXPECT_TRUE(WaitFor([&] { return WebPods(server) == 1; }, kDeadline)) << server.log();
  RunResult get = server.Kubectl({"get", "lease", "-n", "kube-system", "kennel-control-plane"});
  EXPECT_NE(get.exit_code, 0);
  EXPECT_NE(get.err.find("NotFound"), std::string::npos) << get.err;
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

TEST(LeaderElection, InconsistentDurationsAreRefusedBeforeTheServerStarts) {
  TempDir dir;
  RunResult r = kennel::e2e::Run({KENNEL_BINARY, "server", "--data-dir", dir.path(), "--listen",
                                  "127.0.0.1:0", "--leader-elect-renew-deadline=20s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the renew deadline (20s) must be shorter than the lease duration (15s)"),
            std::string::npos)
      << r.err;
  r = kennel::e2e::Run({KENNEL_BINARY, "server", "--data-dir", dir.path(), "--listen",
                        "127.0.0.1:0", "--leader-elect-retry-period=2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--leader-elect-retry-period: missing unit in duration \"2\""),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace kennel::e2e
