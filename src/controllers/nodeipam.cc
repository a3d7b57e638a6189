#include "controllers/nodeipam.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <thread>

#include "client/informer.h"
#include "client/workqueue.h"

namespace kennel::controllers {
namespace {

using client::json;

struct Cidr {
  uint32_t base = 0;  // host order
  int prefix = 0;
};

StatusOr<Cidr> ParseCidr(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return BadRequest("CIDR \"" + text + "\" has no /prefix");
  in_addr addr{};
  if (inet_pton(AF_INET, text.substr(0, slash).c_str(), &addr) != 1) {
    return BadRequest("CIDR \"" + text + "\" is not an IPv4 CIDR");
  }
  int prefix = std::atoi(text.c_str() + slash + 1);
  if (prefix < 1 || prefix > 32) return BadRequest("CIDR \"" + text + "\" has a bad prefix");
  uint32_t mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
  return Cidr{ntohl(addr.s_addr) & mask, prefix};
}

class NodeIpamImpl : public NodeIpam {
 public:
  NodeIpamImpl(client::Client* client, NodeIpamOptions options)
      : client_(client), options_(std::move(options)), nodes_(client, client::kNodes, "") {}

  ~NodeIpamImpl() override {
    nodes_.Stop();
    queue_.ShutDown();
    if (worker_.joinable()) worker_.join();
  }

  void Run() {
    client::InformerHandler handler;
    handler.on_add = [this](const json& n) { queue_.Add(client::Informer::KeyOf(n)); };
    handler.on_update = [this](const json&, const json& n) {
      queue_.Add(client::Informer::KeyOf(n));
    };
    nodes_.AddHandler(std::move(handler));
    nodes_.Start();
    worker_ = std::thread([this] {
      while (auto key = queue_.Get()) {
        Status st = Allocate(*key);
        if (st.ok()) {
          queue_.Forget(*key);
        } else {
          spdlog::warn("node-ipam: {}: {}", *key, st.ToString());
          queue_.AddRateLimited(*key);
        }
        queue_.Done(*key);
      }
    });
  }

 private:
  Status Allocate(const std::string& key) {
    auto node = nodes_.Get(key);
    if (!node) return Status::Ok();
    if (!node->value("spec", json::object()).value("podCIDR", "").empty()) return Status::Ok();
    std::string name = node->value("metadata", json::object()).value("name", "");
    // Given already, and the cache has not caught up with our own patch.
    if (assigned_.count(name)) return Status::Ok();
    std::set<std::string> used;  // blocks this worker gave, maybe not in the cache yet
    for (const auto& [n, block] : assigned_) used.insert(block);
    for (const json& n : nodes_.List()) {
      std::string c = n.value("spec", json::object()).value("podCIDR", "");
      if (!c.empty()) used.insert(c);
    }
    for (int64_t i = 0;; ++i) {
      auto block = NthBlock(options_.cluster_cidr, options_.node_prefix, i);
      if (!block.ok()) {
        return Status(Code::kUnavailable, "no pod CIDR left in " + options_.cluster_cidr);
      }
      if (used.count(*block)) continue;
      json patch = {{"spec", {{"podCIDR", *block}, {"podCIDRs", json::array({*block})}}}};
      auto r = client_->Patch(client::kNodes, "", name, client::PatchType::kMerge, patch);
      if (!r.ok()) return r.status();
      assigned_[name] = *block;
      spdlog::info("node-ipam: node {} gets pod CIDR {}", name, *block);
      return Status::Ok();
    }
  }

  client::Client* client_;
  NodeIpamOptions options_;
  client::Informer nodes_;
  client::WorkQueue queue_;
  std::map<std::string, std::string> assigned_;  // node → block; worker thread only
  std::thread worker_;
};

}  // namespace

StatusOr<std::string> NthBlock(const std::string& cidr, int node_prefix, int64_t i) {
  ASSIGN_OR_RETURN(Cidr c, ParseCidr(cidr));
  if (node_prefix < c.prefix || node_prefix > 30) {
    return BadRequest("node prefix /" + std::to_string(node_prefix) + " does not fit in " + cidr);
  }
  int64_t blocks = int64_t{1} << (node_prefix - c.prefix);
  if (i < 0 || i >= blocks) return BadRequest("block index out of range");
  uint32_t addr = c.base + static_cast<uint32_t>(i << (32 - node_prefix));
  in_addr out{htonl(addr)};
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &out, text, sizeof(text));
  return std::string(text) + "/" + std::to_string(node_prefix);
}

StatusOr<std::unique_ptr<NodeIpam>> NodeIpam::Start(client::Client* client,
                                                    NodeIpamOptions options) {
  RETURN_IF_ERROR(NthBlock(options.cluster_cidr, options.node_prefix, 0).status());
  auto ipam = std::make_unique<NodeIpamImpl>(client, std::move(options));
  ipam->Run();
  return std::unique_ptr<NodeIpam>(std::move(ipam));
}

}  // namespace kennel::controllers
