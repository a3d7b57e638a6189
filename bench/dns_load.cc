// kennel_dns_load: the records behind `bench/run dns`.
//
// Creates, through the API of a running Kennel server, S Services with E
// endpoints each in namespace `dnsbench` (even-numbered services have a
// cluster IP, odd-numbered ones are headless with pet hostnames, as a
// StatefulSet's), and writes:
// - a zone file holding the records the Kubernetes DNS specification gives
//   those objects, for the peer server (NSD) to serve the same answers;
// - a dnsperf query file: a fixed-seed mix of service A, pet A, SRV and
//   NXDOMAIN queries.
// It prints the name of the last record created, which the caller polls with
// dig until Kennel's DNS answers it.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "bench_client.h"

namespace kennel::bench {
namespace {

using nlohmann::json;

constexpr const char* kNamespace = "dnsbench";

struct Options {
  std::string url, token_file, ca;
  int services = 1000;
  int endpoints = 10;
  int queries = 20000;
  int clients = 16;
  std::string domain = "cluster.local";
  std::string zone_out, queries_out;
};

bool Headless(int i) { return i % 2 == 1; }
std::string ServiceName(int i) { return "svc-" + std::to_string(i); }
std::string PetName(int j) { return "pod-" + std::to_string(j); }
// Distinct addresses, outside anything the server allocates itself.
std::string ClusterIp(int i) {
  return "10.96." + std::to_string(100 + i / 250) + "." + std::to_string(1 + i % 250);
}
std::string EndpointIp(int i, int j, int per_service) {
  int n = i * per_service + j;
  return "10." + std::to_string(200 + n / 65024) + "." + std::to_string(n / 254 % 256) + "." +
         std::to_string(1 + n % 254);
}

json ServiceObject(int i) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", ServiceName(i)}, {"namespace", kNamespace}}},
          {"spec",
           {{"clusterIP", Headless(i) ? "None" : ClusterIp(i)},
            {"ports", json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}})}}}};
}

// Selector-less services: these Endpoints are the test's, not a controller's.
json EndpointsObject(int i, int per_service) {
  json addresses = json::array();
  for (int j = 0; j < per_service; ++j) {
    json a = {{"ip", EndpointIp(i, j, per_service)}};
    if (Headless(i)) a["hostname"] = PetName(j);
    addresses.push_back(a);
  }
  return {{"apiVersion", "v1"},
          {"kind", "Endpoints"},
          {"metadata", {{"name", ServiceName(i)}, {"namespace", kNamespace}}},
          {"subsets", json::array({{{"addresses", addresses},
                                    {"ports", json::array({{{"name", "http"}, {"port", 80}}})}}})}};
}

// The zone NSD serves: what the Kubernetes DNS specification says these
// objects publish, under $ORIGIN <domain>.
std::string ZoneFile(const Options& o) {
  std::string z = "$ORIGIN " + o.domain + ".\n$TTL 5\n";
  z += "@ IN SOA ns.dns." + o.domain + ". hostmaster." + o.domain + ". 1 7200 1800 86400 5\n";
  z += "@ IN NS ns.dns." + o.domain + ".\nns.dns IN A 10.96.0.10\n";
  for (int i = 0; i < o.services; ++i) {
    std::string svc = ServiceName(i) + "." + kNamespace + ".svc";
    std::string fqdn_suffix = "." + o.domain + ".";
    if (!Headless(i)) {
      z += svc + " IN A " + ClusterIp(i) + "\n";
      z += "_http._tcp." + svc + " IN SRV 0 100 80 " + svc + fqdn_suffix + "\n";
      continue;
    }
    for (int j = 0; j < o.endpoints; ++j) {
      std::string ip = EndpointIp(i, j, o.endpoints);
      std::string pet = PetName(j) + "." + svc;
      z += svc + " IN A " + ip + "\n";
      z += pet + " IN A " + ip + "\n";
      z += "_http._tcp." + svc + " IN SRV 0 " + std::to_string(100 / o.endpoints) + " 80 " + pet +
           fqdn_suffix + "\n";
    }
  }
  return z;
}

// 30 % service A, 20 % pet A, 30 % SRV, 20 % names that do not exist.
std::string QueryFile(const Options& o) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> service(0, o.services - 1), pet(0, o.endpoints - 1),
      kind(0, 9);
  std::string q;
  const std::string tail = std::string(".") + kNamespace + ".svc." + o.domain;
  for (int n = 0; n < o.queries; ++n) {
    int k = kind(rng);
    int i = service(rng);
    if (k < 3) {
      q += ServiceName(i) + tail + " A\n";
    } else if (k < 5) {
      int h = i | 1;  // a headless one
      if (h >= o.services) h = 1;
      q += PetName(pet(rng)) + "." + ServiceName(h) + tail + " A\n";
    } else if (k < 8) {
      q += "_http._tcp." + ServiceName(i) + tail + " SRV\n";
    } else {
      q += "missing-" + std::to_string(n) + tail + " A\n";
    }
  }
  return q;
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

int Run(const Options& o) {
  ssl::context ctx(ssl::context::tls_client);
  auto ep = KennelEndpoint(o.url, o.token_file, o.ca, &ctx);
  if (!ep.ok()) {
    std::fprintf(stderr, "dns_load: %s\n", ep.status().ToString().c_str());
    return 1;
  }
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}}}};
  auto created_ns = OneRequest(*ep, &ctx, http::verb::post, "/api/v1/namespaces", ns.dump());
  if (!created_ns.ok() || created_ns->result_int() != 201) {
    std::fprintf(stderr, "dns_load: cannot create namespace %s\n", kNamespace);
    return 1;
  }
  const std::string base = std::string("/api/v1/namespaces/") + kNamespace;
  std::vector<std::pair<std::string, std::string>> requests;
  for (int i = 0; i < o.services; ++i) {
    requests.emplace_back(base + "/services", ServiceObject(i).dump());
    requests.emplace_back(base + "/endpoints", EndpointsObject(i, o.endpoints).dump());
  }
  CreateResult r = CreateAll(*ep, &ctx, requests, o.clients, "dns_load");
  std::fprintf(stderr, "dns_load: created %d objects (%d errors) in %.1f s\n", r.created, r.errors,
               r.seconds);
  if (r.errors > 0) return 1;
  if (!WriteText(o.zone_out, ZoneFile(o)) || !WriteText(o.queries_out, QueryFile(o))) {
    std::fprintf(stderr, "dns_load: cannot write %s or %s\n", o.zone_out.c_str(),
                 o.queries_out.c_str());
    return 1;
  }
  // The last object of the run: once it resolves, every record is served.
  int last = o.services - 1;
  std::printf("%s%s.%s.svc.%s\n", Headless(last) ? (PetName(o.endpoints - 1) + ".").c_str() : "",
              ServiceName(last).c_str(), kNamespace, o.domain.c_str());
  return 0;
}

}  // namespace
}  // namespace kennel::bench

int main(int argc, char** argv) {
  kennel::bench::Options o;
  CLI::App app{"Kennel DNS benchmark loader (bench/run dns)"};
  app.add_option("--url", o.url, "Kennel API server URL")->required();
  app.add_option("--token-file", o.token_file, "Admin token file")->required();
  app.add_option("--ca", o.ca, "CA certificate")->required();
  app.add_option("--services", o.services, "Services")->capture_default_str();
  app.add_option("--endpoints", o.endpoints, "Endpoints per service")->capture_default_str();
  app.add_option("--queries", o.queries, "Lines in the query file")->capture_default_str();
  app.add_option("--clients", o.clients, "Concurrent API connections")->capture_default_str();
  app.add_option("--domain", o.domain, "Cluster domain")->capture_default_str();
  app.add_option("--zone-out", o.zone_out, "Zone file to write")->required();
  app.add_option("--queries-out", o.queries_out, "dnsperf query file to write")->required();
  CLI11_PARSE(app, argc, argv);
  if (o.services < 2 || o.endpoints < 1 || o.endpoints > 100 || o.queries < 1) {
    std::fprintf(stderr, "dns_load: need services >= 2 and 1 <= endpoints <= 100\n");
    return 2;
  }
  return kennel::bench::Run(o);
}
