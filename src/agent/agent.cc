#include "agent/agent.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/agent_server.h"
#include "agent/internal/ipam.h"
#include "agent/internal/json_fields.h"
#include "agent/local_path.h"
#include "agent/node_status.h"
#include "agent/pod_status.h"
#include "agent/prober.h"
#include "agent/volumes.h"
#include "base/file.h"
#include "base/thread.h"
#include "base/time.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "proxy/proxy.h"

namespace kennel::agent {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using client::json;

constexpr int kMaxPods = 110;
constexpr int64_t kBackoffStartSeconds = 10;
constexpr int64_t kBackoffMaxSeconds = 300;
// A container that ran this long before it ended starts its back-off afresh.
constexpr int64_t kBackoffResetSeconds = 600;
// How long a container may look vanished (no process, no recorded exit)
// before the agent counts it as ended: the shim writes the exit just after.
constexpr auto kVanishedGrace = std::chrono::seconds(5);
// A pod whose claim the provisioner is still binding looks again at least this often.
constexpr auto kClaimPollInterval = std::chrono::milliseconds(100);
constexpr std::string_view kClaimNotBoundYet = " is not bound yet";

bool IsClaimNotBoundYet(const Status& status) {
  return status.code() == Code::kUnavailable && status.message().ends_with(kClaimNotBoundYet);
}

using internal::Str;

const json& Meta(const json& obj) {
  static const json kEmpty = json::object();
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::chrono::milliseconds MillisCeil(int64_t ns) {
  return std::chrono::milliseconds((std::max<int64_t>(ns, 0) + 999'999) / 1'000'000);
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

struct ContainerRecord {
  int attempt = -1;  // the newest attempt started; -1 = never
  int64_t backoff_seconds = 0;
  int64_t restart_not_before_ns = 0;
  bool term_sent = false;
  std::optional<Clock::time_point> vanished_since;
  // A failed liveness/startup probe or postStart hook: the attempt is being
  // killed (SIGTERM now, SIGKILL at the deadline) so that it restarts.
  std::optional<int64_t> kill_deadline_ns;
  std::string kill_message;
  // Lifecycle hooks run on the prober's thread; these say how far they got.
  std::shared_ptr<std::atomic<int>> post_start;  // 0 running, 1 ok, 2 failed
  std::shared_ptr<std::atomic<bool>> pre_stop_done;
};

struct PodRecord {
  std::string uid;
  std::string key;
  std::string dir;
  std::string start_time;
  Sandbox sandbox;
  bool sandbox_ready = false;
  bool files_ready = false;  // etc-hosts, resolv.conf, hostname
  bool volumes_ready = false;
  std::map<std::string, PreparedVolume> volumes;
  std::map<std::string, ContainerRecord> containers;  // init and app, by name
  json last_status;
  int64_t grace_seconds = 30;               // from the last spec seen, for a pod deleted outright
  std::optional<int64_t> kill_deadline_ns;  // set once the pod is being stopped
  std::vector<std::string> probe_ids;       // running attempts seen by the last sync
};

class AgentImpl : public Agent {
 public:
  AgentImpl(client::Client* client, AgentOptions options)
      : client_(client), options_(std::move(options)) {}

  ~AgentImpl() override { Stop(); }

  const std::string& node_name() const override { return options_.node_name; }
  const std::string& gateway_ip() const override { return gateway_ip_; }

  Status Init() {
    if (options_.node_name.empty()) options_.node_name = DefaultNodeName();
    if (options_.bridge.empty()) options_.bridge = "kennel0";
    if (options_.isolation == Isolation::kNamespaces) {
      Status support = CheckIsolationSupport();
      if (!support.ok()) {
        return Status(Code::kUnavailable,
                      support.message() +
                          " (run as root on a kernel with namespaces, overlayfs and cgroups, or "
                          "pass --isolation=none to run pods as plain host processes)");
      }
    }
    dir_ = options_.data_dir + "/agent/" + options_.node_name;
    std::error_code ec;
    fs::create_directories(dir_ + "/pods", ec);
    if (ec) return Internal("create " + dir_ + ": " + ec.message());
    host_ip_ = PrimaryHostIp();
    AgentServerOptions serving;
    serving.port = options_.serving_port;
    serving.pki_dir = dir_ + "/pki";
    serving.host_ip = host_ip_;
    serving.token = options_.serving_token;
    ASSIGN_OR_RETURN(
        server_, AgentServer::Start(serving, [this](auto&&... args) { return Locate(args...); }));
    volume_root_ = LocalPathVolumeRoot(options_.data_dir);
    RETURN_IF_ERROR(RegisterNode());
    reclaimer_ = LocalPathReclaimer::Start(client_, options_.node_name, volume_root_);
    if (options_.isolation == Isolation::kNamespaces) {
      ASSIGN_OR_RETURN(std::string cidr, WaitForPodCidr());
      network_.bridge = options_.bridge;
      network_.pod_cidr = cidr;
      network_.ipam_dir = dir_ + "/ipam";
      RETURN_IF_ERROR(EnsureNodeNetwork(network_));
      ASSIGN_OR_RETURN(internal::Ipv4Cidr parsed_cidr, internal::ParseCidr(cidr));
      gateway_ip_ = internal::FormatIpv4(parsed_cidr.Gateway());
      if (options_.dns_on_gateway && options_.dns.server_ip.empty()) {
        options_.dns.server_ip = gateway_ip_;
      }
      if (options_.service_proxy) StartServiceProxy();
    }
    AdoptPods();
    if (!network_.ipam_dir.empty()) {
      // Leases are not fsynced: after a machine crash some may be empty or
      // name pods this node no longer has.
      std::set<std::string> known;
      for (const auto& [uid, rec] : records_) known.insert(uid);
      Status st = internal::ReleaseLeasesExcept(network_.ipam_dir, known);
      if (!st.ok()) spdlog::warn("agent: releasing stale IP leases: {}", st.ToString());
    }
    prober_ = Prober::Start([this](const std::string& key) { queue_.Add(key); });
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return Internal("epoll_create1 failed");

    client::ListOptions selector;
    selector.field_selector = "spec.nodeName=" + options_.node_name;
    pods_ = std::make_unique<client::Informer>(client_, client::kPods, "", selector);
    client::InformerHandler handler;
    handler.on_add = [this](const json& pod) { queue_.Add(client::Informer::KeyOf(pod)); };
    handler.on_update = [this](const json&, const json& pod) {
      queue_.Add(client::Informer::KeyOf(pod));
    };
    handler.on_delete = [this](const json& pod) { queue_.Add(client::Informer::KeyOf(pod)); };
    pods_->AddHandler(std::move(handler));
    pods_->Start();
    WatchClaims();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this] {
        NameThisThread("agent-worker");
        WorkerLoop();
      });
    }
    heartbeat_ = std::thread([this] { HeartbeatLoop(); });
    exits_ = std::thread([this] {
      NameThisThread("agent-exits");
      ExitLoop();
    });
    spdlog::info("agent: node {} ready ({} isolation, pod CIDR {})", options_.node_name,
                 options_.isolation == Isolation::kNone ? "no" : "namespace",
                 network_.pod_cidr.empty() ? "-" : network_.pod_cidr);
    return Status::Ok();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_all();
    reclaimer_.reset();
    if (pods_) pods_->Stop();
    if (claims_) claims_->Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
    workers_.clear();
    if (heartbeat_.joinable()) heartbeat_.join();
    if (exits_.joinable()) exits_.join();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    epoll_fd_ = -1;
    if (options_.stop_pods_on_exit) {
      StopAllPods();
      // The node's own cgroup, empty now, goes too.
      RemoveCgroup("kennel/" + options_.node_name).IgnoreError();
    }
    if (prober_) prober_->Stop();
    proxy_.reset();
    if (server_) server_->Stop();
  }

 private:
  // Cluster IPs work from this node's pods once the proxy runs; without nft
  // the node still runs pods, so a missing proxy is a warning, not a failure.
  void StartServiceProxy() {
    proxy::ProxyOptions opts;
    opts.table = proxy::TableForBridge(network_.bridge);
    opts.pod_cidr = network_.pod_cidr;
    opts.remove_on_stop = options_.stop_pods_on_exit;
    auto started = proxy::ServiceProxy::Start(client_, opts);
    if (!started.ok()) {
      spdlog::warn("agent: no service proxy, cluster IPs will not answer: {}",
                   started.status().message());
      return;
    }
    proxy_ = std::move(started).value();
  }

  // --- Node ---------------------------------------------------------------

  Status RegisterNode() {
    auto existing = client_->Get(client::kNodes, "", options_.node_name);
    if (!existing.ok() && existing.status().code() != Code::kNotFound) {
      return Status(existing.status().code(), "agent: cannot read Node " + options_.node_name +
                                                  ": " + existing.status().message());
    }
    if (!existing.ok()) {
      json node = {{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata",
                    {{"name", options_.node_name},
                     {"labels",
                      {{"kubernetes.io/hostname", options_.node_name},
                       {"kubernetes.io/os", "linux"},
                       {"kubernetes.io/arch", "amd64"}}}}},
                   {"spec", json::object()}};
      auto created = client_->Create(client::kNodes, "", node);
      if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
        return Status(created.status().code(), "agent: cannot register Node " + options_.node_name +
                                                   ": " + created.status().message());
      }
    }
    // Where this node's local-path volumes live (agent/local_path.h).
    json root_patch = {{"metadata", {{"annotations", {{"kennel.io/volume-root", volume_root_}}}}}};
    RETURN_IF_ERROR(
        client_
            ->Patch(client::kNodes, "", options_.node_name, client::PatchType::kMerge, root_patch)
            .status());
    return UpdateNodeStatus();
  }

  Status UpdateNodeStatus() {
    auto node = client_->Get(client::kNodes, "", options_.node_name);
    if (!node.ok()) return node.status();
    MachineFacts facts = ReadMachineFacts(options_.data_dir, volume_root_);
    facts.host_ip = host_ip_;
    json status = NodeStatus(facts, node->value("status", json()), kMaxPods, server_->port());
    json patch = {{"status", status}};
    return client_
        ->Patch(client::kNodes, "", options_.node_name, client::PatchType::kMerge, patch, "status")
        .status();
  }

  StatusOr<std::string> WaitForPodCidr() {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto node = client_->Get(client::kNodes, "", options_.node_name);
      if (node.ok()) {
        std::string cidr = Str(node->value("spec", json::object()), "podCIDR");
        if (!cidr.empty()) return cidr;
      }
      if (Clock::now() >= deadline) {
        return Status(Code::kUnavailable, "agent: Node " + options_.node_name +
                                              " got no spec.podCIDR in 30 s (is the server's "
                                              "node IPAM controller running?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Status RenewLease() {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.node_name}, {"namespace", "kube-node-lease"}}},
                  {"spec",
                   {{"holderIdentity", options_.node_name},
                    {"leaseDurationSeconds", options_.lease_duration_seconds},
                    {"renewTime", NowRfc3339(TimePrecision::kMicros)}}}};
    auto current = client_->Get(client::kLeases, "kube-node-lease", options_.node_name);
    if (!current.ok()) {
      if (current.status().code() != Code::kNotFound) return current.status();
      return client_->Create(client::kLeases, "kube-node-lease", lease).status();
    }
    json next = *current;
    next["spec"] = lease["spec"];
    return client_->Update(client::kLeases, "kube-node-lease", next).status();
  }

  void HeartbeatLoop() {
    auto next_lease = Clock::now();
    auto next_status = Clock::now() + std::chrono::seconds(options_.status_update_seconds);
    std::unique_lock lock(mu_);
    while (!stopped_) {
      auto now = Clock::now();
      if (now >= next_lease) {
        lock.unlock();
        Status st = RenewLease();
        if (!st.ok()) spdlog::warn("agent: lease renewal failed: {}", st.ToString());
        lock.lock();
        next_lease = now + std::chrono::seconds(options_.lease_renew_seconds);
      }
      if (now >= next_status) {
        lock.unlock();
        Status st = UpdateNodeStatus();
        if (!st.ok()) spdlog::warn("agent: node status update failed: {}", st.ToString());
        lock.lock();
        next_status = now + std::chrono::seconds(options_.status_update_seconds);
      }
      cv_.wait_until(lock, std::min(next_lease, next_status), [this] { return stopped_; });
    }
  }

  // --- Logs and exec: where a container's files are ------------------------

  // Reads the pod's directory rather than the worker-owned records, so the
  // serving thread never races a worker.
  StatusOr<ContainerFiles> Locate(const std::string& ns, const std::string& pod,
                                  const std::string& container, bool previous) {
    std::string uid;
    {
      std::lock_guard lock(records_mu_);
      auto it = key_uid_.find(ns + "/" + pod);
      if (it != key_uid_.end()) uid = it->second;
    }
    if (uid.empty()) return NotFound("pod \"" + pod + "\" is not running on this node");
    const std::string pod_dir = PodDir(uid);
    int attempt = NewestAttempt(pod_dir, container);
    if (attempt < 0) {
      return NotFound("container \"" + container + "\" in pod \"" + pod + "\" is waiting to start");
    }
    if (previous) {
      if (attempt == 0) {
        return NotFound("previous terminated container \"" + container + "\" in pod \"" + pod +
                        "\" not found");
      }
      --attempt;
    }
    ContainerFiles files;
    files.state_dir = StateDir(pod_dir, container, attempt);
    files.log_path = LogPath(pod_dir, container, attempt);
    files.running = InspectContainer(files.state_dir).state == ContainerStatus::State::kRunning;
    return files;
  }

  // --- Exit notifications -------------------------------------------------

  // Wakes the pod's worker the moment a container's process ends (a pidfd
  // turns readable), instead of polling; a slow resync covers the rest.
  void WatchExit(pid_t pid, const std::string& key) {
    std::lock_guard lock(exit_mu_);
    if (watched_pids_.count(pid)) return;
    int fd = PidfdOpen(pid);
    if (fd < 0) {
      queue_.AddAfter(key, std::chrono::milliseconds(100));
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      return;
    }
    watched_pids_[pid] = fd;
    fd_keys_[fd] = {pid, key};
  }

  void ExitLoop() {
    auto next_resync = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopped_) return;
      }
      epoll_event events[16];
      int n = ::epoll_wait(epoll_fd_, events, 16, 200);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        std::string key;
        {
          std::lock_guard lock(exit_mu_);
          auto it = fd_keys_.find(fd);
          if (it == fd_keys_.end()) continue;
          key = it->second.second;
          watched_pids_.erase(it->second.first);
          fd_keys_.erase(it);
        }
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        queue_.Add(key);
      }
      // Level-triggered safety net: every pod is looked at now and then.
      if (Clock::now() >= next_resync) {
        next_resync = Clock::now() + std::chrono::seconds(5);
        std::lock_guard lock(records_mu_);
        for (const auto& [uid, rec] : records_) queue_.Add(rec.key);
        if (pods_) {
          for (const json& pod : pods_->List()) queue_.Add(client::Informer::KeyOf(pod));
        }
      }
    }
  }

  // --- Pod workers --------------------------------------------------------

  void WorkerLoop() {
    for (;;) {
      std::optional<std::string> key = queue_.Get();
      if (!key) return;
      SyncPod(*key);
      queue_.Done(*key);
    }
  }

  // Records of pods that ran before this agent started: their directories.
  void AdoptPods() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_ + "/pods", ec)) {
      auto text = ReadFile(entry.path().string() + "/pod.json");
      if (!text.ok()) continue;
      json meta = json::parse(*text, nullptr, false);
      if (!meta.is_object()) continue;
      PodRecord rec;
      rec.uid = entry.path().filename().string();
      rec.key = Str(meta, "key");
      rec.dir = entry.path().string();
      rec.start_time = Str(meta, "startTime");
      rec.grace_seconds = meta.value("grace", int64_t{30});
      for (const auto& c : fs::directory_iterator(rec.dir + "/containers", ec)) {
        std::string name = c.path().filename().string();
        rec.containers[name].attempt = NewestAttempt(rec.dir, name);
      }
      spdlog::info("agent: re-adopting pod {} ({})", rec.key, rec.uid);
      key_uid_[rec.key] = rec.uid;
      records_[rec.uid] = std::move(rec);
    }
  }

  PodRecord* Record(const std::string& uid) {
    std::lock_guard lock(records_mu_);
    auto it = records_.find(uid);
    return it == records_.end() ? nullptr : &it->second;
  }

  void SyncPod(const std::string& key) {
    std::optional<json> pod = pods_->Get(key);
    std::string old_uid;
    {
      std::lock_guard lock(records_mu_);
      if (auto it = key_uid_.find(key); it != key_uid_.end()) old_uid = it->second;
    }
    std::string uid = pod ? Str(Meta(*pod), "uid") : "";
    // The pod is gone (deleted outright), or replaced by a new one of that name.
    if (!old_uid.empty() && old_uid != uid) {
      if (!KillPod(old_uid, /*grace_from_spec=*/true)) {
        queue_.AddAfter(key, std::chrono::milliseconds(100));
        return;
      }
      ForgetPod(old_uid);
    }
    if (!pod) return;
    PodRecord& rec = EnsureRecord(*pod);
    if (!Str(Meta(*pod), "deletionTimestamp").empty()) {
      FinishDeletion(rec, *pod);
      return;
    }
    const std::string phase = Str(pod->value("status", json::object()), "phase");
    if (phase == "Succeeded" || phase == "Failed") {
      if (rec.sandbox_ready) ReleasePodResources(rec, /*keep_containers=*/true);
      return;
    }
    RunPod(rec, *pod);
  }

  PodRecord& EnsureRecord(const json& pod) {
    std::string uid = Str(Meta(pod), "uid");
    std::lock_guard lock(records_mu_);
    auto [it, inserted] = records_.try_emplace(uid);
    PodRecord& rec = it->second;
    rec.grace_seconds =
        pod.value("spec", json::object()).value("terminationGracePeriodSeconds", int64_t{30});
    if (inserted || rec.key.empty()) {
      rec.uid = uid;
      rec.key = client::Informer::KeyOf(pod);
      rec.dir = PodDir(uid);
      if (rec.start_time.empty()) rec.start_time = NowRfc3339();
      std::error_code ec;
      fs::create_directories(rec.dir, ec);
      json meta = {{"key", rec.key}, {"startTime", rec.start_time}, {"grace", rec.grace_seconds}};
      // No fsync: a machine crash ends the pod's processes, and a start that
      // finds this file unreadable skips the directory.
      WriteFileAtomically(rec.dir + "/pod.json", meta.dump(), 0600, Survives::kProcessCrash)
          .IgnoreError();
    }
    key_uid_[rec.key] = uid;
    return rec;
  }

  void ForgetPod(const std::string& uid) {
    std::string dir, key;
    {
      std::lock_guard lock(records_mu_);
      auto it = records_.find(uid);
      if (it == records_.end()) return;
      dir = it->second.dir;
      key = it->second.key;
      if (auto k = key_uid_.find(it->second.key); k != key_uid_.end() && k->second == uid) {
        key_uid_.erase(k);
      }
      records_.erase(it);
    }
    {
      std::lock_guard lock(claim_waiters_mu_);
      for (auto it = claim_waiters_.begin(); it != claim_waiters_.end();) {
        it->second.erase(key);
        it = it->second.empty() ? claim_waiters_.erase(it) : std::next(it);
      }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // A pod's files (the layout docs/architecture.md describes): attempt N of
  // a container is its restart N, with a state directory and a log each.
  std::string PodDir(const std::string& uid) const { return dir_ + "/pods/" + uid; }

  static std::string StateDir(const std::string& pod_dir, const std::string& name, int attempt) {
    return pod_dir + "/containers/" + name + "/" + std::to_string(attempt);
  }
  static std::string StateDir(const PodRecord& rec, const std::string& name, int attempt) {
    return StateDir(rec.dir, name, attempt);
  }

  static std::string LogPath(const std::string& pod_dir, const std::string& name, int attempt) {
    return pod_dir + "/logs/" + name + "/" + std::to_string(attempt) + ".log";
  }
  static std::string LogPath(const PodRecord& rec, const std::string& name, int attempt) {
    return LogPath(rec.dir, name, attempt);
  }

  // The newest attempt on disk of a container, -1 when it never started.
  static int NewestAttempt(const std::string& pod_dir, const std::string& name) {
    int attempt = -1;
    std::error_code ec;
    for (const auto& a : fs::directory_iterator(pod_dir + "/containers/" + name, ec)) {
      attempt = std::max(attempt, std::atoi(a.path().filename().c_str()));
    }
    return attempt;
  }

  std::string PodCgroup(const std::string& uid) const {
    return "kennel/" + options_.node_name + "/pod" + uid;
  }

  // Status of the container's newest attempt, with "vanished" (a process
  // gone without a recorded exit) turned into an exit after a short grace.
  std::optional<ContainerStatus> Observe(PodRecord& rec, const std::string& name) {
    ContainerRecord& cr = rec.containers[name];
    if (cr.attempt < 0) return std::nullopt;
    ContainerStatus s = InspectContainer(StateDir(rec, name, cr.attempt));
    if (s.state == ContainerStatus::State::kUnknown) {
      if (!cr.vanished_since) cr.vanished_since = Clock::now();
      if (Clock::now() - *cr.vanished_since < kVanishedGrace) {
        queue_.AddAfter(rec.key, std::chrono::milliseconds(100));
        s.state = ContainerStatus::State::kRunning;  // not known to be over yet
        return s;
      }
      s.state = ContainerStatus::State::kExited;
      s.exit_code = 137;
      if (s.finished_at_ns == 0) s.finished_at_ns = WallNowNs();
      if (s.message.empty()) s.message = "container process vanished without a recorded exit";
      return s;
    }
    cr.vanished_since.reset();
    if (s.state == ContainerStatus::State::kRunning && s.pid > 0) WatchExit(s.pid, rec.key);
    return s;
  }

  std::optional<ContainerStatus> ObservePrevious(PodRecord& rec, const std::string& name) {
    const ContainerRecord& cr = rec.containers[name];
    if (cr.attempt < 1) return std::nullopt;
    ContainerStatus s = InspectContainer(StateDir(rec, name, cr.attempt - 1));
    if (s.state != ContainerStatus::State::kExited) return std::nullopt;
    return s;
  }

  bool ShouldRestart(const std::string& policy, const ContainerStatus& s, bool init) {
    if (init) return policy != "Never" && s.exit_code != 0;
    if (policy == "Always") return true;
    if (policy == "OnFailure") return s.exit_code != 0;
    return false;
  }

  // Prepares what the pod needs once: sandbox (IP), hosts/resolv files, volumes.
  Status PreparePod(PodRecord& rec, const json& pod, PodRuntimeFacts& facts) {
    if (!rec.sandbox_ready) {
      SandboxSpec spec{rec.uid, PodHostname(pod), rec.dir + "/sandbox"};
      ASSIGN_OR_RETURN(rec.sandbox, EnsureSandbox(options_.isolation, network_, spec));
      rec.sandbox_ready = true;
      rec.files_ready = false;  // etc-hosts names the sandbox's IP
    }
    facts.pod_ip = rec.sandbox.ip;
    facts.host_ip = host_ip_;
    facts.node_name = options_.node_name;
    if (!rec.files_ready) {
      // Written again whenever the pod is prepared (after a machine crash
      // too): no fsync for them. Once per record, not on every retry while a
      // claim binds: each rewrite replaces (deletes) an inode, and ext4
      // without a journal scans past recently deleted ones on every create.
      const Survives survives = Survives::kProcessCrash;
      RETURN_IF_ERROR(WriteFileAtomically(rec.dir + "/etc-hosts",
                                          HostsFile(pod, rec.sandbox.ip, options_.dns.domain), 0644,
                                          survives));
      auto host_file = ReadFile(options_.dns.host_resolv_conf);
      std::string host_resolv = host_file.ok() ? *host_file : "";
      RETURN_IF_ERROR(WriteFileAtomically(
          rec.dir + "/resolv.conf", ResolvConf(pod, options_.dns, host_resolv), 0644, survives));
      RETURN_IF_ERROR(
          WriteFileAtomically(rec.dir + "/hostname", PodHostname(pod) + "\n", 0644, survives));
      rec.files_ready = true;
    }
    if (!rec.volumes_ready) {
      ASSIGN_OR_RETURN(rec.volumes, PrepareVolumes(pod, rec.dir + "/volumes", facts, Getter(),
                                                   PvcPathGetter(rec.key)));
      rec.volumes_ready = true;
    }
    return Status::Ok();
  }

  // A pod bound to this node before its WaitForFirstConsumer claim is bound
  // waits for the provisioner: the claim's Bound event wakes it at once
  // (polling alone would add up to a poll period to every such pet's start).
  void WatchClaims() {
    claims_ = std::make_unique<client::Informer>(client_, client::kPersistentVolumeClaims, "");
    client::InformerHandler handler;
    auto wake = [this](const json& pvc) {
      if (Str(pvc.value("status", json::object()), "phase") != "Bound") return;
      std::set<std::string> waiting;
      {
        std::lock_guard lock(claim_waiters_mu_);
        auto it = claim_waiters_.find(client::Informer::KeyOf(pvc));
        if (it == claim_waiters_.end()) return;
        waiting = std::move(it->second);
        claim_waiters_.erase(it);
      }
      for (const std::string& pod_key : waiting) queue_.Add(pod_key);
    };
    handler.on_add = wake;
    handler.on_update = [wake](const json&, const json& pvc) { wake(pvc); };
    claims_->AddHandler(std::move(handler));
    claims_->Start();
  }

  void ForgetClaimWaiter(const std::string& claim_key, const std::string& pod_key) {
    std::lock_guard lock(claim_waiters_mu_);
    auto it = claim_waiters_.find(claim_key);
    if (it == claim_waiters_.end()) return;
    it->second.erase(pod_key);
    if (it->second.empty()) claim_waiters_.erase(it);
  }

  ObjectGetter Getter() {
    return [this](const std::string& kind, const std::string& ns,
                  const std::string& name) -> StatusOr<json> {
      return client_->Get(kind == "Secret" ? client::kSecrets : client::kConfigMaps, ns, name);
    };
  }

  agent::PvcPathGetter PvcPathGetter(const std::string& pod_key) {
    return
        [this, pod_key](const std::string& ns, const std::string& claim) -> StatusOr<std::string> {
          // Listed before the read, so that a claim bound in between still wakes the pod.
          const std::string claim_key = ns + "/" + claim;
          {
            std::lock_guard lock(claim_waiters_mu_);
            claim_waiters_[claim_key].insert(pod_key);
          }
          // From the claims informer, whose Bound event is what wakes this
          // pod; the API only for a claim it has not seen (not synced yet, or
          // no such claim: that error is the pod's to show).
          StatusOr<json> pvc = [&]() -> StatusOr<json> {
            if (auto cached = claims_->Find(claim_key)) return *cached;
            return client_->Get(client::kPersistentVolumeClaims, ns, claim);
          }();
          if (!pvc.ok()) {
            ForgetClaimWaiter(claim_key, pod_key);
            return pvc.status();
          }
          std::string volume = Str(pvc->value("spec", json::object()), "volumeName");
          if (volume.empty() || Str(pvc->value("status", json::object()), "phase") != "Bound") {
            return Status(Code::kUnavailable, "persistentvolumeclaim \"" + claim + "\"" +
                                                  std::string(kClaimNotBoundYet));
          }
          ForgetClaimWaiter(claim_key, pod_key);
          ASSIGN_OR_RETURN(json pv, client_->Get(client::kPersistentVolumes, "", volume));
          RETURN_IF_ERROR(EnsureLocalPathDirectory(pv, volume_root_));
          const json spec = pv.value("spec", json::object());
          if (spec.contains("hostPath")) RETURN_IF_ERROR(PrepareHostPath(spec["hostPath"]));
          for (const char* source : {"local", "hostPath"}) {
            std::string path = Str(spec.value(source, json::object()), "path");
            if (!path.empty()) return path;
          }
          return BadRequest("persistentvolume \"" + volume +
                            "\" has no local or hostPath source this node can mount");
        };
  }

  StatusOr<ContainerSpec> BuildContainerSpec(PodRecord& rec, const json& pod, const json& c,
                                             int attempt, const PodRuntimeFacts& facts) {
    const std::string name = c.value("name", "");
    ContainerSpec spec;
    spec.name = name;
    spec.image = c.value("image", "");
    ASSIGN_OR_RETURN(spec.env, ResolveEnv(pod, c, facts, Getter()));
    // Kubernetes sets these for every container; HOSTNAME comes from the shim.
    spec.argv = ContainerArgv(c, spec.env);
    if (spec.argv.empty()) {
      return Status(Code::kInvalid,
                    "container \"" + name +
                        "\" has no command: the host image has no entrypoint, so give "
                        "command (and args)");
    }
    spec.working_dir = c.value("workingDir", "");
    ASSIGN_OR_RETURN(spec.mounts, ContainerMounts(c, rec.volumes));
    spec.mounts.push_back({rec.dir + "/etc-hosts", "/etc/hosts", "bind", false, ""});
    spec.mounts.push_back({rec.dir + "/resolv.conf", "/etc/resolv.conf", "bind", false, ""});
    spec.mounts.push_back({rec.dir + "/hostname", "/etc/hostname", "bind", false, ""});
    spec.cpu_limit_milli = ResourceMilliCpu(c, "limits");
    spec.memory_limit_bytes = ResourceMemoryBytes(c, "limits");
    spec.cpu_request_milli = ResourceMilliCpu(c, "requests");
    spec.state_dir = StateDir(rec, name, attempt);
    spec.log_path = LogPath(rec, name, attempt);
    spec.cgroup_parent = PodCgroup(rec.uid);
    (void)pod;
    return spec;
  }

  // Starts attempt `attempt` of container c, dropping attempts older than the
  // one before it (only the last ended attempt is kept, for lastState/logs).
  void StartAttempt(PodRecord& rec, const json& pod, const json& c, ObservedContainer& oc,
                    const PodRuntimeFacts& facts) {
    const std::string name = c.value("name", "");
    ContainerRecord& cr = rec.containers[name];
    const std::string image = c.value("image", "");
    if (image != "host") {
      oc.waiting_reason = "ErrImageNeverPull";
      oc.waiting_message = "image \"" + image +
                           "\" is not available on this node: Kennel has no image store yet; "
                           "use image \"host\" (a copy-on-write view of the node's root "
                           "filesystem) and give the command to run";
      return;
    }
    int attempt = cr.attempt + 1;
    auto spec = BuildContainerSpec(rec, pod, c, attempt, facts);
    if (!spec.ok()) {
      oc.waiting_reason = "CreateContainerConfigError";
      oc.waiting_message = spec.status().message();
      queue_.AddAfter(rec.key, std::chrono::milliseconds(2000));
      return;
    }
    std::error_code ec;
    fs::create_directories(spec->state_dir, ec);
    fs::create_directories(fs::path(spec->log_path).parent_path(), ec);
    if (attempt >= 2) {
      ContainerSpec old = *spec;
      old.state_dir = StateDir(rec, name, attempt - 2);
      RemoveContainer(old).IgnoreError();
      fs::remove(LogPath(rec, name, attempt - 2), ec);
      fs::remove(LogPath(rec, name, attempt - 2) + ".1", ec);
    }
    cr.attempt = attempt;
    cr.term_sent = false;
    cr.kill_deadline_ns.reset();
    cr.kill_message.clear();
    cr.post_start.reset();
    cr.pre_stop_done.reset();
    auto started = StartContainer(options_.isolation, rec.sandbox, *spec);
    if (!started.ok()) {
      spdlog::warn("agent: pod {} container {}: start failed: {}", rec.key, name,
                   started.status().ToString());
      oc.waiting_reason = "RunContainerError";
      oc.waiting_message = started.status().message();
      queue_.AddAfter(rec.key, std::chrono::milliseconds(2000));
      return;
    }
    oc.restart_count = attempt;
    oc.current = *started;
    if (started->state == ContainerStatus::State::kRunning && started->pid > 0) {
      WatchExit(started->pid, rec.key);
    }
  }

  // Observes container c and acts: start it, restart it after its back-off,
  // or leave it be. Returns what it saw (for the status).
  ObservedContainer SyncContainer(PodRecord& rec, const json& pod, const json& c, bool init,
                                  const PodRuntimeFacts& facts) {
    const std::string name = c.value("name", "");
    const std::string policy = pod["spec"].value("restartPolicy", "Always");
    ContainerRecord& cr = rec.containers[name];
    ObservedContainer oc;
    oc.restart_count = std::max(0, cr.attempt);
    oc.current = Observe(rec, name);
    oc.previous = ObservePrevious(rec, name);
    if (!oc.current) {
      StartAttempt(rec, pod, c, oc, facts);
    } else if (oc.current->state == ContainerStatus::State::kExited &&
               ShouldRestart(policy, *oc.current, init)) {
      oc.will_restart = true;
      const ContainerStatus ended = *oc.current;
      int64_t ran_s = (ended.finished_at_ns - ended.started_at_ns) / 1'000'000'000;
      if (ran_s >= kBackoffResetSeconds) cr.backoff_seconds = 0;
      if (cr.restart_not_before_ns == 0 && cr.backoff_seconds > 0) {
        cr.restart_not_before_ns = ended.finished_at_ns + cr.backoff_seconds * 1'000'000'000;
      }
      int64_t now = WallNowNs();
      if (now < cr.restart_not_before_ns) {
        oc.waiting_reason = "CrashLoopBackOff";
        oc.waiting_message = "back-off " + std::to_string(cr.backoff_seconds) +
                             "s restarting failed container=" + name +
                             " pod=" + Str(Meta(pod), "name") + "_" + Str(Meta(pod), "namespace") +
                             "(" + rec.uid + ")";
        queue_.AddAfter(rec.key, MillisCeil(cr.restart_not_before_ns - now));
      } else {
        cr.backoff_seconds = cr.backoff_seconds == 0
                                 ? kBackoffStartSeconds
                                 : std::min(cr.backoff_seconds * 2, kBackoffMaxSeconds);
        cr.restart_not_before_ns = 0;
        oc.previous = oc.current;
        oc.current.reset();
        StartAttempt(rec, pod, c, oc, facts);
      }
    }
    if (oc.current && oc.current->state == ContainerStatus::State::kExited && !oc.will_restart &&
        ShouldRestart(policy, *oc.current, init)) {
      // An attempt that failed to start at all (a mount, an exec): it will be
      // restarted after its back-off like any exit, so the pod is not Failed.
      oc.will_restart = true;
      queue_.AddAfter(rec.key, std::chrono::milliseconds(100));
    }
    if (oc.current && oc.current->state == ContainerStatus::State::kRunning) {
      oc.waiting_reason.clear();
      WatchOverRunning(rec, pod, c, oc);
    }
    return oc;
  }

  std::string ProbeId(const PodRecord& rec, const std::string& name, int attempt) const {
    return rec.uid + "/" + name + "/" + std::to_string(attempt);
  }

  ProbeTarget Target(const PodRecord& rec, const json& c, int attempt) const {
    const std::string name = c.value("name", "");
    return ProbeTarget{rec.key, ProbeId(rec, name, attempt), StateDir(rec, name, attempt),
                       rec.sandbox.ip, c};
  }

  // A running attempt: its postStart hook, its probes, and the restart that a
  // failed liveness/startup probe or hook calls for.
  void WatchOverRunning(PodRecord& rec, const json& pod, const json& c, ObservedContainer& oc) {
    const std::string name = c.value("name", "");
    ContainerRecord& cr = rec.containers[name];
    ProbeTarget target = Target(rec, c, cr.attempt);
    rec.probe_ids.push_back(target.id);
    const json lifecycle = c.value("lifecycle", json::object());
    if (lifecycle.contains("postStart") && !cr.post_start) {
      auto outcome = std::make_shared<std::atomic<int>>(0);
      cr.post_start = outcome;
      std::string key = rec.key;
      prober_->RunHook(target, lifecycle["postStart"], static_cast<int>(rec.grace_seconds),
                       [this, outcome, key](Status st) {
                         if (!st.ok())
                           spdlog::warn("agent: pod {}: postStart: {}", key, st.ToString());
                         *outcome = st.ok() ? 1 : 2;
                         queue_.Add(key);
                       });
    }
    const int post_start = cr.post_start ? cr.post_start->load() : 1;
    prober_->Ensure(target);
    ProbeResults probes = prober_->Results(target.id);
    oc.started = probes.started && post_start == 1;
    oc.ready = oc.started && probes.ready && !cr.kill_deadline_ns;
    if (!cr.kill_deadline_ns && (!probes.live || post_start == 2)) {
      int64_t grace = pod["spec"].value("terminationGracePeriodSeconds", int64_t{30});
      cr.kill_deadline_ns = WallNowNs() + grace * 1'000'000'000;
      cr.kill_message = post_start == 2 ? "FailedPostStartHook" : probes.message;
      spdlog::info("agent: pod {} container {}: {}, will be restarted", rec.key, name,
                   cr.kill_message);
      SignalContainer(target.state_dir, SIGTERM).IgnoreError();
    }
    if (cr.kill_deadline_ns) {
      if (WallNowNs() >= *cr.kill_deadline_ns)
        SignalContainer(target.state_dir, SIGKILL).IgnoreError();
      queue_.AddAfter(rec.key, std::chrono::milliseconds(200));
    }
  }

  void RunPod(PodRecord& rec, const json& pod) {
    rec.probe_ids.clear();
    RunPodContainers(rec, pod);
    // Probes of attempts that no longer run stop.
    prober_->Forget(rec.uid + "/", rec.probe_ids);
  }

  void RunPodContainers(PodRecord& rec, const json& pod) {
    ObservedPod observed;
    observed.uid = rec.uid;
    observed.host_ip = host_ip_;
    observed.start_time = rec.start_time;
    PodRuntimeFacts facts;
    Status prepared = PreparePod(rec, pod, facts);
    if (!prepared.ok()) {
      const bool waiting_for_claim = IsClaimNotBoundYet(prepared);
      if (!waiting_for_claim) spdlog::warn("agent: pod {}: {}", rec.key, prepared.ToString());
      observed.failure_message = prepared.message();
      for (const char* list : {"initContainers", "containers"}) {
        if (!pod["spec"].contains(list)) continue;
        for (const json& c : pod["spec"][list]) {
          ObservedContainer oc;
          oc.waiting_reason = "ContainerCreating";
          oc.waiting_message = prepared.message();
          (std::string(list) == "containers" ? observed.app : observed.init)[c.value("name", "")] =
              oc;
        }
      }
      PublishStatus(rec, pod, observed);
      if (waiting_for_claim) {
        // The scheduler binds a pod once it has chosen the node of its
        // WaitForFirstConsumer claims, before the provisioner has bound them:
        // that takes a moment, not a failure's back-off (which would reach
        // seconds after a few tries). A pod here has a claim on its way: the
        // back-off's first steps (5, 10, 20 … ms), then every 100 ms.
        if (queue_.NextBackoff(rec.key) < kClaimPollInterval) {
          queue_.AddRateLimited(rec.key);
        } else {
          queue_.AddAfter(rec.key, kClaimPollInterval);
        }
      } else {
        queue_.AddRateLimited(rec.key);
      }
      return;
    }
    observed.pod_ip = rec.sandbox.ip;
    const json spec = pod["spec"];
    // Init containers one at a time, in order, each to success.
    bool initialized = true;
    if (spec.contains("initContainers") && spec["initContainers"].is_array()) {
      for (const json& c : spec["initContainers"]) {
        ObservedContainer oc = SyncContainer(rec, pod, c, /*init=*/true, facts);
        bool done = oc.current && oc.current->state == ContainerStatus::State::kExited &&
                    oc.current->exit_code == 0;
        oc.ready = done;
        observed.init[c.value("name", "")] = oc;
        if (!done) {
          initialized = false;
          break;
        }
      }
    }
    if (initialized && spec.contains("containers") && spec["containers"].is_array()) {
      for (const json& c : spec["containers"]) {
        observed.app[c.value("name", "")] = SyncContainer(rec, pod, c, /*init=*/false, facts);
      }
    }
    PublishStatus(rec, pod, observed);
  }

  void PublishStatus(PodRecord& rec, const json& pod, const ObservedPod& observed) {
    json previous = pod.value("status", json::object());
    json status = PodStatus(pod, observed, previous, NowRfc3339());
    if (status == previous || status == rec.last_status) return;
    json patch = {{"status", status}};
    // A merge patch replaces lists whole and leaves fields we do not own.
    auto r = client_->Patch(client::kPods, Str(Meta(pod), "namespace"), Str(Meta(pod), "name"),
                            client::PatchType::kMerge, patch, "status");
    if (!r.ok()) {
      if (r.status().code() != Code::kNotFound) {
        spdlog::warn("agent: pod {}: status update failed: {}", rec.key, r.status().ToString());
        queue_.AddRateLimited(rec.key);
      }
      return;
    }
    rec.last_status = status;
    queue_.Forget(rec.key);
  }

  // --- Stopping pods ------------------------------------------------------

  // Signals the pod's running containers: SIGTERM once, SIGKILL at the
  // deadline. True once none runs any more.
  // The container spec of name in pod (app or init), or null.
  static const json* FindContainer(const json* pod, const std::string& name) {
    if (pod == nullptr || !pod->contains("spec")) return nullptr;
    for (const char* list : {"containers", "initContainers"}) {
      const json& spec = (*pod)["spec"];
      if (!spec.contains(list) || !spec[list].is_array()) continue;
      for (const json& c : spec[list]) {
        if (c.value("name", "") == name) return &c;
      }
    }
    return nullptr;
  }

  // Signals the pod's running containers: the preStop hook first (when the
  // pod is known), then SIGTERM once, SIGKILL at the deadline. True once
  // none runs any more.
  bool StopContainers(PodRecord& rec, int64_t deadline_ns, const json* pod = nullptr) {
    bool all_stopped = true;
    const bool kill = WallNowNs() >= deadline_ns;
    for (auto& [name, cr] : rec.containers) {
      if (cr.attempt < 0) continue;
      std::string state_dir = StateDir(rec, name, cr.attempt);
      ContainerStatus s = InspectContainer(state_dir);
      if (s.state == ContainerStatus::State::kExited) continue;
      if (s.state == ContainerStatus::State::kUnknown) {
        // No process: nothing to stop once the grace for a late exit record passed.
        if (!cr.vanished_since) cr.vanished_since = Clock::now();
        if (Clock::now() - *cr.vanished_since >= kVanishedGrace) continue;
        all_stopped = false;
        continue;
      }
      all_stopped = false;
      const json* spec = FindContainer(pod, name);
      if (!kill && !cr.term_sent && spec != nullptr &&
          spec->value("lifecycle", json::object()).contains("preStop")) {
        if (!cr.pre_stop_done) {
          auto done = std::make_shared<std::atomic<bool>>(false);
          cr.pre_stop_done = done;
          std::string key = rec.key;
          int timeout_s =
              static_cast<int>(std::max<int64_t>(1, (deadline_ns - WallNowNs()) / 1'000'000'000));
          prober_->RunHook(Target(rec, *spec, cr.attempt), (*spec)["lifecycle"]["preStop"],
                           timeout_s, [this, done, key](Status st) {
                             if (!st.ok()) {
                               spdlog::warn("agent: pod {}: preStop: {}", key, st.ToString());
                             }
                             *done = true;
                             queue_.Add(key);
                           });
        }
        if (!*cr.pre_stop_done) continue;
      }
      if (kill) {
        SignalContainer(state_dir, SIGKILL).IgnoreError();
      } else if (!cr.term_sent) {
        SignalContainer(state_dir, SIGTERM).IgnoreError();
        cr.term_sent = true;
      }
      if (s.pid > 0) WatchExit(s.pid, rec.key);
    }
    return all_stopped;
  }

  // Frees what a pod that no longer runs holds. A finished pod keeps its
  // containers' records and logs (kubectl logs works until it is deleted).
  void ReleasePodResources(PodRecord& rec, bool keep_containers = false) {
    prober_->Forget(rec.uid + "/", {});
    for (auto& [name, cr] : rec.containers) {
      if (keep_containers) break;
      for (int a = std::max(0, cr.attempt - 1); a <= cr.attempt; ++a) {
        ContainerSpec spec;
        spec.name = name;
        spec.state_dir = StateDir(rec, name, a);
        spec.cgroup_parent = PodCgroup(rec.uid);
        RemoveContainer(spec).IgnoreError();
      }
    }
    RemoveCgroup(PodCgroup(rec.uid)).IgnoreError();
    UnmountVolumes(rec.dir + "/volumes");
    SandboxSpec spec{rec.uid, "", rec.dir + "/sandbox"};
    Status st = RemoveSandbox(options_.isolation, network_, spec);
    if (!st.ok()) spdlog::warn("agent: pod {}: removing sandbox: {}", rec.key, st.ToString());
    rec.sandbox_ready = false;
  }

  // Stops the pod of uid (no longer in the API): grace from its last spec.
  // True once it is fully gone from this node.
  bool KillPod(const std::string& uid, bool grace_from_spec) {
    PodRecord* rec = Record(uid);
    if (rec == nullptr) return true;
    if (!rec->kill_deadline_ns) {
      int64_t grace = grace_from_spec ? rec->grace_seconds : 0;
      rec->kill_deadline_ns = WallNowNs() + grace * 1'000'000'000;
    }
    if (!StopContainers(*rec, *rec->kill_deadline_ns)) return false;
    ReleasePodResources(*rec);
    return true;
  }

  // The pod is marked for deletion: stop it within its grace period, then
  // delete it for good (grace 0, only this very pod: uid precondition).
  void FinishDeletion(PodRecord& rec, const json& pod) {
    int64_t deadline = ParseRfc3339(Str(Meta(pod), "deletionTimestamp"));
    if (!StopContainers(rec, deadline, &pod)) {
      int64_t wait_ns = std::max<int64_t>(deadline - WallNowNs(), 0);
      queue_.AddAfter(rec.key, MillisCeil(std::min<int64_t>(wait_ns + 1'000'000, 1'000'000'000)));
      return;
    }
    ReleasePodResources(rec);
    client::DeleteOptions opts;
    opts.grace_period_seconds = 0;
    opts.precondition_uid = rec.uid;
    Status st =
        client_->Delete(client::kPods, Str(Meta(pod), "namespace"), Str(Meta(pod), "name"), opts);
    if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) {
      spdlog::warn("agent: pod {}: final delete failed: {}", rec.key, st.ToString());
      queue_.AddRateLimited(rec.key);
      return;
    }
    ForgetPod(rec.uid);
  }

  // `kennel up` stopping: every pod's containers get SIGTERM and their grace
  // period (at most 30 s in all), then SIGKILL.
  void StopAllPods() {
    std::vector<std::string> uids;
    {
      std::lock_guard lock(records_mu_);
      for (const auto& [uid, rec] : records_) uids.push_back(uid);
    }
    const int64_t give_up = WallNowNs() + int64_t{30'000'000'000};
    for (const auto& uid : uids) {
      PodRecord* rec = Record(uid);
      if (rec) {
        rec->kill_deadline_ns = std::min(give_up, WallNowNs() + rec->grace_seconds * 1'000'000'000);
      }
    }
    for (;;) {
      bool all = true;
      for (const auto& uid : uids) {
        PodRecord* rec = Record(uid);
        if (rec && !StopContainers(*rec, *rec->kill_deadline_ns)) all = false;
      }
      if (all || WallNowNs() > give_up + int64_t{5'000'000'000}) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const auto& uid : uids) {
      // Records stay: after a restart the pods start again as their next
      // attempts (counted restarts, logs of the stopped ones kept).
      if (PodRecord* rec = Record(uid)) ReleasePodResources(*rec, /*keep_containers=*/true);
    }
  }

  client::Client* client_;
  AgentOptions options_;
  std::string dir_;
  std::string host_ip_;
  NodeNetworkConfig network_;
  std::string gateway_ip_;  // set by Init, then read-only

  std::unique_ptr<AgentServer> server_;
  std::unique_ptr<Prober> prober_;
  std::unique_ptr<proxy::ServiceProxy> proxy_;
  std::string volume_root_;  // <data_dir>/volumes: local-path volumes
  std::unique_ptr<LocalPathReclaimer> reclaimer_;
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<client::Informer> claims_;
  // Pods waiting for a claim to bind, by claim "ns/name" → pod keys.
  std::mutex claim_waiters_mu_;
  std::map<std::string, std::set<std::string>> claim_waiters_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;
  std::thread heartbeat_;
  std::thread exits_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;  // guarded by mu_

  // Records are found under records_mu_; a record itself is touched only by
  // the worker holding its pod's key (the queue never hands a key to two).
  std::mutex records_mu_;
  std::map<std::string, PodRecord> records_;    // by uid
  std::map<std::string, std::string> key_uid_;  // "ns/name" → uid

  std::mutex exit_mu_;
  int epoll_fd_ = -1;
  std::map<pid_t, int> watched_pids_;                     // guarded by exit_mu_
  std::map<int, std::pair<pid_t, std::string>> fd_keys_;  // guarded by exit_mu_
};

}  // namespace

StatusOr<std::unique_ptr<Agent>> Agent::Start(client::Client* client, AgentOptions options) {
  auto agent = std::make_unique<AgentImpl>(client, std::move(options));
  Status st = agent->Init();
  if (!st.ok()) return st;
  return std::unique_ptr<Agent>(std::move(agent));
}

}  // namespace kennel::agent
