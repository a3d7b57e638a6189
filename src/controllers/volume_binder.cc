#include "controllers/volume_binder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/json_access.h"
#include "api/quantity.h"
#include "api/selector.h"
#include "api/storage.h"
#include "base/thread.h"
#include "base/time.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kennel::controllers {
namespace {

using api::Field;
using api::Str;
using client::json;

constexpr const char* kLocalStorage = "kennel.io/local-storage";
constexpr const char* kHostnameLabel = "kubernetes.io/hostname";
constexpr const char* kResizeErrorCondition = "ControllerResizeError";

const json& Meta(const json& o) { return Field(o, "metadata"); }
const json& Spec(const json& o) { return Field(o, "spec"); }
std::string Name(const json& o) { return Str(Meta(o), "name"); }
std::string Namespace(const json& o) { return Str(Meta(o), "namespace"); }
std::string Uid(const json& o) { return Str(Meta(o), "uid"); }
std::string Annotation(const json& o, const char* key) {
  return Str(Field(Meta(o), "annotations"), key);
}
bool Deleting(const json& o) { return !Field(Meta(o), "deletionTimestamp").is_null(); }
std::string Phase(const json& o) { return Str(Field(o, "status"), "phase"); }

using client::ResourceVersionNumber;

int64_t Bytes(const json& v) { return api::QuantityFromJson(v).value_or(0); }
const json& ClaimRequest(const json& claim) {
  return Field(Field(Field(Spec(claim), "resources"), "requests"), "storage");
}
const json& VolumeCapacity(const json& pv) { return Field(Field(Spec(pv), "capacity"), "storage"); }

// The class a claim asks for: the beta annotation wins, as in Kubernetes.
std::string ClaimClass(const json& claim) {
  const json& beta = Field(Field(Meta(claim), "annotations"), api::kBetaStorageClassAnnotation);
  if (beta.is_string()) return beta.get<std::string>();
  return Str(Spec(claim), "storageClassName");
}
std::string VolumeClass(const json& pv) {
  const json& beta = Field(Field(Meta(pv), "annotations"), api::kBetaStorageClassAnnotation);
  if (beta.is_string()) return beta.get<std::string>();
  return Str(Spec(pv), "storageClassName");
}
std::string VolumeMode(const json& o) {
  std::string mode = Str(Spec(o), "volumeMode");
  return mode.empty() ? "Filesystem" : mode;
}

std::set<std::string> AccessModes(const json& o) {
  std::set<std::string> out;
  const json& modes = Field(Spec(o), "accessModes");
  if (modes.is_array()) {
    for (const json& m : modes) {
      if (m.is_string()) out.insert(m.get<std::string>());
    }
  }
  return out;
}

// Concatenation without "literal" + std::string temporaries (GCC 12's false
// -Wrestrict).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string s;
  ((s += parts), ...);
  return s;
}

std::string ClaimKey(const std::string& ns, const std::string& name) {
  std::string key = ns;
  key += "/";
  key += name;
  return key;
}

// claimRef names this claim (namespace and name), and its uid if it has one.
bool RefersTo(const json& pv, const json& claim) {
  const json& ref = Field(Spec(pv), "claimRef");
  if (!ref.is_object()) return false;
  if (Str(ref, "namespace") != Namespace(claim) || Str(ref, "name") != Name(claim)) return false;
  std::string uid = Str(ref, "uid");
  return uid.empty() || uid == Uid(claim);
}

bool IsLocalPath(const json& pv) {
  return Annotation(pv, kProvisionedByAnnotation) == api::kLocalPathProvisioner;
}

// The node a volume's affinity pins it to (kubernetes.io/hostname In [one]).
std::string PinnedNode(const json& pv) {
  const json& terms =
      Field(Field(Field(Spec(pv), "nodeAffinity"), "required"), "nodeSelectorTerms");
  if (!terms.is_array() || terms.size() != 1) return "";
  const json& exprs = Field(terms[0], "matchExpressions");
  if (!exprs.is_array()) return "";
  for (const json& e : exprs) {
    const json& values = Field(e, "values");
    if (Str(e, "key") == kHostnameLabel && Str(e, "operator") == "In" && values.is_array() &&
        values.size() == 1 && values[0].is_string()) {
      return values[0].get<std::string>();
    }
  }
  return "";
}

bool NumberLess(const std::string& a, const std::string& b, bool greater) {
  int64_t x = 0, y = 0;
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), x);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), y);
  if (r1.ec != std::errc() || r2.ec != std::errc()) return false;
  return greater ? x > y : x < y;
}

// One node selector requirement against a value (or its absence).
bool RequirementMatches(const json& req, const std::optional<std::string>& value) {
  std::string op = Str(req, "operator");
  std::vector<std::string> values;
  if (const json& v = Field(req, "values"); v.is_array()) {
    for (const json& s : v) {
      if (s.is_string()) values.push_back(s.get<std::string>());
    }
  }
  bool in = value && std::find(values.begin(), values.end(), *value) != values.end();
  if (op == "In") return in;
  if (op == "NotIn") return !in;
  if (op == "Exists") return value.has_value();
  if (op == "DoesNotExist") return !value.has_value();
  if ((op == "Gt" || op == "Lt") && value && values.size() == 1) {
    return NumberLess(*value, values[0], op == "Gt");
  }
  return false;
}

// The volume's required node affinity admits the node (no affinity: any).
bool AffinityAdmits(const json& pv, const json& node) {
  const json& terms =
      Field(Field(Field(Spec(pv), "nodeAffinity"), "required"), "nodeSelectorTerms");
  if (!terms.is_array()) return true;
  const json& labels = Field(Meta(node), "labels");
  for (const json& term : terms) {
    bool all = true;
    bool any_requirement = false;
    if (const json& exprs = Field(term, "matchExpressions"); exprs.is_array()) {
      for (const json& e : exprs) {
        any_requirement = true;
        const json& v = Field(labels, Str(e, "key").c_str());
        std::optional<std::string> value;
        if (v.is_string()) value = v.get<std::string>();
        all = all && RequirementMatches(e, value);
      }
    }
    if (const json& fields = Field(term, "matchFields"); fields.is_array()) {
      for (const json& f : fields) {
        any_requirement = true;
        std::optional<std::string> value;
        if (Str(f, "key") == "metadata.name") value = Name(node);
        all = all && RequirementMatches(f, value);
      }
    }
    if (any_requirement && all) return true;  // an empty term matches nothing
  }
  return false;
}

bool NodeReady(const json& node) {
  const json& conditions = Field(Field(node, "status"), "conditions");
  if (!conditions.is_array()) return false;
  for (const json& c : conditions) {
    if (Str(c, "type") == "Ready") return Str(c, "status") == "True";
  }
  return false;
}

// Why the volume cannot serve the claim that asked for it by name ("" if it can).
std::string Mismatch(const json& claim, const json& pv) {
  if (Bytes(VolumeCapacity(pv)) < Bytes(ClaimRequest(claim))) return "requested PV is too small";
  if (VolumeClass(pv) != ClaimClass(claim)) return "storageClassName does not match";
  if (VolumeMode(pv) != VolumeMode(claim)) return "incompatible volumeMode";
  std::set<std::string> offered = AccessModes(pv);
  for (const std::string& m : AccessModes(claim)) {
    if (!offered.count(m)) return "incompatible accessMode";
  }
  return "";
}

class VolumeBinderImpl : public VolumeBinder {
 public:
  VolumeBinderImpl(client::Client* client, VolumeBinderOptions options)
      : client_(client),
        options_(options),
        claims_(client, client::kPersistentVolumeClaims, ""),
        volumes_(client, client::kPersistentVolumes, ""),
        classes_(client, client::kStorageClasses, ""),
        nodes_(client, client::kNodes, ""),
        events_(client, "persistentvolume-controller") {}

  ~VolumeBinderImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (client::Informer* i : {&claims_, &volumes_, &classes_, &nodes_}) i->Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
    if (resync_.joinable()) resync_.join();
  }

  // The default class, before anything else, so claims created right after
  // start already get it.
  void EnsureDefaultClass() {
    auto existing = client_->Get(client::kStorageClasses, "", api::kLocalPathClassName);
    if (existing.ok() || existing.status().code() != Code::kNotFound) return;
    json sc = api::LocalPathStorageClass();
    auto list = client_->List(client::kStorageClasses, "");
    if (list.ok() && !api::DefaultStorageClassName(list->items).empty()) {
      sc["metadata"].erase("annotations");  // another class is the default already
    }
    auto created = client_->Create(client::kStorageClasses, "", sc);
    if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
      spdlog::warn("volume binder: cannot create StorageClass {}: {}", api::kLocalPathClassName,
                   created.status().ToString());
    }
  }

  void Run() {
    client::InformerHandler on_claim;
    on_claim.on_add = [this](const json& c) { queue_.Add(Cat("c:", client::Informer::KeyOf(c))); };
    on_claim.on_update = [this](const json&, const json& c) {
      Caught(c, &assumed_claims_, client::Informer::KeyOf(c));
      queue_.Add(Cat("c:", client::Informer::KeyOf(c)));
    };
    on_claim.on_delete = [this](const json& c) { ClaimDeleted(c); };
    claims_.AddHandler(std::move(on_claim));

    client::InformerHandler on_volume;
    on_volume.on_add = [this](const json& v) { VolumeChanged(v); };
    on_volume.on_update = [this](const json&, const json& v) { VolumeChanged(v); };
    on_volume.on_delete = [this](const json& v) {
      {
        std::lock_guard lock(mu_);
        assumed_volumes_.erase(Name(v));
      }
      QueueClaimOf(v);
    };
    volumes_.AddHandler(std::move(on_volume));

    client::InformerHandler on_class;
    on_class.on_add = [this](const json&) { QueueUnboundClaims(); };
    on_class.on_update = [this](const json&, const json&) { QueueUnboundClaims(); };
    classes_.AddHandler(std::move(on_class));

    client::InformerHandler on_node;
    on_node.on_add = [this](const json&) { QueueUnboundClaims(); };
    on_node.on_update = [this](const json& before, const json& after) {
      auto storage = [](const json& n) {
        return Field(Field(Field(n, "status"), "allocatable"), kLocalStorage);
      };
      if (storage(before) != storage(after) ||
          Annotation(before, kVolumeRootAnnotation) != Annotation(after, kVolumeRootAnnotation) ||
          NodeReady(before) != NodeReady(after)) {
        QueueUnboundClaims();
      }
    };
    nodes_.AddHandler(std::move(on_node));

    for (client::Informer* i : {&claims_, &volumes_, &classes_, &nodes_}) i->Start();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this] {
        NameThisThread("volume-binder");
        Work();
      });
    }
    resync_ = std::thread([this] { ResyncLoop(); });
  }

 private:
  // --- informer handlers: queue keys ---------------------------------------

  void ClaimDeleted(const json& claim) {
    {
      std::lock_guard lock(mu_);
      assumed_claims_.erase(client::Informer::KeyOf(claim));
    }
    std::string volume = Str(Spec(claim), "volumeName");
    if (!volume.empty()) queue_.Add(Cat("v:", volume));
    queue_.Add(Cat("v:pvc-", Uid(claim)));  // provisioned, perhaps not bound yet
  }

  void VolumeChanged(const json& pv) {
    Caught(pv, &assumed_volumes_, Name(pv));
    queue_.Add(Cat("v:", Name(pv)));
    if (Field(Spec(pv), "claimRef").is_object()) {
      QueueClaimOf(pv);
    } else {
      QueueUnboundClaims();  // a free volume: pending claims may take it
    }
  }

  void QueueClaimOf(const json& pv) {
    const json& ref = Field(Spec(pv), "claimRef");
    if (ref.is_object()) queue_.Add(Cat("c:", ClaimKey(Str(ref, "namespace"), Str(ref, "name"))));
  }

  void QueueUnboundClaims() {
    for (const json& c : claims_.List()) {
      if (Annotation(c, kBindCompletedAnnotation).empty()) {
        queue_.Add(Cat("c:", client::Informer::KeyOf(c)));
      }
    }
  }

  // The informer caught up with an object this controller wrote.
  void Caught(const json& seen, std::map<std::string, json>* assumed, const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = assumed->find(key);
    if (it != assumed->end() && ResourceVersionNumber(seen) >= ResourceVersionNumber(it->second)) {
      assumed->erase(it);
    }
  }

  void ResyncLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, options_.resync, [this] { return stopping_; });
      if (stopping_) return;
      lock.unlock();
      for (const json& c : claims_.List()) queue_.Add(Cat("c:", client::Informer::KeyOf(c)));
      for (const json& v : volumes_.List()) queue_.Add(Cat("v:", Name(v)));
      lock.lock();
    }
  }

  // --- reads: the cache, or what this controller wrote if newer -------------

  std::optional<json> Newest(std::optional<json> cached, const std::map<std::string, json>& assumed,
                             const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = assumed.find(key);
    if (it == assumed.end()) return cached;
    if (!cached || ResourceVersionNumber(it->second) > ResourceVersionNumber(*cached))
      return it->second;
    return cached;
  }
  std::optional<json> GetClaim(const std::string& key) {
    return Newest(claims_.Get(key), assumed_claims_, key);
  }
  std::optional<json> GetVolume(const std::string& name) {
    return Newest(volumes_.Get(name), assumed_volumes_, name);
  }
  std::vector<json> ListVolumes() {
    std::map<std::string, json> all;
    for (json& v : volumes_.List()) {
      std::string name = Name(v);
      all.emplace(std::move(name), std::move(v));
    }
    std::lock_guard lock(mu_);
    for (const auto& [name, v] : assumed_volumes_) {
      auto it = all.find(name);
      if (it == all.end() || ResourceVersionNumber(v) > ResourceVersionNumber(it->second))
        all[name] = v;
    }
    std::vector<json> out;
    out.reserve(all.size());
    for (auto& [name, v] : all) out.push_back(std::move(v));
    return out;
  }
  // Remembers what this controller just wrote until its informer shows it.
  // Not when the informer is already there: it may have seen the write and
  // even the object's deletion, whose handler ran before this, and nothing
  // would ever forget the assumption (a deleted claim would look bound
  // forever). The informer raises AppliedRevision before its handlers take
  // mu_, so checking under mu_ leaves no gap.
  void AssumeClaim(const json& claim) {
    std::lock_guard lock(mu_);
    if (claims_.AppliedRevision() >= ResourceVersionNumber(claim)) return;
    assumed_claims_[ClaimKey(Namespace(claim), Name(claim))] = claim;
  }
  void AssumeVolume(const json& pv) {
    std::lock_guard lock(mu_);
    if (volumes_.AppliedRevision() >= ResourceVersionNumber(pv)) return;
    assumed_volumes_[Name(pv)] = pv;
  }

  // --- writes ------------------------------------------------------------------

  void Event(const json& obj, const char* kind, const char* type, const char* reason,
             const std::string& message) {
    events_.Record(obj, kind, type, reason, message);
  }
  void ClaimEvent(const json& claim, const char* type, const char* reason,
                  const std::string& message) {
    Event(claim, "PersistentVolumeClaim", type, reason, message);
  }

  Status UpdateClaim(json& claim) {
    ASSIGN_OR_RETURN(claim,
                     client_->Update(client::kPersistentVolumeClaims, Namespace(claim), claim));
    AssumeClaim(claim);
    return Status::Ok();
  }
  Status UpdateClaimStatus(json& claim) {
    ASSIGN_OR_RETURN(
        claim, client_->UpdateStatus(client::kPersistentVolumeClaims, Namespace(claim), claim));
    AssumeClaim(claim);
    return Status::Ok();
  }
  Status UpdateVolume(json& pv) {
    ASSIGN_OR_RETURN(pv, client_->Update(client::kPersistentVolumes, "", pv));
    AssumeVolume(pv);
    return Status::Ok();
  }
  Status SetVolumePhase(json& pv, const std::string& phase, const std::string& message = "") {
    if (Phase(pv) == phase && Str(Field(pv, "status"), "message") == message) return Status::Ok();
    pv["status"]["phase"] = phase;
    if (message.empty()) {
      pv["status"].erase("message");
    } else {
      pv["status"]["message"] = message;
    }
    ASSIGN_OR_RETURN(pv, client_->UpdateStatus(client::kPersistentVolumes, "", pv));
    AssumeVolume(pv);
    return Status::Ok();
  }
  Status SetClaimPhase(json& claim, const std::string& phase) {
    if (Phase(claim) == phase) return Status::Ok();
    claim["status"]["phase"] = phase;
    return UpdateClaimStatus(claim);
  }

  // --- workers -----------------------------------------------------------------

  void Work() {
    for (client::Informer* inf : {&claims_, &volumes_, &classes_, &nodes_}) {
      while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
    }
    queue_.Process("volume binder", [this](const std::string& key) {
      return key.rfind("c:", 0) == 0 ? SyncClaim(key.substr(2)) : SyncVolume(key.substr(2));
    });
  }

  // --- claims ------------------------------------------------------------------

  Status SyncClaim(const std::string& key) {
    auto claim = GetClaim(key);
    if (!claim || Deleting(*claim)) return Status::Ok();
    if (Annotation(*claim, kBindCompletedAnnotation).empty()) return SyncUnboundClaim(*claim);
    return SyncBoundClaim(*claim);
  }

  Status SyncUnboundClaim(json claim) {
    std::string volume_name = Str(Spec(claim), "volumeName");
    if (!volume_name.empty()) {
      // The user asked for this volume.
      auto pv = GetVolume(volume_name);
      if (!pv) {
        ClaimEvent(claim, "Warning", "FailedBinding",
                   Cat("volume \"", volume_name, "\" not found"));
        return SetClaimPhase(claim, "Pending");
      }
      if (Field(Spec(*pv), "claimRef").is_object() && !RefersTo(*pv, claim)) {
        ClaimEvent(claim, "Warning", "FailedBinding",
                   Cat("volume \"", volume_name, "\" already bound to a different claim."));
        return SetClaimPhase(claim, "Pending");
      }
      std::string why = Mismatch(claim, *pv);
      if (!why.empty()) {
        std::string message = "Cannot bind to requested volume \"";
        message += volume_name;
        message += "\": ";
        message += why;
        ClaimEvent(claim, "Warning", "VolumeMismatch", message);
        return SetClaimPhase(claim, "Pending");
      }
      return Bind(claim, *pv, /*claim_by_controller=*/false);
    }
    std::string class_name = ClaimClass(claim);
    std::optional<json> sc = class_name.empty() ? std::nullopt : classes_.Get(class_name);
    const bool delay = sc && Str(*sc, "volumeBindingMode") == "WaitForFirstConsumer";
    const std::string selected = Annotation(claim, kSelectedNodeAnnotation);
    std::optional<json> node;
    if (!selected.empty()) node = nodes_.Get(selected);
    if (auto pv = FindBestMatch(claim, delay, selected, node)) {
      return Bind(claim, *pv, /*claim_by_controller=*/true);
    }
    if (delay && selected.empty()) {
      ClaimEvent(claim, "Normal", "WaitForFirstConsumer",
                 "waiting for first consumer to be created before binding");
    } else if (class_name.empty()) {
      ClaimEvent(claim, "Normal", "FailedBinding",
                 "no persistent volumes available for this claim and no storage class is set");
    } else if (!sc) {
      std::string message = "storageclass.storage.k8s.io \"";
      message += class_name;
      message += "\" not found";
      ClaimEvent(claim, "Warning", "ProvisioningFailed", message);
    } else if (Str(*sc, "provisioner") == api::kLocalPathProvisioner) {
      return Provision(claim, *sc, selected);
    } else if (Str(*sc, "provisioner") == "kubernetes.io/no-provisioner") {
      ClaimEvent(claim, "Normal", "FailedBinding",
                 "no persistent volumes available for this claim");
    } else {
      std::string message =
          "Waiting for a volume to be created either by the external provisioner '";
      message += Str(*sc, "provisioner");
      message +=
          "' or manually by the system administrator. If volume creation is delayed, please "
          "verify that the provisioner is running and correctly registered.";
      ClaimEvent(claim, "Normal", "ExternalProvisioning", message);
    }
    return SetClaimPhase(claim, "Pending");
  }

  // Kubernetes' findMatchingVolume: a volume pre-bound to the claim wins at
  // once; otherwise the smallest free one that fits.
  std::optional<json> FindBestMatch(const json& claim, bool delay, const std::string& selected,
                                    const std::optional<json>& node) {
    const int64_t request = Bytes(ClaimRequest(claim));
    const std::set<std::string> modes = AccessModes(claim);
    const std::string mode = VolumeMode(claim);
    const std::string class_name = ClaimClass(claim);
    std::optional<api::LabelSelector> selector;
    if (const json& s = Field(Spec(claim), "selector"); !s.is_null()) {
      auto parsed = api::LabelSelector::FromJson(s);
      selector = parsed.ok() ? *parsed : api::LabelSelector::Nothing();
    }
    std::optional<json> best;
    int64_t best_size = 0;
    for (json& pv : ListVolumes()) {
      if (Deleting(pv)) continue;
      const int64_t size = Bytes(VolumeCapacity(pv));
      if (size < request || VolumeMode(pv) != mode) continue;
      std::set<std::string> offered = AccessModes(pv);
      if (!std::includes(offered.begin(), offered.end(), modes.begin(), modes.end())) continue;
      const bool on_node = selected.empty() || (node && AffinityAdmits(pv, *node));
      if (RefersTo(pv, claim)) {
        if (on_node) return pv;
        continue;
      }
      if (delay && selected.empty()) continue;
      if (Field(Spec(pv), "claimRef").is_object()) continue;
      if (Phase(pv) == "Released" || Phase(pv) == "Failed") continue;
      if (VolumeClass(pv) != class_name) continue;
      if (selector && !selector->Matches(Field(Meta(pv), "labels"))) continue;
      if (!on_node) continue;
      if (!best || size < best_size || (size == best_size && Name(pv) < Name(*best))) {
        best_size = size;
        best = std::move(pv);
      }
    }
    return best;
  }

  Status Bind(json claim, json pv, bool claim_by_controller) {
    if (!RefersTo(pv, claim) || Str(Field(Spec(pv), "claimRef"), "uid").empty()) {
      if (!Field(Spec(pv), "claimRef").is_object()) {
        pv["metadata"]["annotations"][kBoundByControllerAnnotation] = "yes";
      }
      pv["spec"]["claimRef"] = {{"kind", "PersistentVolumeClaim"},
                                {"apiVersion", "v1"},
                                {"namespace", Namespace(claim)},
                                {"name", Name(claim)},
                                {"uid", Uid(claim)},
                                {"resourceVersion", Str(Meta(claim), "resourceVersion")}};
      RETURN_IF_ERROR(UpdateVolume(pv));
    }
    // The volume's claimRef, written first, is what reserves it; its phase
    // only follows. So the claim is bound before the volume's phase is
    // written: a pod waiting for the claim starts one write sooner, and a
    // crash in between leaves a claimed volume whose next sync says Bound.
    if (Str(Spec(claim), "volumeName") != Name(pv) ||
        Annotation(claim, kBindCompletedAnnotation) != "yes" ||
        (claim_by_controller && Annotation(claim, kBoundByControllerAnnotation) != "yes")) {
      claim["spec"]["volumeName"] = Name(pv);
      claim["metadata"]["annotations"][kBindCompletedAnnotation] = "yes";
      if (claim_by_controller) {
        claim["metadata"]["annotations"][kBoundByControllerAnnotation] = "yes";
      }
      RETURN_IF_ERROR(UpdateClaim(claim));
    }
    RETURN_IF_ERROR(WriteBoundStatus(claim, pv, std::nullopt));
    return SetVolumePhase(pv, "Bound");
  }

  // The claim's status as a claim bound to pv; resize_error: the condition
  // to show, or none (an earlier one is removed).
  Status WriteBoundStatus(json claim, const json& pv, std::optional<std::string> resize_error) {
    json status = Field(claim, "status");
    if (!status.is_object()) status = json::object();
    status["phase"] = "Bound";
    status["capacity"] = Field(Spec(pv), "capacity");
    status["accessModes"] = Field(Spec(pv), "accessModes");
    json conditions = json::array();
    json previous;
    if (const json& c = Field(status, "conditions"); c.is_array()) {
      for (const json& cond : c) {
        if (Str(cond, "type") == kResizeErrorCondition) {
          previous = cond;
        } else {
          conditions.push_back(cond);
        }
      }
    }
    if (resize_error) {
      if (Str(previous, "message") == *resize_error) {
        conditions.push_back(previous);
      } else {
        json condition = {{"type", kResizeErrorCondition},
                          {"status", "True"},
                          {"reason", "VolumeExpansionNotAllowed"},
                          {"message", *resize_error},
                          {"lastTransitionTime", NowRfc3339()}};
        conditions.push_back(std::move(condition));
      }
    }
    if (conditions.empty()) {
      status.erase("conditions");
    } else {
      status["conditions"] = conditions;
    }
    if (status == Field(claim, "status")) return Status::Ok();
    claim["status"] = status;
    return UpdateClaimStatus(claim);
  }

  Status SetClaimLost(json claim, const char* reason, const std::string& message) {
    if (Phase(claim) != "Lost") ClaimEvent(claim, "Warning", reason, message);
    return SetClaimPhase(claim, "Lost");
  }

  Status SyncBoundClaim(json claim) {
    std::string volume_name = Str(Spec(claim), "volumeName");
    if (volume_name.empty()) {
      return SetClaimLost(claim, "ClaimLost",
                          "Bound claim has lost reference to PersistentVolume. Data on the volume "
                          "is lost!");
    }
    auto pv = GetVolume(volume_name);
    if (!pv) {
      // The cache may lag behind a volume just created: ask the server.
      auto live = client_->Get(client::kPersistentVolumes, "", volume_name);
      if (!live.ok() && live.status().code() != Code::kNotFound) return live.status();
      if (!live.ok()) {
        return SetClaimLost(claim, "ClaimLost",
                            "Bound claim has lost its PersistentVolume. Data on the volume is "
                            "lost!");
      }
      pv = *live;
    }
    if (Field(Spec(*pv), "claimRef").is_object() && !RefersTo(*pv, claim)) {
      return SetClaimLost(claim, "ClaimMisbound",
                          "Two claims are bound to the same volume, this one is bound incorrectly");
    }
    // Bind (again) what is not bound yet, then look at expansion.
    if (!RefersTo(*pv, claim) || Phase(*pv) != "Bound" || Phase(claim) != "Bound") {
      RETURN_IF_ERROR(Bind(claim, *pv, Annotation(claim, kBoundByControllerAnnotation) == "yes"));
      return Status::Ok();  // the next sync (the writes queue it) looks at expansion
    }
    return Expand(claim, *pv);
  }

  Status Expand(json claim, json pv) {
    const json& request = ClaimRequest(claim);
    if (Bytes(request) <= Bytes(VolumeCapacity(pv))) {
      return WriteBoundStatus(claim, pv, std::nullopt);
    }
    std::string class_name = ClaimClass(claim);
    std::optional<json> sc = class_name.empty() ? std::nullopt : classes_.Get(class_name);
    if (!sc || Field(*sc, "allowVolumeExpansion") != json(true)) {
      std::string message = "storageclass \"";
      message += class_name;
      message += "\" does not allow volume expansion";
      if (class_name.empty())
        message = "only claims of a StorageClass that allows volume expansion can be expanded";
      ClaimEvent(claim, "Warning", "VolumeResizeFailed", message);
      return WriteBoundStatus(claim, pv, message);
    }
    if (!IsLocalPath(pv)) {
      ClaimEvent(claim, "Normal", "ExternalExpanding",
                 "waiting for an external controller to expand this PVC");
      return Status::Ok();
    }
    std::string from = VolumeCapacity(pv).is_string() ? VolumeCapacity(pv).get<std::string>() : "";
    pv["spec"]["capacity"]["storage"] = request;
    RETURN_IF_ERROR(UpdateVolume(pv));
    std::string message = "resize volume \"";
    message += Name(pv);
    message += "\" from ";
    message += from;
    message += " to ";
    message += request.get<std::string>();
    message += " succeeded";
    ClaimEvent(claim, "Normal", "VolumeResizeSuccessful", message);
    return WriteBoundStatus(claim, pv, std::nullopt);
  }

  // --- provisioning --------------------------------------------------------------

  // Free local storage per node: allocatable minus local-path volumes pinned
  // there and claims selected there and not yet provisioned.
  std::string PickNode(int64_t request) {
    std::map<std::string, int64_t> used;
    for (const json& pv : ListVolumes()) {
      if (IsLocalPath(pv)) used[PinnedNode(pv)] += Bytes(VolumeCapacity(pv));
    }
    for (const json& c : claims_.List()) {
      std::string node = Annotation(c, kSelectedNodeAnnotation);
      if (!node.empty() && Str(Spec(c), "volumeName").empty()) used[node] += Bytes(ClaimRequest(c));
    }
    std::string best;
    int64_t best_free = -1;
    for (const json& node : nodes_.List()) {
      if (Field(Spec(node), "unschedulable") == json(true) || !NodeReady(node)) continue;
      if (Annotation(node, kVolumeRootAnnotation).empty()) continue;
      int64_t free = Bytes(Field(Field(Field(node, "status"), "allocatable"), kLocalStorage)) -
                     used[Name(node)];
      if (free >= request && free > best_free) {
        best_free = free;
        best = Name(node);
      }
    }
    return best;
  }

  Status Provision(json claim, const json& sc, std::string node_name) {
    const std::string name = Cat("pvc-", Uid(claim));
    if (GetVolume(name)) return Status::Ok();  // provisioned; it binds once it matches
    auto fail = [&](const std::string& message) {
      ClaimEvent(claim, "Warning", "ProvisioningFailed", message);
      return SetClaimPhase(claim, "Pending");
    };
    if (VolumeMode(claim) != "Filesystem") {
      return fail("kennel.io/local-path provisions only volumeMode Filesystem");
    }
    const json& request = ClaimRequest(claim);
    if (node_name.empty()) {
      node_name = PickNode(Bytes(request));
      if (node_name.empty()) {
        std::string message = "no ready node has ";
        message += request.is_string() ? request.get<std::string>() : "0";
        message += " of free kennel.io/local-storage";
        return fail(message);
      }
    }
    auto node = nodes_.Get(node_name);
    if (!node) return fail(Cat("node \"", node_name, "\" not found"));
    std::string root = Annotation(*node, kVolumeRootAnnotation);
    if (root.empty()) {
      std::string message = "node \"";
      message += node_name;
      message += "\" does not publish kennel.io/volume-root (its agent sets it at registration)";
      return fail(message);
    }
    std::string hostname = Str(Field(Meta(*node), "labels"), kHostnameLabel);
    if (hostname.empty()) hostname = node_name;
    std::string message = "External provisioner is provisioning volume for claim \"";
    message += ClaimKey(Namespace(claim), Name(claim));
    message += "\"";
    ClaimEvent(claim, "Normal", "Provisioning", message);
    std::string reclaim = Str(sc, "reclaimPolicy");
    json modes = Field(Spec(claim), "accessModes");
    if (!modes.is_array() || modes.empty()) modes = json::array({"ReadWriteOnce"});
    std::string path = root;
    path += "/";
    path += name;
    json pv = {{"apiVersion", "v1"},
               {"kind", "PersistentVolume"},
               {"metadata",
                {{"name", name},
                 {"labels", {{kLocalPathNodeLabel, node_name}}},
                 {"annotations",
                  {{kProvisionedByAnnotation, api::kLocalPathProvisioner},
                   {kBoundByControllerAnnotation, "yes"}}}}},
               {"spec",
                {{"capacity", {{"storage", request}}},
                 {"accessModes", modes},
                 {"persistentVolumeReclaimPolicy", reclaim.empty() ? "Delete" : reclaim},
                 {"storageClassName", ClaimClass(claim)},
                 {"volumeMode", "Filesystem"},
                 {"local", {{"path", path}}},
                 {"nodeAffinity",
                  {{"required",
                    {{"nodeSelectorTerms",
                      json::array({{{"matchExpressions",
                                     json::array({{{"key", kHostnameLabel},
                                                   {"operator", "In"},
                                                   {"values", json::array({hostname})}}})}}})}}}}},
                 {"claimRef",
                  {{"kind", "PersistentVolumeClaim"},
                   {"apiVersion", "v1"},
                   {"namespace", Namespace(claim)},
                   {"name", Name(claim)},
                   {"uid", Uid(claim)},
                   {"resourceVersion", Str(Meta(claim), "resourceVersion")}}}}}};
    if (const json& mount_options = Field(sc, "mountOptions"); mount_options.is_array()) {
      pv["spec"]["mountOptions"] = mount_options;
    }
    auto created = client_->Create(client::kPersistentVolumes, "", pv);
    if (!created.ok()) {
      if (created.status().code() == Code::kAlreadyExists) return Status::Ok();
      ClaimEvent(claim, "Warning", "ProvisioningFailed", created.status().message());
      return created.status();
    }
    AssumeVolume(*created);
    std::string done = "Successfully provisioned volume ";
    done += name;
    done += " using ";
    done += api::kLocalPathProvisioner;
    ClaimEvent(claim, "Normal", "ProvisioningSucceeded", done);
    return Bind(claim, *created, /*claim_by_controller=*/true);
  }

  // --- volumes -------------------------------------------------------------------

  Status SyncVolume(const std::string& name) {
    auto found = GetVolume(name);
    if (!found || Deleting(*found)) return Status::Ok();
    json pv = *std::move(found);
    const json& ref = Field(Spec(pv), "claimRef");
    if (!ref.is_object() || Str(ref, "uid").empty()) {
      if (Phase(pv) == "Released" || Phase(pv) == "Failed") {
        // An administrator cleared the claimRef to make it available again.
        if (ref.is_object()) return Status::Ok();
      }
      return SetVolumePhase(pv, "Available");
    }
    const std::string key = ClaimKey(Str(ref, "namespace"), Str(ref, "name"));
    std::optional<json> claim = GetClaim(key);
    if (!claim) {
      // Not in the cache: ask the server before releasing anything.
      auto live =
          client_->Get(client::kPersistentVolumeClaims, Str(ref, "namespace"), Str(ref, "name"));
      if (!live.ok() && live.status().code() != Code::kNotFound) return live.status();
      if (live.ok()) claim = *live;
    }
    if (claim && Uid(*claim) == Str(ref, "uid")) {
      std::string bound_to = Str(Spec(*claim), "volumeName");
      if (bound_to.empty()) {
        queue_.Add(Cat("c:", key));  // pre-bound: the claim's sync finishes it
        return Status::Ok();
      }
      if (bound_to == name) return SetVolumePhase(pv, "Bound");
      // The claim is bound to another volume.
      if (Annotation(pv, kBoundByControllerAnnotation) == "yes" && !IsLocalPath(pv)) {
        pv["spec"].erase("claimRef");
        pv["metadata"]["annotations"].erase(kBoundByControllerAnnotation);
        RETURN_IF_ERROR(UpdateVolume(pv));
        return SetVolumePhase(pv, "Available");
      }
      if (!IsLocalPath(pv)) return Status::Ok();
    }
    // The claim is gone.
    if (Phase(pv) != "Released" && Phase(pv) != "Failed") {
      RETURN_IF_ERROR(SetVolumePhase(pv, "Released"));
    }
    return Reclaim(pv);
  }

  Status Reclaim(json pv) {
    std::string policy = Str(Spec(pv), "persistentVolumeReclaimPolicy");
    if (policy == "Retain" || policy.empty() || Phase(pv) == "Failed") return Status::Ok();
    if (policy == "Recycle") {
      Event(pv, "PersistentVolume", "Warning", "VolumeFailedRecycle",
            "the Recycle reclaim policy is not supported; use Retain or Delete");
      return SetVolumePhase(pv, "Failed", "the Recycle reclaim policy is not supported");
    }
    if (IsLocalPath(pv)) {
      // The node's agent removes the directory, then the object; without the
      // node there is nobody to do it and nothing left to remove.
      std::string node = Str(Field(Meta(pv), "labels"), kLocalPathNodeLabel);
      if (node.empty() || nodes_.Get(node)) return Status::Ok();
      auto live = client_->Get(client::kNodes, "", node);
      if (live.ok() || live.status().code() != Code::kNotFound) return live.status();
    }
    client::DeleteOptions options;
    options.precondition_uid = Uid(pv);
    Status st = client_->Delete(client::kPersistentVolumes, "", Name(pv), options);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
    std::lock_guard lock(mu_);
    assumed_volumes_.erase(Name(pv));
    return Status::Ok();
  }

  client::Client* client_;
  VolumeBinderOptions options_;
  client::Informer claims_;
  client::Informer volumes_;
  client::Informer classes_;
  client::Informer nodes_;
  client::EventRecorder events_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;
  std::thread resync_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                        // guarded by mu_
  std::map<std::string, json> assumed_claims_;   // guarded by mu_: "ns/name" → written
  std::map<std::string, json> assumed_volumes_;  // guarded by mu_: name → written
};

}  // namespace

StatusOr<std::unique_ptr<VolumeBinder>> VolumeBinder::Start(client::Client* client,
                                                            VolumeBinderOptions options) {
  if (client == nullptr) return BadRequest("the volume binder needs a client");
  auto binder = std::make_unique<VolumeBinderImpl>(client, options);
  if (options.create_default_class) binder->EnsureDefaultClass();
  binder->Run();
  return std::unique_ptr<VolumeBinder>(std::move(binder));
}

}  // namespace kennel::controllers
