#include "agent/local_path.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>

#include "api/json_access.h"
#include "base/thread.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kennel::agent {
namespace {

namespace fs = std::filesystem;
using api::Field;
using api::Str;
using nlohmann::json;

constexpr const char* kProvisionedBy = "pv.kubernetes.io/provisioned-by";
constexpr const char* kLocalPath = "kennel.io/local-path";
constexpr const char* kNodeLabel = "kennel.io/local-path-node";

// The volume's directory when it is a local-path volume laid out as
// <volume_root>/<name>; "" otherwise (never touched).
std::string OwnedPath(const json& pv, const std::string& volume_root) {
  const json& meta = Field(pv, "metadata");
  if (Str(Field(meta, "annotations"), kProvisionedBy) != kLocalPath) return "";
  std::string name = Str(meta, "name");
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return "";
  }
  const json& spec = Field(pv, "spec");
  std::string path = Str(Field(spec, "local"), "path");
  if (path.empty()) path = Str(Field(spec, "hostPath"), "path");
  std::string expected = volume_root;
  expected += "/";
  expected += name;
  return path == expected ? path : "";
}

// The node named by the volume's affinity (kubernetes.io/hostname In [node]).
bool PinnedTo(const json& pv, const std::string& node) {
  const json& terms =
      Field(Field(Field(Field(pv, "spec"), "nodeAffinity"), "required"), "nodeSelectorTerms");
  if (!terms.is_array() || terms.size() != 1) return false;
  const json& exprs = Field(terms[0], "matchExpressions");
  if (!exprs.is_array()) return false;
  for (const json& e : exprs) {
    const json& values = Field(e, "values");
    if (Str(e, "key") == "kubernetes.io/hostname" && Str(e, "operator") == "In" &&
        values.is_array() && values.size() == 1 && values[0] == json(node)) {
      return true;
    }
  }
  return false;
}

class ReclaimerImpl : public LocalPathReclaimer {
 public:
  ReclaimerImpl(client::Client* client, std::string node, std::string root, client::ListOptions sel)
      : client_(client),
        node_(std::move(node)),
        root_(std::move(root)),
        volumes_(client, client::kPersistentVolumes, "", std::move(sel)) {
    client::InformerHandler handler;
    handler.on_add = [this](const json& pv) { Consider(pv); };
    handler.on_update = [this](const json&, const json& pv) { Consider(pv); };
    volumes_.AddHandler(std::move(handler));
    volumes_.Start();
    worker_ = std::thread([this] {
      NameThisThread("local-path");
      Work();
    });
    resync_ = std::thread([this] { Resync(); });
  }

  ~ReclaimerImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    volumes_.Stop();
    queue_.ShutDown();
    worker_.join();
    resync_.join();
  }

 private:
  bool Due(const json& pv) const {
    const json& spec = Field(pv, "spec");
    return Str(Field(pv, "status"), "phase") == "Released" &&
           Str(spec, "persistentVolumeReclaimPolicy") == "Delete" &&
           Field(Field(pv, "metadata"), "deletionTimestamp").is_null() && PinnedTo(pv, node_) &&
           !OwnedPath(pv, root_).empty();
  }

  void Consider(const json& pv) {
    if (Due(pv)) queue_.Add(Str(Field(pv, "metadata"), "name"));
  }

  void Resync() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_; })) {
      lock.unlock();
      for (const json& pv : volumes_.List()) Consider(pv);
      lock.lock();
    }
  }

  void Work() {
    while (auto name = queue_.Get()) {
      Status st = Reclaim(*name);
      if (st.ok()) {
        queue_.Forget(*name);
      } else {
        spdlog::warn("agent: reclaiming persistentvolume {}: {}", *name, st.ToString());
        queue_.AddRateLimited(*name);
      }
      queue_.Done(*name);
    }
  }

  Status Reclaim(const std::string& name) {
    auto pv = volumes_.Get(name);
    if (!pv || !Due(*pv)) return Status::Ok();
    std::string path = OwnedPath(*pv, root_);
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) {
      std::string message = "remove ";
      message += path;
      message += ": ";
      message += ec.message();
      return Internal(message);
    }
    client::DeleteOptions options;
    options.precondition_uid = Str(Field(*pv, "metadata"), "uid");
    Status st = client_->Delete(client::kPersistentVolumes, "", name, options);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
    spdlog::info("agent: deleted persistentvolume {} and its directory {}", name, path);
    return Status::Ok();
  }

  client::Client* client_;
  std::string node_;
  std::string root_;
  client::Informer volumes_;
  client::WorkQueue queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread worker_;
  std::thread resync_;
};

}  // namespace

std::string LocalPathVolumeRoot(const std::string& data_dir) {
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(data_dir) / "volumes", ec);
  if (ec) root = fs::path(data_dir) / "volumes";
  return root.lexically_normal().string();
}

Status EnsureLocalPathDirectory(const json& pv, const std::string& volume_root) {
  std::string path = OwnedPath(pv, volume_root);
  if (path.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Status::Ok();
  fs::create_directories(path, ec);
  // 0777 whatever the umask: pods run as any user.
  if (ec || ::chmod(path.c_str(), 0777) != 0) {
    std::string message = "create local-path volume directory ";
    message += path;
    if (ec) {
      message += ": ";
      message += ec.message();
    }
    return Internal(message);
  }
  return Status::Ok();
}

std::unique_ptr<LocalPathReclaimer> LocalPathReclaimer::Start(client::Client* client,
                                                              std::string node_name,
                                                              std::string volume_root) {
  client::ListOptions selector;
  selector.label_selector = kNodeLabel;
  selector.label_selector += "=";
  selector.label_selector += node_name;
  return std::make_unique<ReclaimerImpl>(client, std::move(node_name), std::move(volume_root),
                                         std::move(selector));
}

}  // namespace kennel::agent
