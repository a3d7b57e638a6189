// VolumeBinding: a pod goes where its claims' volumes can be. A claim bound
// to a PersistentVolume with node affinity pins the pod to matching nodes; an
// unbound claim whose StorageClass says WaitForFirstConsumer is provisioned
// on the node the pod lands on, which must have the free
// kennel.io/local-storage for it; the scheduler then records that node on
// the claim (volume.kubernetes.io/selected-node) before binding the pod.
#include "api/json_access.h"
#include "api/quantity.h"
#include "scheduler/cache.h"
#include "scheduler/plugins.h"

namespace kennel::scheduler {
namespace {

using api::Field;
using api::Str;

class VolumeBinding : public Plugin {
 public:
  std::string_view Name() const override { return "VolumeBinding"; }

  PreFilterResult PreFilter(const CycleContext& ctx) override {
    pinned_terms_.clear();
    pinned_nodes_.clear();
    waiting_.clear();
    wanted_bytes_ = 0;
    if (ctx.pod.claims.empty()) return {};
    if (ctx.volumes == nullptr) return {};
    for (const std::string& name : ctx.pod.claims) {
      auto claim = ctx.volumes->Claim(ctx.pod.ns, name);
      if (!claim) {
        // Usually created just before the pod, its watch event still on the way.
        PreFilterResult r = Fail("persistentvolumeclaim \"" + name + "\" not found");
        r.awaits_claim = true;
        return r;
      }
      const json& meta = Field(*claim, "metadata");
      if (!Str(meta, "deletionTimestamp").empty()) {
        return Fail("persistentvolumeclaim \"" + name + "\" is being deleted");
      }
      std::string volume = Str(Field(*claim, "spec"), "volumeName");
      if (!volume.empty()) {
        auto pv = ctx.volumes->Volume(volume);
        if (!pv) return Fail("pvc(s) bound to non-existent pv(s)");
        const json& required = Field(Field(Field(*pv, "spec"), "nodeAffinity"), "required");
        if (!required.is_null()) pinned_terms_.push_back(Field(required, "nodeSelectorTerms"));
        continue;
      }
      std::string selected = Str(Field(meta, "annotations"), kSelectedNodeAnnotation);
      if (!selected.empty()) {
        // Provisioning on that node is under way: the pod must follow.
        pinned_nodes_.push_back(selected);
        continue;
      }
      std::string class_name = Str(Field(*claim, "spec"), "storageClassName");
      auto storage_class =
          class_name.empty() ? std::nullopt : ctx.volumes->StorageClass(class_name);
      if (!storage_class || Str(*storage_class, "volumeBindingMode") != "WaitForFirstConsumer") {
        return Fail("pod has unbound immediate PersistentVolumeClaims");
      }
      int64_t bytes = ClaimStorageRequest(*claim);
      waiting_.push_back({ctx.pod.ns + "/" + name, bytes});
      wanted_bytes_ += bytes;
    }
    bool filter = !pinned_terms_.empty() || !pinned_nodes_.empty() || !waiting_.empty();
    return {std::nullopt, filter, false};
  }

  std::optional<std::string> Filter(const CycleContext& ctx, const NodeInfo& node) const override {
    for (const json& terms : pinned_terms_) {
      if (!MatchesNodeSelectorTerms(terms, node)) {
        return "node(s) had volume node affinity conflict";
      }
    }
    for (const std::string& pinned : pinned_nodes_) {
      if (pinned != node.name) return "node(s) had volume node affinity conflict";
    }
    if (!waiting_.empty()) {
      int64_t free = node.allocatable.Scalar(kLocalStorage) - node.requested.Scalar(kLocalStorage) -
                     node.claimed_local_storage;
      // What the pod itself asks for as a resource was checked by
      // NodeResourcesFit; the claims come on top of it.
      free -= ctx.pod.request.Scalar(kLocalStorage);
      if (wanted_bytes_ > free) return "node(s) did not have enough free storage";
    }
    return std::nullopt;
  }

  bool PreemptionCanHelp() const override { return false; }

  void Reserve(const CycleContext&, ClusterCache& cache, const std::string& node) override {
    for (const auto& [key, bytes] : waiting_) cache.SetClaim(key, node, bytes);
  }

 private:
  PreFilterResult Fail(std::string reason) {
    PreFilterResult r;
    r.reason = std::move(reason);
    return r;
  }

  std::vector<json> pinned_terms_;
  std::vector<std::string> pinned_nodes_;
  // WaitForFirstConsumer claims to place: ns/name and the storage each asks for.
  std::vector<std::pair<std::string, int64_t>> waiting_;
  int64_t wanted_bytes_ = 0;
};

}  // namespace

int64_t ClaimStorageRequest(const json& claim) {
  return api::QuantityFromJson(
             Field(Field(Field(Field(claim, "spec"), "resources"), "requests"), "storage"))
      .value_or(0);
}

std::unique_ptr<Plugin> NewVolumeBinding() { return std::make_unique<VolumeBinding>(); }

}  // namespace kennel::scheduler
