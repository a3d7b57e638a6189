#include "proxy/proxy.h"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "client/informer.h"
#include "proxy/ruleset.h"

extern char** environ;

namespace kennel::proxy {
namespace {

// A memory file that a child inherits: the script goes in, nft's complaints
// come out, and no pipe can fill up or raise SIGPIPE on either side.
class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(memfd_create(name, 0)) {}
  ~MemFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  int fd() const { return fd_; }

  bool Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0) return false;
      done += static_cast<size_t>(n);
    }
    return ::lseek(fd_, 0, SEEK_SET) == 0;
  }

  std::string ReadAll() {
    std::string out;
    if (::lseek(fd_, 0, SEEK_SET) != 0) return out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;) out.append(buf, n);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

 private:
  int fd_;
};

bool IsCidr(const std::string& s) {
  if (s.empty()) return true;
  return s.find_first_not_of("0123456789./") == std::string::npos && s.find('/') != s.npos;
}

bool IsIdentifier(const std::string& s) {
  return !s.empty() && std::isalpha(static_cast<unsigned char>(s[0])) &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
             std::string::npos;
}

class ServiceProxyImpl final : public ServiceProxy {
 public:
  ServiceProxyImpl(client::Client* client, ProxyOptions options)
      : options_(std::move(options)),
        services_(client, client::kServices, ""),
        endpoints_(client, client::kEndpoints, "") {}

  ~ServiceProxyImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    services_.Stop();
    endpoints_.Stop();
    if (thread_.joinable()) thread_.join();
    if (!options_.remove_on_stop) return;
    Status removed = ApplyNftScript(options_.nft, DeleteTableScript(options_.table));
    if (!removed.ok())
      spdlog::warn("proxy: removing table {}: {}", options_.table, removed.message());
  }

  void Start() {
    client::InformerHandler handler;
    handler.on_add = [this](const client::json&) { MarkDirty(); };
    handler.on_update = [this](const client::json&, const client::json&) { MarkDirty(); };
    handler.on_delete = [this](const client::json&) { MarkDirty(); };
    services_.AddHandler(handler);
    endpoints_.AddHandler(handler);
    services_.Start();
    endpoints_.Start();
    thread_ = std::thread([this] { SyncLoop(); });
  }

  int64_t applied() const override { return applied_.load(); }

 private:
  void MarkDirty() {
    {
      std::lock_guard lock(mu_);
      dirty_ = true;
    }
    cv_.notify_all();
  }

  // Waits for a change, lets a burst of changes settle, then applies the
  // rules if they differ from what the kernel has.
  void SyncLoop() {
    std::string current;  // the script the kernel runs
    auto backoff = std::chrono::milliseconds(250);
    bool failing = false;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (failing) {
          cv_.wait_for(lock, backoff, [&] { return stopping_; });
        } else {
          cv_.wait(lock, [&] { return stopping_ || dirty_; });
        }
        if (stopping_) return;
        cv_.wait_for(lock, options_.coalesce, [&] { return stopping_; });
        if (stopping_) return;
        dirty_ = false;
      }
      // Rules from a partial view would drop working services: wait for both.
      if (!services_.HasSynced() || !endpoints_.HasSynced()) {
        failing = true;
        backoff = std::chrono::milliseconds(50);
        continue;
      }
      std::string script = BuildRuleset(ResolveServicePorts(services_.List(), endpoints_.List()),
                                        {options_.table, options_.pod_cidr});
      if (script == current) {
        failing = false;
        continue;
      }
      Status st = ApplyNftScript(options_.nft, script);
      if (st.ok()) {
        current = std::move(script);
        applied_.fetch_add(1);
        failing = false;
        backoff = std::chrono::milliseconds(250);
      } else {
        spdlog::error("proxy: applying rules: {}", st.message());
        failing = true;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
      }
    }
  }

  const ProxyOptions options_;
  client::Informer services_;
  client::Informer endpoints_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true;  // guarded by mu_: the first sync happens at start
  bool stopping_ = false;
  std::atomic<int64_t> applied_{0};
  std::thread thread_;
};

}  // namespace

std::string TableForBridge(const std::string& bridge) {
  std::string table = "kennel_proxy_";
  for (char c : bridge) table += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return table;
}

Status ApplyNftScript(const std::string& nft, const std::string& script) {
  MemFile in("kennel-nft-script"), err("kennel-nft-err");
  if (in.fd() < 0 || err.fd() < 0) return Internal("proxy: memfd_create failed");
  if (!in.Write(script)) return Internal("proxy: cannot write the nft script");
  // The child reads the script from its own copy of the descriptor.
  std::string script_path = "/dev/fd/" + std::to_string(in.fd());
  std::vector<char*> argv = {const_cast<char*>(nft.c_str()), const_cast<char*>("-f"),
                             script_path.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err.fd(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.fd(), STDERR_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, nft.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Unavailable("proxy: cannot run " + nft + ": " + std::strerror(rc) +
                       " (install Debian's nftables package)");
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::Ok();
  std::string message = err.ReadAll();
  return Internal(nft + " -f failed: " +
                  (message.empty() ? "exit status " + std::to_string(wstatus) : message));
}

StatusOr<std::unique_ptr<ServiceProxy>> ServiceProxy::Start(client::Client* client,
                                                            ProxyOptions options) {
  if (!IsIdentifier(options.table)) {
    return BadRequest("proxy: table name must be letters, digits and '_': " + options.table);
  }
  if (!IsCidr(options.pod_cidr)) return BadRequest("proxy: bad pod CIDR " + options.pod_cidr);
  // Fails early, with nft's own words, when nft is missing or lacks the
  // rights. The table itself stays: the first sync replaces it in one step.
  RETURN_IF_ERROR(ApplyNftScript(options.nft, "list tables\n"));
  auto proxy = std::make_unique<ServiceProxyImpl>(client, std::move(options));
  proxy->Start();
  return std::unique_ptr<ServiceProxy>(std::move(proxy));
}

}  // namespace kennel::proxy
