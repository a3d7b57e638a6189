// libFuzzer target for the DNS server's packet path: any bytes, as a query
// over UDP and TCP into buffers of any size, must give a well-formed
// response or none, never a crash, a read out of bounds or a loop; and the
// general message decoder must survive them too.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "dns/message.h"
#include "dns/view.h"

namespace {

using namespace kennel::dns;

std::shared_ptr<const View> MakeView() {
  ClusterState state;
  ServiceInfo api{.ns = "default", .name = "api", .cluster_ips = {"10.96.0.50", "fd00::50"}};
  api.ports = {{"http", "TCP", 80}, {"dns", "UDP", 53}, {"", "TCP", 9000}};
  state.services["default/api"] = api;
  ServiceInfo web{.ns = "default", .name = "web", .kind = ServiceKind::kHeadless};
  state.services["default/web"] = web;
  EndpointsInfo ep{.ns = "default", .name = "web"};
  SubsetInfo subset;
  for (int i = 0; i < 40; ++i) {
    std::string ip = "10.244.0." + std::to_string(i + 2);
    subset.ready.push_back({ip, i % 2 ? "" : "web-" + std::to_string(i)});
  }
  subset.not_ready.push_back({"10.244.0.99", "web-99"});
  subset.ports = {{"http", "TCP", 8080}};
  ep.subsets.push_back(subset);
  state.endpoints["default/web"] = ep;
  ServiceInfo db{.ns = "default", .name = "db", .kind = ServiceKind::kExternalName};
  db.external_name = "db.example.com";
  state.services["default/db"] = db;
  state.pods["default/p"] = PodInfo{"default", "p", {"10.244.0.2"}};
  ViewOptions options;
  options.nameserver_ips = {"10.244.0.1"};
  options.forwarding = true;
  auto view = View::Build(options, state);
  if (!view.ok()) std::abort();
  return *view;
}

// What we send must parse back, and fit the transport.
void Check(const Outcome& o, std::span<const uint8_t> out, const Query& q, Transport t) {
  if (o.action != Action::kReply || o.size == 0) return;
  if (o.size > out.size() || o.size > kMaxTcpSize) std::abort();
  if (o.size > q.MaxResponseSize(t)) std::abort();
  if (!DecodeMessage(out.first(o.size)).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const View> view = MakeView();
  static std::vector<uint8_t> out(kMaxTcpSize);
  std::span<const uint8_t> packet(data, size);
  Query q;
  for (Transport t : {Transport::kUdp, Transport::kTcp}) {
    Check(Respond(view.get(), packet, t, out, &q), out, q, t);
  }
  // A buffer too small for most answers: writes must stay inside it.
  size_t small = size ? data[0] % 200 : 0;
  std::vector<uint8_t> tiny(small);
  Outcome o = Respond(view.get(), packet, Transport::kUdp, tiny, &q);
  if (o.size > tiny.size()) std::abort();
  // Not synced yet.
  Respond(nullptr, packet, Transport::kUdp, out, &q);
  // The general decoder, and names as text.
  (void)DecodeMessage(packet);
  (void)NameToWire(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
