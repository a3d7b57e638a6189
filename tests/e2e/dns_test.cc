// Cluster DNS end to end: `kennel server --dns-listen 127.0.0.1:0`, objects
// made with the real kubectl, questions asked with the real dig (dnsutils).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "up_cluster.h"

namespace kennel::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kManifests[] = R"(
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  clusterIP: 10.96.0.50
  ports:
  - {name: http, port: 80, protocol: TCP}
  - {name: metrics, port: 9090, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  ports:
  - {name: http, port: 80}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets:
- addresses:
  - {ip: 10.244.0.5, hostname: web-0}
  - {ip: 10.244.0.6, hostname: web-1}
  notReadyAddresses:
  - {ip: 10.244.0.7, hostname: web-2}
  ports:
  - {name: http, port: 8080, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata: {name: peers}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
  - {name: gossip, port: 7946}
---
apiVersion: v1
kind: Endpoints
metadata: {name: peers}
subsets:
- addresses:
  - {ip: 10.244.1.2, hostname: peers-0}
  notReadyAddresses:
  - {ip: 10.244.1.3, hostname: peers-1}
  ports:
  - {name: gossip, port: 7946}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: ExternalName
  externalName: db.example.com
)";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// dig's record lines with runs of whitespace made single spaces.
std::vector<std::string> Records(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(text)) {
    if (line[0] == ';') continue;
    std::istringstream words(line);
    std::string word, joined;
    while (words >> word) {
      if (!joined.empty()) joined += ' ';
      joined += word;
    }
    out.push_back(joined);
  }
  return out;
}

// A DNS query for name (dotted, no trailing dot) of type A, by hand: the test
// sees the server only from outside.
std::vector<uint8_t> AQuery(const std::string& name, uint16_t id) {
  std::vector<uint8_t> q = {
      static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::istringstream labels(name);
  std::string label;
  while (std::getline(labels, label, '.')) {
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

class DnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(e2e::Run({"dig", "-v"}).exit_code, 0)
        << "dig is missing: run scripts/install-deps.sh";
    server_ = std::make_unique<KennelServer>(
        dir_.path(), "127.0.0.1:0", std::vector<std::string>{"--dns-listen", "127.0.0.1:0"});
    ASSERT_TRUE(server_->Start()) << server_->log();
    const std::string marker = "dns: serving cluster.local on 127.0.0.1:";
    ASSERT_TRUE(WaitFor([&] { return server_->log().find(marker) != std::string::npos; },
                        milliseconds(10000)))
        << server_->log();
    std::string log = server_->log();
    port_ = std::stoi(log.substr(log.find(marker) + marker.size()));
  }

  // dig against the server; returns stdout.
  std::string Dig(std::vector<std::string> args) {
    std::vector<std::string> argv = {"dig",      "@127.0.0.1", "-p", std::to_string(port_),
                                     "+tries=1", "+time=2"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = e2e::Run(argv);
    EXPECT_EQ(r.exit_code, 0) << testing::PrintToString(argv) << "\n" << r.out << r.err;
    return r.out;
  }

  std::vector<std::string> Short(const std::string& name, const std::string& type = "A") {
    return Lines(Dig({name, type, "+short"}));
  }

  // ANCOUNT of the answer to an A query over UDP, or nullopt on no answer.
  std::optional<int> AnswerCount(const std::string& name) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port_));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto q = AQuery(name, static_cast<uint16_t>(++id_));
    std::optional<int> count;
    if (::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) > 0) {
      pollfd p{fd, POLLIN, 0};
      uint8_t buf[4096];
      ssize_t n = ::poll(&p, 1, 1000) == 1 ? ::recv(fd, buf, sizeof(buf), 0) : -1;
      if (n >= 12) count = buf[6] << 8 | buf[7];
    }
    ::close(fd);
    return count;
  }

  TempDir dir_;
  std::unique_ptr<KennelServer> server_;
  int port_ = 0;
  int id_ = 0;
};

TEST_F(DnsTest, ServesTheKubernetesDnsSchema) {
  server_->KubectlOk({"apply", "-f", "-"}, kManifests);
  ASSERT_TRUE(WaitFor([&] { return AnswerCount("web.default.svc.cluster.local") == 2; },
                      milliseconds(5000)));

  // ClusterIP service: A, SRV per named port with the A record as additional.
  EXPECT_EQ(Short("api.default.svc.cluster.local"), std::vector<std::string>{"10.96.0.50"});
  std::string srv =
      Dig({"_http._tcp.api.default.svc.cluster.local", "SRV", "+noall", "+answer", "+additional"});
  EXPECT_EQ(Records(srv),
            (std::vector<std::string>{"_http._tcp.api.default.svc.cluster.local. 5 IN SRV 0 100 80 "
                                      "api.default.svc.cluster.local.",
                                      "api.default.svc.cluster.local. 5 IN A 10.96.0.50"}));
  EXPECT_EQ(Short("_metrics._tcp.api.default.svc.cluster.local", "SRV"),
            std::vector<std::string>{"0 100 9090 api.default.svc.cluster.local."});

  // Headless: ready endpoints only, per-pet names, SRV naming the pets.
  EXPECT_EQ(Short("web.default.svc.cluster.local"),
            (std::vector<std::string>{"10.244.0.5", "10.244.0.6"}));
  EXPECT_EQ(Short("web-0.web.default.svc.cluster.local"), std::vector<std::string>{"10.244.0.5"});
  EXPECT_EQ(Short("_http._tcp.web.default.svc.cluster.local", "SRV"),
            (std::vector<std::string>{"0 50 8080 web-0.web.default.svc.cluster.local.",
                                      "0 50 8080 web-1.web.default.svc.cluster.local."}));
  // publishNotReadyAddresses: the unready peer too.
  EXPECT_EQ(Short("peers.default.svc.cluster.local"),
            (std::vector<std::string>{"10.244.1.2", "10.244.1.3"}));
  EXPECT_EQ(Short("peers-1.peers.default.svc.cluster.local"),
            std::vector<std::string>{"10.244.1.3"});

  // ExternalName, PTR, the schema version.
  EXPECT_EQ(Short("db.default.svc.cluster.local", "CNAME"),
            std::vector<std::string>{"db.example.com."});
  EXPECT_EQ(Lines(Dig({"-x", "10.96.0.50", "+short"})),
            std::vector<std::string>{"api.default.svc.cluster.local."});
  EXPECT_EQ(Lines(Dig({"-x", "10.244.0.6", "+short"})),
            std::vector<std::string>{"web-1.web.default.svc.cluster.local."});
  EXPECT_EQ(Short("dns-version.cluster.local", "TXT"), std::vector<std::string>{"\"1.1.0\""});

  // NXDOMAIN and NODATA, both with the zone's SOA in the authority section.
  auto is_soa = [](const std::vector<std::string>& records) {
    return records.size() == 1 &&
           records[0].rfind(
               "cluster.local. 5 IN SOA ns.dns.cluster.local. "
               "hostmaster.cluster.local. ",
               0) == 0 &&
           records[0].find(" 7200 1800 86400 5") != std::string::npos;
  };
  std::string nx = Dig({"nope.default.svc.cluster.local", "+noall", "+comments", "+authority"});
  EXPECT_NE(nx.find("status: NXDOMAIN"), std::string::npos) << nx;
  EXPECT_NE(nx.find("flags: qr aa rd"), std::string::npos) << nx;
  EXPECT_TRUE(is_soa(Records(nx))) << nx;
  std::string nodata =
      Dig({"api.default.svc.cluster.local", "AAAA", "+noall", "+comments", "+authority"});
  EXPECT_NE(nodata.find("status: NOERROR"), std::string::npos) << nodata;
  EXPECT_NE(nodata.find("ANSWER: 0, AUTHORITY: 1"), std::string::npos) << nodata;
  EXPECT_TRUE(is_soa(Records(nodata))) << nodata;
  // An empty non-terminal is NODATA too.
  EXPECT_NE(Dig({"default.svc.cluster.local"}).find("status: NOERROR"), std::string::npos);

  // Over TCP.
  std::string tcp = Dig({"+tcp", "API.Default.svc.cluster.local"});
  EXPECT_NE(tcp.find("(TCP)"), std::string::npos) << tcp;
  EXPECT_EQ(Records(Dig({"+tcp", "API.Default.svc.cluster.local", "+noall", "+answer"})),
            std::vector<std::string>{"API.Default.svc.cluster.local. 5 IN A 10.96.0.50"});
}

TEST_F(DnsTest, EndpointChangesAreAnsweredWithin100Ms) {
  server_->KubectlOk({"apply", "-f", "-"}, kManifests);
  ASSERT_TRUE(WaitFor([&] { return AnswerCount("web.default.svc.cluster.local") == 2; },
                      milliseconds(5000)));
  // web-2 becomes ready.
  const std::string patch =
      R"({"subsets":[{"addresses":[{"ip":"10.244.0.5","hostname":"web-0"},)"
      R"({"ip":"10.244.0.6","hostname":"web-1"},{"ip":"10.244.0.7","hostname":"web-2"}],)"
      R"("ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]})";
  ASSERT_EQ(AnswerCount("web.default.svc.cluster.local"), 2);
  server_->KubectlOk({"patch", "endpoints", "web", "--type", "merge", "-p", patch});
  auto acknowledged = Clock::now();  // kubectl exits after the write's answer
  std::optional<Clock::duration> seen;
  while (Clock::now() - acknowledged < milliseconds(5000)) {
    if (AnswerCount("web.default.svc.cluster.local") == 3) {
      seen = Clock::now() - acknowledged;
      break;
    }
  }
  ASSERT_TRUE(seen.has_value()) << "the new endpoint never showed up";
  EXPECT_LT(*seen, milliseconds(100));
  std::printf(
      "endpoint visible %lld us after kubectl returned\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(*seen).count()));
  EXPECT_EQ(Short("web-2.web.default.svc.cluster.local"), std::vector<std::string>{"10.244.0.7"});
  // A deleted service goes as quickly.
  server_->KubectlOk({"delete", "service", "api"});
  acknowledged = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return AnswerCount("api.default.svc.cluster.local") == 0; },
                      milliseconds(5000)));
  EXPECT_LT(Clock::now() - acknowledged, milliseconds(200));  // WaitFor polls every 50 ms
}

// `kennel up`: the DNS server listens on the node bridge's address, and pods'
// resolv.conf names it, so a pod's own resolver finds cluster names.
class DnsUpTest : public UpClusterTest {};

TEST_F(DnsUpTest, PodsResolveThroughTheNodeBridge) {
  Apply(R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets:
- addresses: [{ip: 10.244.0.5, hostname: web-0}]
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: app
    image: host
    command: ["sh", "-c"]
    args: ["cat /etc/resolv.conf; getent hosts web-0.web; getent hosts kubernetes.default"]
)");
  nlohmann::json pod = WaitPod("client", [](const nlohmann::json& p) {
    return Phase(p, "Succeeded") || Phase(p, "Failed");
  });
  std::string out = Logs(pod, "app");
  EXPECT_NE(out.find("nameserver 10."), std::string::npos) << out;
  EXPECT_NE(out.find("search default.svc.cluster.local svc.cluster.local cluster.local"),
            std::string::npos)
      << out;
  // Short names through the search path, answered by the server on the bridge.
  EXPECT_NE(out.find("10.244.0.5      web-0.web.default.svc.cluster.local"), std::string::npos)
      << out << server_->log();
  EXPECT_NE(out.find("10.96.0.1       kubernetes.default.svc.cluster.local"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace kennel::e2e
