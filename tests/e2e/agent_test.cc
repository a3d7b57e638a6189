// `kennel agent` joining a `kennel server` over HTTPS with the URL and token
// only: the node registers, gets a pod CIDR, keeps its Lease, runs a pod, and
// kubectl's logs and exec reach it through the server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

TEST(AgentTest, JoinsAServerAndRunsItsPods) {
  if (geteuid() != 0) GTEST_SKIP() << "pods need root for namespaces";
  NetworkSlot slot;
  TempDir server_dir, agent_dir;
  const std::string node = "remote-" + std::to_string(getpid());
  const std::string bridge = "ka" + std::to_string(getpid());
  KennelServer server(server_dir.path(), "127.0.0.1:0", {"--cluster-cidr", slot.ClusterCidr()});
  ASSERT_TRUE(server.Start()) << server.log();

  BackgroundProcess agent(
      {KENNEL_BINARY, "agent", "--server", server.url(), "--token", server.token(), "--node-name",
       node, "--data-dir", agent_dir.path(), "--bridge", bridge},
      {}, /*merge_stderr=*/true);
  if (!agent.WaitForOutput("joined", seconds(30))) {
    if (agent.output().find("cannot isolate pods") != std::string::npos) {
      GTEST_SKIP() << agent.output();
    }
    FAIL() << agent.output() << server.log();
  }

  auto get = [&](const std::vector<std::string>& args) {
    auto r = server.Kubectl(args);
    return r.exit_code == 0 ? json::parse(r.out, nullptr, false) : json();
  };
  json n = get({"get", "node", node, "-o", "json"});
  ASSERT_TRUE(n.is_object()) << agent.output();
  EXPECT_FALSE(n["spec"].value("podCIDR", "").empty()) << n.dump(2);
  EXPECT_GT(n["status"]["daemonEndpoints"]["kubeletEndpoint"].value("Port", 0), 0);
  for (const char* resource :
       {"cpu", "memory", "pods", "ephemeral-storage", "kennel.io/local-storage"}) {
    EXPECT_TRUE(n["status"]["capacity"].contains(resource)) << resource;
    EXPECT_TRUE(n["status"]["allocatable"].contains(resource)) << resource;
  }
  json lease = get({"get", "lease", "-n", "kube-node-lease", node, "-o", "json"});
  ASSERT_TRUE(lease.is_object());
  EXPECT_EQ(lease["spec"]["holderIdentity"], node);
  EXPECT_FALSE(lease["spec"].value("renewTime", "").empty());

  std::string manifest = R"(apiVersion: v1
kind: Pod
metadata:
  name: far
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "echo from the remote node; exec sleep 1000"]
)";
  manifest.replace(manifest.find("NODE"), 4, node);
  ASSERT_EQ(server.Kubectl({"apply", "-f", "-"}, manifest).exit_code, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        json p = get({"get", "pod", "far", "-o", "json"});
        return p.is_object() && p["status"].value("phase", "") == "Running";
      },
      seconds(30)))
      << agent.output();
  auto logs = server.Kubectl({"logs", "far"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "from the remote node\n");
  auto exec = server.Kubectl({"exec", "far", "--", "hostname"});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_EQ(exec.out, "far\n");

  // The agent stops its pod for a delete, then the pod is gone.
  auto del = server.Kubectl({"delete", "pod", "far", "--timeout=30s"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_TRUE(agent.Terminate(seconds(20))) << agent.output();
  EXPECT_EQ(server.Stop(), 0);
  kennel::e2e::Run({"ip", "link", "del", bridge});
  // A bare agent leaves its service proxy's table in place for its next
  // start (services keep working meanwhile); the test cleans up after it.
  kennel::e2e::Run({"nft", "delete", "table", "ip", "kennel_proxy_" + bridge});
  // So does its node's (empty) cgroup, under cgroup v2 or v1's hierarchies.
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"}) {
    std::string dir = std::string(root) + "/kennel/" + node;
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) ADD_FAILURE() << "rmdir " << dir;
  }
}

TEST(AgentTest, RefusesToJoinWithAWrongToken) {
  TempDir server_dir, agent_dir;
  KennelServer server(server_dir.path());
  ASSERT_TRUE(server.Start()) << server.log();
  auto r = kennel::e2e::Run({KENNEL_BINARY, "agent", "--server", server.url(), "--token", "wrong",
                             "--data-dir", agent_dir.path(), "--isolation", "none"},
                            "", {}, seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Unauthorized"), std::string::npos) << r.err;
}

TEST(AgentTest, WithoutRootItRefusesToStartAndSaysWhatIsMissing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to drop to another user";
  TempDir server_dir, agent_dir;
  KennelServer server(server_dir.path());
  ASSERT_TRUE(server.Start()) << server.log();
  auto r = kennel::e2e::Run(
      {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", KENNEL_BINARY, "agent",
       "--server", server.url(), "--token", server.token(), "--data-dir", agent_dir.path()},
      "", {}, seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not running as root"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--isolation=none"), std::string::npos) << r.err;
}

TEST(AgentTest, IsolationNoneRunsPlainHostProcesses) {
  TempDir dir;
  const std::string node = "plain-" + std::to_string(getpid());
  KennelServer up(dir.path(), "127.0.0.1:0", {"--isolation", "none", "--node-name", node}, "up");
  ASSERT_TRUE(up.Start()) << up.log();
  std::string manifest = R"yaml(apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "echo ran as $$(id -u)"]
)yaml";
  manifest.replace(manifest.find("NODE"), 4, node);
  ASSERT_EQ(up.Kubectl({"apply", "-f", "-"}, manifest).exit_code, 0);
  json pod;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = up.Kubectl({"get", "pod", "plain", "-o", "json"});
        pod = r.exit_code == 0 ? json::parse(r.out, nullptr, false) : json();
        return pod.is_object() && pod["status"].value("phase", "") == "Succeeded";
      },
      seconds(30)))
      << pod.dump(2) << up.log();
  // No namespaces: the pod has the host's address.
  EXPECT_EQ(pod["status"]["podIP"], pod["status"]["hostIP"]);
  auto logs = up.Kubectl({"logs", "plain"});
  EXPECT_EQ(logs.out, "ran as " + std::to_string(geteuid()) + "\n") << logs.err;
  EXPECT_EQ(up.Stop(), 0);
}

}  // namespace
}  // namespace kennel::e2e
