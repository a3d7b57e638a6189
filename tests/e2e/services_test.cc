// Services through the real kubectl against a real `kennel server` (no
// agent): cluster IP and node port allocation with Kubernetes' answers, the
// kubernetes Service, Endpoints that follow pods (bound to a node that does
// not exist; their status is written as an agent would, through /status),
// and allocations that survive a restart.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The controller answers within moments; the deadline only bounds a failure.
constexpr auto kDeadline = std::chrono::seconds(20);

// The whitespace-separated words of each line of kubectl's table output.
std::vector<std::vector<std::string>> Rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> row;
    std::string word;
    while (words >> word) row.push_back(word);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

// Concatenation with += (GCC 12 warns falsely on "lit" + std::string).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

bool InCidr(const std::string& ip, const std::string& network, int prefix) {
  in_addr a{}, n{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1 || inet_pton(AF_INET, network.c_str(), &n) != 1) {
    return false;
  }
  uint32_t mask = ~(0xffffffffu >> prefix);
  return (ntohl(a.s_addr) & mask) == (ntohl(n.s_addr) & mask);
}

const char* kWeb = R"(apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels:
    app: web
spec:
  nodeName: fake-node
  containers:
  - name: main
    image: host
    ports:
    - name: http
      containerPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  labels:
    app: web
spec:
  nodeName: fake-node
  containers:
  - name: main
    image: host
    ports:
    - name: http
      containerPort: 8080
)";

const char* kDb = R"(apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector:
    app: db
  ports:
  - name: pg
    port: 5432
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  labels:
    app: db
spec:
  nodeName: fake-node
  hostname: db-0
  subdomain: db
  containers:
  - name: main
    image: host
)";

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(dir_.path(), {}); }

  void StartServer(const std::string& dir, std::vector<std::string> extra_args) {
    server_ = std::make_unique<KennelServer>(dir, "127.0.0.1:0", std::move(extra_args));
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  std::string Ok(const std::vector<std::string>& args, const std::string& in = "") {
    return server_->KubectlOk(args, in);
  }

  // kubectl that must fail; returns stderr.
  std::string Fails(const std::vector<std::string>& args) {
    RunResult r = server_->Kubectl(args);
    EXPECT_NE(r.exit_code, 0) << "kubectl " << testing::PrintToString(args) << " succeeded:\n"
                              << r.out;
    return r.err;
  }

  // A jsonpath of an object, "" when kubectl fails (say, not there yet).
  std::string Path(const std::string& resource, const std::string& name, const std::string& path) {
    RunResult r = server_->Kubectl({"get", resource, name, "-o", Cat("jsonpath=", path)});
    return r.exit_code == 0 ? r.out : "";
  }

  // Writes a pod's status as its agent would: IP, Running, Ready or not.
  void SetPodStatus(const std::string& pod, const std::string& ip, bool ready) {
    json status = {{"status",
                    {{"phase", "Running"},
                     {"podIP", ip},
                     {"podIPs", {{{"ip", ip}}}},
                     {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
    Ok({"patch", "pod", pod, "--subresource=status", "--type=merge", "-p", status.dump()});
  }

  // Waits until the Endpoints' ready and not-ready IPs read as given
  // (space-separated, as jsonpath prints them).
  bool WaitForEndpoints(const std::string& name, const std::string& ready,
                        const std::string& not_ready) {
    return WaitFor(
        [&] {
          return Path("endpoints", name, "{.subsets[*].addresses[*].ip}") == ready &&
                 Path("endpoints", name, "{.subsets[*].notReadyAddresses[*].ip}") == not_ready;
        },
        kDeadline);
  }

  TempDir dir_;
  std::unique_ptr<KennelServer> server_;
};

TEST_F(ServicesTest, CreatedServiceShowsItsClusterIpAndKubernetesHasTheFirst) {
  Ok({"create", "service", "clusterip", "foo", "--tcp=80:8080"});
  std::vector<std::vector<std::string>> rows = Rows(Ok({"get", "svc"}));
  ASSERT_GE(rows.size(), 3u);
  ASSERT_EQ(rows[0][2], "CLUSTER-IP");
  std::string foo_ip;
  for (const auto& row : rows) {
    if (row[0] == "kubernetes") {
      EXPECT_EQ(row[2], "10.96.0.1");
      EXPECT_EQ(row[4], "443/TCP");
    }
    if (row[0] == "foo") foo_ip = row[2];
  }
  EXPECT_TRUE(InCidr(foo_ip, "10.96.0.0", 16)) << foo_ip;
  EXPECT_NE(foo_ip, "10.96.0.1");
  EXPECT_EQ(Path("svc", "foo", "{.spec.clusterIPs[0]}"), foo_ip);
  EXPECT_EQ(Path("svc", "foo", "{.spec.ipFamilies[0]} {.spec.ipFamilyPolicy}"), "IPv4 SingleStack");

  // The kubernetes Endpoints are the API server's address and port.
  std::string port = server_->url().substr(server_->url().rfind(':') + 1);
  EXPECT_EQ(Path("endpoints", "kubernetes", "{.subsets[0].addresses[0].ip}"), "127.0.0.1");
  EXPECT_EQ(Path("endpoints", "kubernetes", "{.subsets[0].ports[0].port}"), port);
  EXPECT_EQ(Path("svc", "kubernetes", "{.spec.ports[0].targetPort}"), port);
}

TEST_F(ServicesTest, RequestedAddressesAreCheckedAndFreedOnDelete) {
  Ok({"create", "service", "clusterip", "a", "--clusterip=10.96.0.10", "--tcp=80:80"});
  EXPECT_EQ(Path("svc", "a", "{.spec.clusterIP}"), "10.96.0.10");
  std::string err =
      Fails({"create", "service", "clusterip", "b", "--clusterip=10.96.0.10", "--tcp=80:80"});
  EXPECT_NE(err.find("Service \"b\" is invalid: spec.clusterIPs: Invalid value: "
                     "[]string{\"10.96.0.10\"}: failed to allocate IP 10.96.0.10: provided IP is "
                     "already allocated"),
            std::string::npos)
      << err;
  err = Fails({"create", "service", "clusterip", "c", "--clusterip=1.2.3.4", "--tcp=80:80"});
  EXPECT_NE(err.find("provided IP is not in the valid range. The range of valid IPs is "
                     "10.96.0.0/16"),
            std::string::npos)
      << err;
  err =
      Fails({"patch", "svc", "a", "--type=merge", "-p", R"({"spec":{"clusterIP":"10.96.0.11"}})"});
  EXPECT_NE(err.find("spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change "
                     "once set"),
            std::string::npos)
      << err;
  // Replacing it with a manifest that has no address keeps the address.
  Ok({"replace", "-f", "-"},
     "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: 81\n");
  EXPECT_EQ(Path("svc", "a", "{.spec.clusterIP} {.spec.ports[0].port}"), "10.96.0.10 81");

  Ok({"delete", "svc", "a"});
  Ok({"create", "service", "clusterip", "b", "--clusterip=10.96.0.10", "--tcp=80:80"});
  EXPECT_EQ(Path("svc", "b", "{.spec.clusterIP}"), "10.96.0.10");
}

TEST_F(ServicesTest, NodePortsAreAllocatedCheckedAndFreed) {
  Ok({"create", "service", "nodeport", "np", "--tcp=80:8080"});
  std::string node_port = Path("svc", "np", "{.spec.ports[0].nodePort}");
  ASSERT_FALSE(node_port.empty());
  int n = std::stoi(node_port);
  EXPECT_GE(n, 30000);
  EXPECT_LE(n, 32767);
  std::vector<std::vector<std::string>> rows = Rows(Ok({"get", "svc", "np"}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "NodePort");
  EXPECT_EQ(rows[1][4], Cat("80:", node_port, "/TCP"));

  std::string err = Fails(
      {"create", "service", "nodeport", "np2", "--tcp=81:81", Cat("--node-port=", node_port)});
  EXPECT_NE(err.find(Cat("spec.ports[0].nodePort: Invalid value: ", node_port,
                         ": provided port is already allocated")),
            std::string::npos)
      << err;
  err = Fails({"create", "service", "nodeport", "np3", "--tcp=81:81", "--node-port=8080"});
  EXPECT_NE(err.find("spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the "
                     "valid range. The range of valid ports is 30000-32767"),
            std::string::npos)
      << err;

  Ok({"delete", "svc", "np"});
  Ok({"create", "service", "nodeport", "np2", "--tcp=81:81", Cat("--node-port=", node_port)});
  EXPECT_EQ(Path("svc", "np2", "{.spec.ports[0].nodePort}"), node_port);
}

TEST_F(ServicesTest, EndpointsFollowPodsBecomingReadyUnreadyAndDeleted) {
  Ok({"apply", "-f", "-"}, kWeb);
  ASSERT_TRUE(
      WaitFor([&] { return !Path("endpoints", "web", "{.metadata.name}").empty(); }, kDeadline));
  SetPodStatus("web-1", "10.244.1.5", true);
  SetPodStatus("web-2", "10.244.1.6", false);
  ASSERT_TRUE(WaitForEndpoints("web", "10.244.1.5", "10.244.1.6"))
      << Ok({"get", "endpoints", "web", "-o", "yaml"});
  // The named target port resolved from the pods.
  EXPECT_EQ(Path("endpoints", "web", "{.subsets[0].ports[0].name}:{.subsets[0].ports[0].port}"),
            "http:8080");
  EXPECT_EQ(Path("endpoints", "web", "{.subsets[0].addresses[0].targetRef.name}"), "web-1");
  EXPECT_EQ(Path("endpoints", "web", "{.subsets[0].addresses[0].nodeName}"), "fake-node");
  std::vector<std::vector<std::string>> rows = Rows(Ok({"get", "endpoints", "web"}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "10.244.1.5:8080");

  SetPodStatus("web-2", "10.244.1.6", true);
  ASSERT_TRUE(WaitForEndpoints("web", "10.244.1.5 10.244.1.6", ""));
  SetPodStatus("web-1", "10.244.1.5", false);
  ASSERT_TRUE(WaitForEndpoints("web", "10.244.1.6", "10.244.1.5"));

  // Deleting a pod on a node marks it terminating (its agent would stop it):
  // it leaves the Endpoints at once.
  Ok({"delete", "pod", "web-2", "--wait=false"});
  ASSERT_TRUE(WaitForEndpoints("web", "", "10.244.1.5"));
  Ok({"delete", "pod", "web-1", "web-2", "--grace-period=0", "--force"});
  ASSERT_TRUE(WaitForEndpoints("web", "", ""));
  Ok({"delete", "svc", "web"});
  ASSERT_TRUE(WaitFor(
      [&] {
        return server_->Kubectl({"get", "endpoints", "web"}).exit_code != 0;
      },
      kDeadline));
}

TEST_F(ServicesTest, HeadlessServiceEndpointsCarryPodHostnames) {
  Ok({"apply", "-f", "-"}, kDb);
  EXPECT_EQ(Path("svc", "db", "{.spec.clusterIP}"), "None");
  SetPodStatus("db-0", "10.244.2.7", true);
  ASSERT_TRUE(WaitForEndpoints("db", "10.244.2.7", ""));
  EXPECT_EQ(Path("endpoints", "db", "{.subsets[0].addresses[0].hostname}"), "db-0");
  EXPECT_EQ(Path("endpoints", "db", "{.subsets[0].ports[0].port}"), "5432");
}

TEST_F(ServicesTest, AllocationsSurviveARestart) {
  // A fresh cluster on a /29: .1 is the kubernetes Service's, .2 to .6 are
  // for the others.
  server_->Stop();
  TempDir dir;
  StartServer(dir.path(), {"--service-cidr", "10.100.0.0/29"});
  EXPECT_EQ(Path("svc", "kubernetes", "{.spec.clusterIP}"), "10.100.0.1");
  std::set<std::string> ips = {"10.100.0.1"};
  for (const char* name : {"a", "b", "c"}) {
    Ok({"create", "service", "clusterip", name, "--tcp=80:80"});
    ips.insert(Path("svc", name, "{.spec.clusterIP}"));
  }
  server_->Stop();
  StartServer(dir.path(), {"--service-cidr", "10.100.0.0/29"});
  for (const char* name : {"d", "e"}) {
    Ok({"create", "service", "clusterip", name, "--tcp=80:80"});
    std::string ip = Path("svc", name, "{.spec.clusterIP}");
    EXPECT_TRUE(InCidr(ip, "10.100.0.0", 29)) << ip;
    EXPECT_TRUE(ips.insert(ip).second) << ip << " was given twice";
  }
  EXPECT_EQ(ips.size(), 6u);
  std::string err = Fails({"create", "service", "clusterip", "f", "--tcp=80:80"});
  EXPECT_NE(err.find("range is full"), std::string::npos) << err;
  server_->Stop();  // before its data directory goes
}

}  // namespace
}  // namespace kennel::e2e
