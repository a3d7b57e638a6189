// The scheduler inside a real `kennel server`, with fake Node objects (no
// agent: the test plays the kubelet where one is needed), driven by the real
// kubectl: anti-affinity spreading pets, the Unschedulable condition and
// event text, taints, a WaitForFirstConsumer claim's selected node, an
// extender (a small HTTP server here) filtering nodes, and preemption.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string FakeNode(const std::string& name, const std::string& cpu, const std::string& extra = "",
                     const std::string& zone = "z1") {
  return "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name +
         "\n  labels:\n    kubernetes.io/hostname: " + name +
         "\n    topology.kubernetes.io/zone: " + zone + "\n" + extra +
         "status:\n  allocatable:\n    cpu: \"" + cpu +
         "\"\n    memory: 8Gi\n    pods: \"110\"\n    kennel.io/local-storage: 20Gi\n"
         "  capacity:\n    cpu: \"" +
         cpu + "\"\n    memory: 8Gi\n    pods: \"110\"\n";
}

class SchedulerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> args = {}) {
    server_ = std::make_unique<KennelServer>(dir_.path(), "127.0.0.1:0", std::move(args));
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  std::string Ok(const std::vector<std::string>& args, const std::string& in = "") {
    return server_->KubectlOk(args, in);
  }

  json Get(const std::vector<std::string>& what) {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.insert(args.end(), {"-o", "json"});
    RunResult r = server_->Kubectl(args);
    if (r.exit_code != 0) return json();
    return json::parse(r.out, nullptr, false);
  }

  std::string NodeOf(const std::string& pod) {
    json p = Get({"pod", pod});
    return p.is_object() ? p["spec"].value("nodeName", "") : "";
  }

  // Waits until the pod is bound; returns its node ("" at the deadline).
  std::string WaitBound(const std::string& pod) {
    std::string node;
    WaitFor(
        [&] {
          node = NodeOf(pod);
          return !node.empty();
        },
        std::chrono::seconds(20));
    return node;
  }

  // The FailedScheduling message of a pod, once there is one.
  std::string WaitFailedScheduling(const std::string& pod) {
    std::string message;
    WaitFor(
        [&] {
          json events = Get(
              {"events", "--field-selector", "reason=FailedScheduling,involvedObject.name=" + pod});
          if (!events.is_object() || events["items"].empty()) return false;
          message = events["items"].back().value("message", "");
          return true;
        },
        std::chrono::seconds(20));
    return message;
  }

  TempDir dir_;
  std::unique_ptr<KennelServer> server_;
};

std::string PetPod(const std::string& name, const std::string& group, const std::string& cpu,
                   const std::string& extra_spec = "") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\n  labels:\n    app: " + group +
         "\nspec:\n  affinity:\n    podAntiAffinity:\n"
         "      requiredDuringSchedulingIgnoredDuringExecution:\n"
         "      - labelSelector:\n          matchLabels:\n            app: " +
         group + "\n        topologyKey: kubernetes.io/hostname\n" + extra_spec +
         "  containers:\n  - name: c\n    image: host\n    command: [sleep, \"3600\"]\n"
         "    resources:\n      requests:\n        cpu: " +
         cpu + "\n";
}

std::string PlainPod(const std::string& name, const std::string& cpu,
                     const std::string& extra_spec = "") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n" + extra_spec +
         "  containers:\n  - name: c\n    image: host\n    command: [sleep, \"3600\"]\n"
         "    resources:\n      requests:\n        cpu: " +
         cpu + "\n";
}

TEST_F(SchedulerTest, AntiAffinitySpreadsPetsAndTheRestIsUnschedulableWithReasons) {
  StartServer();
  for (const char* n : {"n1", "n2", "n3"}) Ok({"apply", "-f", "-"}, FakeNode(n, "4"));
  std::set<std::string> nodes;
  for (int i = 0; i < 3; ++i) {
    std::string name = "web-" + std::to_string(i);
    Ok({"apply", "-f", "-"}, PetPod(name, "web", "100m"));
    std::string node = WaitBound(name);
    ASSERT_FALSE(node.empty()) << name << " was not scheduled\n" << server_->log();
    nodes.insert(node);
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"n1", "n2", "n3"}));
  Ok({"apply", "-f", "-"}, PetPod("web-3", "web", "100m"));
  std::string message = WaitFailedScheduling("web-3");
  EXPECT_EQ(message.rfind("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity "
                          "rules.",
                          0),
            0u)
      << message;
  json pod = Get({"pod", "web-3"});
  bool condition = false;
  for (const json& c : pod["status"]["conditions"]) {
    condition = condition || (c["type"] == "PodScheduled" && c["status"] == "False" &&
                              c["reason"] == "Unschedulable" && c["message"] == message);
  }
  EXPECT_TRUE(condition) << pod.dump(2);
  EXPECT_EQ(pod["status"]["phase"], "Pending");

  // A fourth node joins: the parked pet goes there.
  Ok({"apply", "-f", "-"}, FakeNode("n4", "4"));
  EXPECT_EQ(WaitBound("web-3"), "n4");
  // Scheduled pods have their Scheduled event.
  json events = Get({"events", "--field-selector", "reason=Scheduled,involvedObject.name=web-0"});
  ASSERT_TRUE(events.is_object());
  ASSERT_FALSE(events["items"].empty());
  EXPECT_EQ(events["items"][0]["message"].get<std::string>().rfind(
                "Successfully assigned default/web-0 to ", 0),
            0u);
}

TEST_F(SchedulerTest, TaintsAndResourcesAreCountedInTheEventText) {
  StartServer();
  Ok({"apply", "-f", "-"}, FakeNode("small", "1"));
  Ok({"apply", "-f", "-"}, FakeNode("tainted", "8",
                                    "spec:\n  taints:\n  - key: dedicated\n    value: db\n"
                                    "    effect: NoSchedule\n"));
  Ok({"apply", "-f", "-"}, PlainPod("big", "2"));
  std::string message = WaitFailedScheduling("big");
  EXPECT_EQ(message,
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
            "{dedicated: db}. preemption: 0/2 nodes are available: 1 No preemption victims "
            "found for incoming pod, 1 Preemption is not helpful for scheduling.");
  // Tolerating the taint is enough.
  Ok({"apply", "-f", "-"},
     PlainPod("tolerant", "2",
              "  tolerations:\n  - key: dedicated\n    operator: Equal\n    value: db\n"
              "    effect: NoSchedule\n"));
  EXPECT_EQ(WaitBound("tolerant"), "tainted");
}

TEST_F(SchedulerTest, WaitForFirstConsumerClaimGetsTheSelectedNode) {
  StartServer();
  Ok({"apply", "-f", "-"}, FakeNode("n1", "4"));  // 20Gi of local storage each
  Ok({"apply", "-f", "-"}, FakeNode("n2", "4"));
  Ok({"apply", "-f", "-"}, R"yaml(apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
provisioner: kennel.io/local
volumeBindingMode: WaitForFirstConsumer
)yaml");
  for (const char* name : {"data-a", "data-b", "data-c"}) {
    Ok({"apply", "-f", "-"}, std::string("apiVersion: v1\nkind: PersistentVolumeClaim\n"
                                         "metadata:\n  name: ") +
                                 name +
                                 "\nspec:\n  storageClassName: local\n"
                                 "  accessModes: [ReadWriteOnce]\n"
                                 "  resources:\n    requests:\n      storage: 15Gi\n");
  }
  auto with_claim = [](const std::string& claim) {
    return "  volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: " + claim +
           "\n";
  };
  Ok({"apply", "-f", "-"}, PlainPod("a", "100m", with_claim("data-a")));
  std::string node_a = WaitBound("a");
  ASSERT_FALSE(node_a.empty()) << server_->log();
  json claim = Get({"pvc", "data-a"});
  EXPECT_EQ(claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"], node_a);
  // 15Gi of 20Gi is taken on that node: the second claim goes to the other.
  Ok({"apply", "-f", "-"}, PlainPod("b", "100m", with_claim("data-b")));
  std::string node_b = WaitBound("b");
  EXPECT_FALSE(node_b.empty());
  EXPECT_NE(node_b, node_a);
  // No node has 15Gi left.
  Ok({"apply", "-f", "-"}, PlainPod("c", "100m", with_claim("data-c")));
  EXPECT_EQ(WaitFailedScheduling("c").rfind(
                "0/2 nodes are available: 2 node(s) did not have enough free storage.", 0),
            0u);
  EXPECT_FALSE(Get({"pvc", "data-c"})["metadata"]["annotations"].contains(
      "volume.kubernetes.io/selected-node"));

  // A pod that comes before its claim (a StatefulSet creates both at once,
  // and the scheduler's watches of pods and claims race) says why it waits,
  // and is placed when the claim comes: the claim's event retries it (other
  // changes do not, and its 1 s back-off does not apply).
  Ok({"apply", "-f", "-"}, PlainPod("d", "100m", with_claim("data-d")));
  EXPECT_EQ(WaitFailedScheduling("d").rfind(
                "0/2 nodes are available: persistentvolumeclaim \"data-d\" not found.", 0),
            0u);
  Ok({"apply", "-f", "-"}, std::string("apiVersion: v1\nkind: PersistentVolumeClaim\n"
                                       "metadata:\n  name: data-d\n"
                                       "spec:\n  storageClassName: local\n"
                                       "  accessModes: [ReadWriteOnce]\n"
                                       "  resources:\n    requests:\n      storage: 1Gi\n"));
  EXPECT_FALSE(WaitBound("d").empty()) << server_->log();
}

// A scheduler extender: keeps only the nodes whose names are in `allowed`,
// saying why for the rest, and records what it was asked.
class FakeExtender {
 public:
  explicit FakeExtender(std::set<std::string> allowed) : allowed_(std::move(allowed)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeExtender() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<json> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      Handle(c);
      close(c);
    }
  }
  void Handle(int c) {
    std::string in;
    char buf[65536];
    size_t body_at = std::string::npos, length = 0;
    while (true) {
      ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      if (body_at == std::string::npos) {
        size_t end = in.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        body_at = end + 4;
        std::string headers = in.substr(0, end);
        for (auto& ch : headers) ch = static_cast<char>(std::tolower(ch));
        size_t cl = headers.find("content-length:");
        if (cl != std::string::npos) length = std::stoul(headers.substr(cl + 15));
      }
      if (in.size() >= body_at + length) break;
    }
    // kube-scheduler's ExtenderArgs and ExtenderFilterResult carry no JSON
    // tags: the keys are the Go field names.
    json args = json::parse(in.substr(body_at, length), nullptr, false);
    json result = {{"FailedNodes", json::object()}, {"Error", ""}};
    json names = json::array();
    if (args.contains("NodeNames") && args["NodeNames"].is_array()) {
      names = args["NodeNames"];
    } else if (args.contains("Nodes") && args["Nodes"].is_object()) {
      for (const json& n : args["Nodes"]["items"]) names.push_back(n["metadata"]["name"]);
    }
    json kept = json::array();
    for (const json& n : names) {
      if (allowed_.count(n.get<std::string>())) {
        kept.push_back(n);
      } else {
        result["FailedNodes"][n.get<std::string>()] = "the extender said no";
      }
    }
    result["NodeNames"] = kept;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(args);
    }
    std::string body = result.dump();
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    (void)!write(c, reply.data(), reply.size());
  }

  std::set<std::string> allowed_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<json> requests_;
};

TEST_F(SchedulerTest, ExtenderFiltersNodes) {
  FakeExtender extender({"n2"});
  std::string config = dir_.path() + "/scheduler.yaml";
  std::ofstream(config) << "apiVersion: kubescheduler.config.k8s.io/v1\n"
                           "kind: KubeSchedulerConfiguration\n"
                           "extenders:\n"
                           "- urlPrefix: http://127.0.0.1:"
                        << extender.port()
                        << "/scheduler\n"
                           "  filterVerb: filter\n"
                           "  nodeCacheCapable: true\n"
                           "  httpTimeout: 5s\n";
  StartServer({"--scheduler-config", config});
  for (const char* n : {"n1", "n2", "n3"}) Ok({"apply", "-f", "-"}, FakeNode(n, "4"));
  for (int i = 0; i < 3; ++i) {
    std::string name = "p" + std::to_string(i);
    Ok({"apply", "-f", "-"}, PlainPod(name, "100m"));
    EXPECT_EQ(WaitBound(name), "n2");
  }
  auto requests = extender.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests[0]["Pod"]["metadata"]["name"], "p0");
  EXPECT_EQ(requests[0]["NodeNames"].size(), 3u);
  // When the extender keeps no node, its reasons are counted in the message.
  Ok({"apply", "-f", "-"}, PlainPod("hungry", "3900m"));  // fits n1 and n3 only
  EXPECT_EQ(WaitFailedScheduling("hungry").rfind(
                "0/3 nodes are available: 1 Insufficient cpu, 2 the extender said no.", 0),
            0u);
}

TEST_F(SchedulerTest, ABadSchedulerConfigStopsTheServerWithAClearError) {
  std::string config = dir_.path() + "/bad.yaml";
  std::ofstream(config) << "kind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 300\n";
  RunResult r = kennel::e2e::Run({KENNEL_BINARY, "server", "--data-dir", dir_.path(), "--listen",
                                  "127.0.0.1:0", "--scheduler-config", config},
                                 "", {}, seconds(20));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("percentageOfNodesToScore"), std::string::npos) << r.err;
}

TEST_F(SchedulerTest, HighPriorityPodPreemptsALowerOne) {
  StartServer();
  Ok({"create", "priorityclass", "low", "--value=10"});
  Ok({"create", "priorityclass", "high", "--value=1000"});
  Ok({"apply", "-f", "-"}, FakeNode("only", "2"));
  for (const char* name : {"low-a", "low-b"}) {
    Ok({"apply", "-f", "-"}, PlainPod(name, "1", "  priorityClassName: low\n"));
    ASSERT_EQ(WaitBound(name), "only");
  }
  Ok({"apply", "-f", "-"}, PlainPod("urgent", "1", "  priorityClassName: high\n"));
  // One victim is deleted gracefully; the urgent pod is nominated meanwhile.
  std::string victim;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const char* name : {"low-a", "low-b"}) {
          json p = Get({"pod", name});
          if (p.is_object() && p["metadata"].contains("deletionTimestamp")) victim = name;
        }
        return !victim.empty();
      },
      seconds(20)))
      << server_->log();
  EXPECT_TRUE(WaitFor(
      [&] {
        return Get({"pod", "urgent"})["status"].value("nominatedNodeName", "") == "only";
      },
      seconds(10)));
  json events =
      Get({"events", "--field-selector", "reason=Preempted,involvedObject.name=" + victim});
  ASSERT_TRUE(events.is_object() && !events["items"].empty());
  EXPECT_NE(events["items"][0]["message"].get<std::string>().find("on node only"),
            std::string::npos);
  // The fake node has no agent: play the kubelet and finish the deletion.
  Ok({"delete", "pod", victim, "--grace-period=0", "--force"});
  EXPECT_EQ(WaitBound("urgent"), "only");
  std::string survivor = victim == "low-a" ? "low-b" : "low-a";
  EXPECT_FALSE(Get({"pod", survivor})["metadata"].contains("deletionTimestamp"));
}

}  // namespace
}  // namespace kennel::e2e
