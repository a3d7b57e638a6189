// A highly available control plane: a real 3-member etcd cluster on loopback
// and two `kennel server`s on it sharing one identity (--token). Objects
// written through one server are read and watched through the other; the
// leader server is killed and the other takes over the controllers; one etcd
// member dies and writes go on; quorum is lost and writes fail cleanly, then
// recover; every acknowledged write reads back at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "store/testing/etcd_process.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr char kToken[] = "ha-test-cluster-token";
// Short leader election, so the test sees a takeover quickly; the same
// proportions as Kubernetes' 15 s / 10 s / 2 s.
constexpr int kLeaseSeconds = 4;
const std::vector<std::string> kElectionFlags = {"--leader-elect-lease-duration", "4s",
                                                 "--leader-elect-renew-deadline", "3s",
                                                 "--leader-elect-retry-period",   "500ms"};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::string StatefulSet(int replicas) {
  return R"(apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  podManagementPolicy: Parallel
  replicas: )" +
         std::to_string(replicas) + R"(
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: host, command: [sleep, infinity]}
)";
}

class HaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::testing::EtcdClusterOptions options;
    options.members = 3;
    auto etcd = store::testing::EtcdCluster::Start(options);
    ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
    etcd_ = std::move(etcd).value();
    servers_.push_back(NewServer(dir_a_.path(), kToken));
    ASSERT_TRUE(servers_[0]->Start()) << servers_[0]->log();
    servers_.push_back(NewServer(dir_b_.path(), kToken));
    ASSERT_TRUE(servers_[1]->Start()) << servers_[1]->log();
  }

  std::unique_ptr<KennelServer> NewServer(const std::string& dir, const std::string& token) {
    std::vector<std::string> args = {"--etcd-endpoints", Join(etcd_->client_urls()), "--token",
                                     token};
    args.insert(args.end(), kElectionFlags.begin(), kElectionFlags.end());
    return std::make_unique<KennelServer>(dir, "127.0.0.1:0", args);
  }

  // The server whose log says it leads, -1 when none does (yet).
  int Leader() {
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (!servers_[i]->running()) continue;
      std::string log = servers_[i]->log();
      size_t became = log.rfind("became leader");
      size_t lost = log.rfind("lost leadership");
      if (became != std::string::npos && (lost == std::string::npos || lost < became)) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  // POSTs a ConfigMap through server; its HTTP code (0 when none came).
  int CreateConfigMap(KennelServer& server, const std::string& name, std::string* body = nullptr) {
    RunResult r =
        server.Curl({"-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                     server.url() + "/api/v1/namespaces/default/configmaps", "-d",
                     R"({"metadata":{"name":")" + name + R"("},"data":{"k":"v"}})"});
    size_t nl = r.out.rfind('\n');
    if (body) *body = r.out.substr(0, nl == std::string::npos ? 0 : nl);
    return nl == std::string::npos ? 0 : std::atoi(r.out.c_str() + nl + 1);
  }

  TempDir dir_a_, dir_b_;
  std::unique_ptr<store::testing::EtcdCluster> etcd_;
  std::vector<std::unique_ptr<KennelServer>> servers_;
};

TEST_F(HaTest, TwoServersShareOneIdentityAndAWrongTokenIsRefused) {
  KennelServer& a = *servers_[0];
  KennelServer& b = *servers_[1];
  // A's admin kubeconfig (its CA, its token) works against B as it is.
  TempDir cache;
  RunResult r = e2e::Run({"kubectl", "--kubeconfig", a.kubeconfig(), "--server", b.url(), "get",
                          "namespace", "kube-system", "-o", "name"},
                         "", {"KUBECACHEDIR=" + cache.path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "namespace/kube-system\n");
  EXPECT_EQ(a.token(), b.token());

  TempDir dir_c;
  auto wrong = NewServer(dir_c.path(), "not-the-token");
  EXPECT_FALSE(wrong->Start());
  EXPECT_NE(wrong->log().find("token does not match"), std::string::npos) << wrong->log();
}

TEST_F(HaTest, ServersFailOverAndNoAcknowledgedWriteIsLost) {
  KennelServer& a = *servers_[0];
  KennelServer& b = *servers_[1];
  std::vector<std::string> acknowledged;
  auto must_create = [&](KennelServer& server, const std::string& name) {
    std::string body;
    int code = CreateConfigMap(server, name, &body);
    ASSERT_EQ(code, 201) << name << ": " << body;
    acknowledged.push_back(name);
  };

  // A StatefulSet created through A is seen through B's watch and list.
  BackgroundProcess watch({"kubectl", "--kubeconfig", b.kubeconfig(), "get", "statefulsets",
                           "--watch", "--output-watch-events", "-o", "name"},
                          {"KUBECACHEDIR=" + dir_b_.path() + "/watch-cache"});
  ASSERT_EQ(a.Kubectl({"apply", "-f", "-"}, StatefulSet(2)).exit_code, 0);
  EXPECT_TRUE(watch.WaitForOutput("statefulset.apps/web", seconds(20))) << watch.output();
  ASSERT_TRUE(WaitFor(
      [&] {
        return b.Kubectl({"get", "pod", "web-0", "web-1", "-o", "name"}).exit_code == 0;
      },
      seconds(30)))
      << a.log() << b.log();
  must_create(a, "through-a");
  must_create(b, "through-b");

  // The leader dies; the other server takes the controllers over within the
  // lease duration (plus a retry period) and the set keeps reconciling.
  int leader = -1;
  ASSERT_TRUE(WaitFor([&] { return (leader = Leader()) >= 0; }, seconds(20)));
  KennelServer& dead = *servers_[leader];
  KennelServer& alive = *servers_[1 - leader];
  dead.Kill9();
  auto killed_at = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return Leader() == 1 - leader; }, seconds(3 * kLeaseSeconds)))
      << alive.log();
  auto takeover = std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at);
  RecordProperty("takeover_ms", static_cast<int>(takeover.count()));
  EXPECT_LE(takeover.count(), kLeaseSeconds * 1000 + 500 + 1000) << "takeover took too long";
  ASSERT_EQ(alive.Kubectl({"scale", "statefulset", "web", "--replicas=4"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return alive.Kubectl({"get", "pod", "web-2", "web-3", "-o", "name"}).exit_code == 0;
      },
      seconds(20)))
      << alive.log();

  // One etcd member of three dies: writes go on. If it led etcd, writes in
  // flight while the others elect a new leader may time out (504, outcome
  // unknown): a client retries them, as this one does.
  etcd_->Kill(0);
  for (int i = 0; i < 5; ++i) {
    const std::string name = "one-member-down-" + std::to_string(i);
    int code = 0;
    std::string body;
    ASSERT_TRUE(WaitFor(
        [&] {
          code = CreateConfigMap(alive, name, &body);
          return code != 503 && code != 504;
        },
        seconds(30)))
        << name << ": " << body;
    // 409: an earlier attempt whose outcome was unknown had been applied.
    ASSERT_TRUE(code == 201 || code == 409) << name << ": " << code << " " << body;
    if (code == 201) acknowledged.push_back(name);
  }

  // A second one dies: no quorum. Writes fail with a clear Status, promptly.
  etcd_->Kill(1);
  auto started = Clock::now();
  std::string body;
  int code = CreateConfigMap(alive, "no-quorum", &body);
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  EXPECT_TRUE(code == 503 || code == 504) << code << " " << body;
  EXPECT_NE(body.find("\"kind\":\"Status\""), std::string::npos) << body;
  EXPECT_LT(took.count(), 15'000);
  // Quorum back: writes succeed again.
  ASSERT_TRUE(etcd_->Restart(0).ok());
  ASSERT_TRUE(etcd_->Restart(1).ok());
  ASSERT_TRUE(etcd_->WaitAllHealthy(seconds(30)).ok());
  ASSERT_TRUE(WaitFor([&] { return CreateConfigMap(alive, "after-quorum") == 201; }, seconds(30)))
      << alive.log();
  acknowledged.push_back("after-quorum");

  // Every acknowledged write is there. ("no-quorum" may or may not be: its
  // outcome was unknown, which is why it was not acknowledged.)
  json list = json::parse(alive.KubectlOk({"get", "configmaps", "-o", "json"}), nullptr, false);
  ASSERT_TRUE(list.is_object());
  std::set<std::string> present;
  for (const json& item : list["items"]) present.insert(item["metadata"].value("name", ""));
  for (const std::string& name : acknowledged) EXPECT_TRUE(present.count(name)) << name;
}

}  // namespace
}  // namespace kennel::e2e
