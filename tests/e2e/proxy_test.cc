// The service proxy on `kennel up`: a Service's cluster IP (and node port)
// reaches its ready endpoints from the node and from inside pods, balanced,
// and follows Endpoints changes; a service with no endpoint refuses at once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include "harness.h"
#include "up_cluster.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

struct Dialled {
  int error = 0;     // errno of connect, 0 when connected
  std::string text;  // what the server wrote before closing
};

// Connects to ip:port and reads until the server closes, within `timeout`.
Dialled Dial(const std::string& ip, int port, milliseconds timeout = milliseconds(2000)) {
  Dialled d;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  const auto deadline = Clock::now() + timeout;
  auto left = [&] {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    d.error = errno;
  } else {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, left()) != 1) {
      d.error = ETIMEDOUT;
    } else {
      socklen_t len = sizeof d.error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &d.error, &len);
    }
  }
  while (d.error == 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left()) != 1) break;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    d.text.append(buf, n);
  }
  ::close(fd);
  return d;
}

// A pod serving its own name on 8080 to every connection.
const char* kEchoPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: NAME
  labels: {app: echo}
spec:
  nodeName: NODE
  containers:
  - name: echo
    image: host
    command: ["perl", "-MIO::Socket::INET", "-e", "$| = 1; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 16, ReuseAddr => 1) or die qq(listen: $!); while (my $c = $s->accept) { print $c qq(NAME\n); close $c; }"]
)";

class ProxyTest : public UpClusterTest {
 protected:
  void SetUp() override {
    UpClusterTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Distinct per test cluster: nftables rules are the machine's, shared by
    // every test cluster running at once.
    service_ip_ = "10.96." + std::to_string(slot_.number() + 2) + ".10";
    node_port_ = 30000 + slot_.number();
    for (const std::string name : {"echo-a", "echo-b"}) {
      std::string manifest = kEchoPod;
      for (size_t at; (at = manifest.find("NAME")) != std::string::npos;)
        manifest.replace(at, 4, name);
      Apply(manifest);
    }
    for (const std::string name : {"echo-a", "echo-b"}) {
      json pod = WaitPod(name, [](const json& p) { return Phase(p, "Running"); });
      ip_[name] = pod["status"].value("podIP", "");
      ASSERT_FALSE(ip_[name].empty());
      // Running is not listening yet: wait for the server itself.
      ASSERT_TRUE(WaitFor([&] { return Dial(ip_[name], 8080).text == name + "\n"; }, seconds(10)));
    }
  }

  // A selector-less Service with hand-written Endpoints, so the test controls
  // exactly which addresses are ready.
  void ApplyService(const std::string& type, const std::vector<std::string>& ready) {
    json svc = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata", {{"name", "echo"}}},
        {"spec",
         {{"type", type},
          {"clusterIP", service_ip_},
          {"ports", json::array({{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}})}}}};
    if (type == "NodePort") svc["spec"]["ports"][0]["nodePort"] = node_port_;
    json addresses = json::array();
    for (const auto& name : ready) addresses.push_back({{"ip", ip_[name]}});
    json subsets = json::array();
    if (!ready.empty()) {
      subsets.push_back(
          {{"addresses", addresses}, {"ports", json::array({{{"name", "http"}, {"port", 8080}}})}});
    }
    json ep = {{"apiVersion", "v1"},
               {"kind", "Endpoints"},
               {"metadata", {{"name", "echo"}}},
               {"subsets", subsets}};
    server_->KubectlOk({"apply", "-f", "-"}, svc.dump());
    server_->KubectlOk({"apply", "-f", "-"}, ep.dump());
  }

  // What answered `rounds` connections in a row to ip:port ("" for a
  // connection that got no answer).
  std::set<std::string> Answers(const std::string& ip, int port, int rounds) {
    std::set<std::string> seen;
    for (int i = 0; i < rounds; ++i) seen.insert(Dial(ip, port).text);
    return seen;
  }

  std::string Gateway() {
    // The node bridge's address: the pod CIDR's first host, as local to the node.
    const std::string& a = ip_["echo-a"];
    return a.substr(0, a.rfind('.')) + ".1";
  }

  std::string service_ip_;
  int node_port_ = 0;
  std::map<std::string, std::string> ip_;
};

TEST_F(ProxyTest, ClusterIpBalancesFollowsEndpointsAndRefusesWhenEmpty) {
  ApplyService("ClusterIP", {"echo-a", "echo-b"});
  // From the node: both endpoints answer, at random.
  std::set<std::string> both = {"echo-a\n", "echo-b\n"};
  std::set<std::string> seen;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& s : Answers(service_ip_, 80, 10)) {
          if (!s.empty()) seen.insert(s);  // rules still on their way
        }
        return seen == both;
      },
      seconds(10)))
      << "seen " << seen.size() << " answers\n"
      << kennel::e2e::Run({"nft", "list", "ruleset"}).out << server_->log();

  // From inside a pod, including the hairpin case (a pod reaching itself).
  std::string dial = "my $c = IO::Socket::INET->new(PeerAddr => qq(" + service_ip_ +
                     ":80), Timeout => 5) or die qq(connect: $!); print scalar <$c>;";
  std::set<std::string> from_pod;
  std::vector<std::string> tried;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r =
            server_->Kubectl({"exec", "echo-a", "--", "perl", "-MIO::Socket::INET", "-e", dial});
        tried.push_back(std::to_string(r.exit_code) + ":" + r.out + r.err);
        if (r.exit_code == 0) from_pod.insert(r.out);
        return from_pod == both;
      },
      seconds(20)))
      << "from the pod, attempts: " << testing::PrintToString(tried);

  // One endpoint leaves: within a second only the other answers.
  ApplyService("ClusterIP", {"echo-b"});
  auto changed = Clock::now();  // the Endpoints write is acknowledged
  ASSERT_TRUE(
      WaitFor([&] { return Answers(service_ip_, 80, 5) == std::set<std::string>{"echo-b\n"}; },
              seconds(5)));
  EXPECT_LT(Clock::now() - changed, seconds(1)) << "the proxy took over a second to follow";

  // No endpoint: refused at once, not a timeout.
  ApplyService("ClusterIP", {});
  ASSERT_TRUE(WaitFor([&] { return Dial(service_ip_, 80).error == ECONNREFUSED; }, seconds(5)));
  auto started = Clock::now();
  EXPECT_EQ(Dial(service_ip_, 80).error, ECONNREFUSED);
  EXPECT_LT(Clock::now() - started, milliseconds(500));
}

TEST_F(ProxyTest, NodePortReachesEndpointsOnTheNodesAddress) {
  ApplyService("NodePort", {"echo-a"});
  ASSERT_TRUE(WaitFor([&] { return Dial(Gateway(), node_port_).text == "echo-a\n"; }, seconds(10)))
      << kennel::e2e::Run({"nft", "list", "ruleset"}).out;
  // The cluster IP works as well.
  EXPECT_EQ(Dial(service_ip_, 80).text, "echo-a\n");
}

// The whole path a pet's client takes: cluster DNS (served on the node
// bridge, named in the pod's resolv.conf), a cluster IP the API server
// allocated, Endpoints the endpoints controller keeps, and the proxy.
TEST_F(ProxyTest, APodReachesAServiceByName) {
  server_->KubectlOk({"create", "service", "clusterip", "greeter", "--tcp=80:8080"});
  // kubectl's generator selects app=greeter: point it at the echo pods.
  server_->KubectlOk({"set", "selector", "service", "greeter", "app=echo"});
  std::string ip =
      server_->KubectlOk({"get", "service", "greeter", "-o", "jsonpath={.spec.clusterIP}"});
  ASSERT_NE(ip.rfind("10.96.", 0), std::string::npos) << ip;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = server_->Kubectl(
            {"get", "endpoints", "greeter", "-o", "jsonpath={.subsets[*].addresses[*].ip}"});
        return r.exit_code == 0 && r.out.find(ip_["echo-a"]) != std::string::npos &&
               r.out.find(ip_["echo-b"]) != std::string::npos;
      },
      seconds(10)));
  for (const std::string name :
       {"greeter", "greeter.default", "greeter.default.svc.cluster.local"}) {
    std::string dial = "my $c = IO::Socket::INET->new(PeerAddr => qq(" + name +
                       ":80), Timeout => 5) or die qq(connect: $!); print scalar <$c>;";
    std::string last;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto r =
              server_->Kubectl({"exec", "echo-b", "--", "perl", "-MIO::Socket::INET", "-e", dial});
          last = r.out + r.err;
          return r.exit_code == 0 && (r.out == "echo-a\n" || r.out == "echo-b\n");
        },
        seconds(15)))
        << name << ": " << last << "\nresolv.conf: "
        << server_->Kubectl({"exec", "echo-b", "--", "cat", "/etc/resolv.conf"}).out;
  }
}

}  // namespace
}  // namespace kennel::e2e
