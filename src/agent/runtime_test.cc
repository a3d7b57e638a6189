// The runtime against the real kernel: bridges, namespaces, overlayfs,
// cgroups and shims. Needs root (CheckIsolationSupport); skipped otherwise.
//
// This binary has its own main(): StartContainer re-executes /proc/self/exe
// as `<exe> shim STATE_DIR`, so main() dispatches "shim" to RunShim like the
// kennel binary does. (GTest::gtest_main is a static library: with main()
// defined here its main is never linked in.)
#include "agent/runtime.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/internal/cgroup.h"
#include "agent/internal/container.h"
#include "agent/internal/exec.h"
#include "agent/internal/netlink.h"
#include "agent/internal/shim.h"
#include "agent/internal/sys.h"

namespace kennel::agent {
namespace {

using namespace std::chrono_literals;
using State = ContainerStatus::State;

std::string RandomHex(int digits) {
  static std::mt19937_64 rng(std::random_device{}());
  std::string out;
  for (int i = 0; i < digits; ++i) out += "0123456789abcdef"[rng() % 16];
  return out;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t OpenFdCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Gone, or a zombie waiting for its parent.
bool ProcessEnded(pid_t pid) {
  std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close == std::string::npos || stat.compare(close, 4, ") Z ") == 0;
}

// Polls cond until it holds or the deadline passes (the state is in files
// written by another process, so there is nothing to block on).
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// One node network for the whole binary: bridge "kt<k>" with 10.250.<2k>.0/24
// (and, for a second node, "ku<k>" with 10.250.<2k+1>.0/24), torn down at the
// end. ctest runs test processes in parallel: each claims its k by binding an
// abstract Unix socket named after it, which the kernel releases when the
// process ends, however it ends.
class NodeEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Status support = CheckIsolationSupport();
    if (!support.ok()) {
      skip_reason_ = support.message();
      return;
    }
    ASSERT_TRUE(ClaimSubnetPair()) << "no free 10.250.x.0/24 pair";
    char tmpl[] = "/tmp/kennel-runtime-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    suffix_ = RandomHex(6);
    network_.bridge = "kt" + std::to_string(k_);
    network_.pod_cidr = "10.250." + std::to_string(2 * k_) + ".0/24";
    network_.ipam_dir = root_ + "/ipam";
    // A bridge of that name was left by a test process that crashed (its
    // claim is gone, so nobody uses it).
    ASSERT_TRUE(internal::DeleteLink(network_.bridge).ok());
    ASSERT_TRUE(internal::DeleteLink("ku" + std::to_string(k_)).ok());
    bridges_.push_back(network_.bridge);
    Status st = EnsureNodeNetwork(network_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void TearDown() override {
    for (const std::string& bridge : bridges_) {
      EXPECT_TRUE(internal::DeleteLink(bridge).ok());
    }
    if (!root_.empty()) {
      EXPECT_TRUE(RemoveCgroup(CgroupRoot()).ok());
      EXPECT_TRUE(internal::RemoveTree(root_).ok());
    }
  }

  // A second node on the same machine: its own bridge and CIDR.
  NodeNetworkConfig SecondNode() {
    NodeNetworkConfig second;
    second.bridge = "ku" + std::to_string(k_);
    second.pod_cidr = "10.250." + std::to_string(2 * k_ + 1) + ".0/24";
    second.ipam_dir = root_ + "/ipam2";
    bridges_.push_back(second.bridge);
    return second;
  }

  const std::string& skip_reason() const { return skip_reason_; }
  const NodeNetworkConfig& network() const { return network_; }
  const std::string& root() const { return root_; }
  std::string CgroupRoot() const { return "kennel-test-" + suffix_; }

 private:
  std::string skip_reason_;
  std::string root_;
  bool ClaimSubnetPair() {
    std::random_device rd;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      int k = 10 + static_cast<int>(rd() % 110);
      internal::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!fd.valid()) return false;
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::string name = "kennel-runtime-test-" + std::to_string(k);
      std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
      socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
      if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) {
        k_ = k;
        claim_ = std::move(fd);
        return true;
      }
    }
    return false;
  }

  std::string suffix_;
  int k_ = 0;
  internal::UniqueFd claim_;
  NodeNetworkConfig network_;
  std::vector<std::string> bridges_;
};

NodeEnvironment* g_env = nullptr;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_env->skip_reason().empty()) GTEST_SKIP() << g_env->skip_reason();
  }

  void TearDown() override {
    for (const ContainerSpec& spec : containers_) {
      SignalContainer(spec.state_dir, SIGKILL).IgnoreError();
      EXPECT_TRUE(
          WaitFor([&] { return InspectContainer(spec.state_dir).state != State::kRunning; }, 10s));
      Status st = RemoveContainer(spec);
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_FALSE(PathExists(spec.state_dir));
    }
    for (const auto& [isolation, network, spec] : sandboxes_) {
      Status st = RemoveSandbox(isolation, network, spec);
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_TRUE(RemoveCgroup(PodCgroup(spec.pod_uid)).ok());
    }
  }

  std::string PodCgroup(const std::string& uid) const { return g_env->CgroupRoot() + "/pod" + uid; }

  StatusOr<Sandbox> NewSandbox(const std::string& hostname,
                               Isolation isolation = Isolation::kNamespaces,
                               const NodeNetworkConfig* network = nullptr) {
    SandboxSpec spec;
    spec.pod_uid = RandomHex(8) + "-" + RandomHex(4) + "-" + RandomHex(4) + "-" + RandomHex(12);
    spec.hostname = hostname;
    spec.dir = g_env->root() + "/pods/" + spec.pod_uid;
    const NodeNetworkConfig& config = network ? *network : g_env->network();
    sandboxes_.push_back({isolation, config, spec});
    return EnsureSandbox(isolation, config, spec);
  }

  ContainerSpec NewSpec(const Sandbox& sandbox, std::vector<std::string> argv) {
    ContainerSpec spec;
    spec.name = "c" + RandomHex(6);
    spec.image = "host";
    spec.argv = std::move(argv);
    spec.state_dir = g_env->root() + "/containers/" + spec.name;
    spec.log_path = g_env->root() + "/logs/" + spec.name + ".log";
    spec.cgroup_parent = PodCgroup(sandbox.pod_uid);
    return spec;
  }

  StatusOr<ContainerStatus> Start(const Sandbox& sandbox, const ContainerSpec& spec,
                                  Isolation isolation = Isolation::kNamespaces) {
    containers_.push_back(spec);
    return StartContainer(isolation, sandbox, spec);
  }

  static ContainerStatus WaitExited(const ContainerSpec& spec) {
    ContainerStatus status;
    bool done = WaitFor(
        [&] {
          status = InspectContainer(spec.state_dir);
          return status.state == State::kExited;
        },
        30s);
    EXPECT_TRUE(done) << "container " << spec.name << " did not exit; log:\n"
                      << ReadText(spec.log_path);
    return status;
  }

  static bool LogContains(const ContainerSpec& spec, const std::string& needle) {
    return ReadText(spec.log_path).find(needle) != std::string::npos;
  }

  std::vector<ContainerSpec> containers_;
  std::vector<std::tuple<Isolation, NodeNetworkConfig, SandboxSpec>> sandboxes_;
};

TEST_F(RuntimeTest, ContainerSeesPodHostnameAndIpAndIsPid1) {
  auto sandbox = NewSandbox("web-1");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  EXPECT_EQ(sandbox->host_veth.size(), 10u);
  auto spec = NewSpec(*sandbox, {"sh", "-c",
                                 "hostname; tr '\\0' ' ' < /proc/1/cmdline; echo; echo pid=$$; "
                                 "ip -4 addr show eth0 || cat /proc/net/fib_trie"});
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_GT(started->pid, 0);
  EXPECT_GT(started->started_at_ns, 0);

  ContainerStatus status = WaitExited(spec);
  EXPECT_EQ(status.exit_code, 0) << status.message << ReadText(spec.log_path);
  EXPECT_FALSE(status.oom_killed);
  EXPECT_GE(status.finished_at_ns, status.started_at_ns);
  std::string log = ReadText(spec.log_path);
  EXPECT_NE(log.find(" stdout F web-1\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" stdout F sh -c hostname"), std::string::npos) << log;
  EXPECT_NE(log.find(" stdout F pid=1\n"), std::string::npos) << log;
  EXPECT_NE(log.find(sandbox->ip), std::string::npos) << log;
  // The shim removed the container's cgroup once it ended.
  auto layout = internal::DetectCgroups();
  ASSERT_TRUE(layout.ok());
  for (const std::string& dir :
       internal::CgroupDirs(*layout, internal::ContainerCgroupPath(spec))) {
    EXPECT_FALSE(PathExists(dir)) << dir;
  }
}

TEST_F(RuntimeTest, ShimIsDetachedAndNeverOurZombie) {
  auto sandbox = NewSandbox("detached");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  auto spec = NewSpec(*sandbox, {"sleep", "1000"});
  size_t fds_before = OpenFdCount();
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_EQ(started->state, State::kRunning);
  EXPECT_EQ(OpenFdCount(), fds_before);  // nothing leaked into the agent
  auto state = internal::ReadContainerState(spec.state_dir);
  ASSERT_TRUE(state.ok());
  ASSERT_GT(state->shim_pid, 0);
  // Not our child (we reaped the intermediate at once) and in another session.
  int wstatus;
  EXPECT_EQ(::waitpid(-1, &wstatus, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_NE(::getsid(state->shim_pid), ::getsid(0));
  // Starting the same attempt again reports it rather than running it twice.
  auto again = StartContainer(Isolation::kNamespaces, *sandbox, spec);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pid, started->pid);
  ASSERT_TRUE(SignalContainer(spec.state_dir, SIGKILL).ok());
  ContainerStatus status = WaitExited(spec);
  EXPECT_EQ(status.exit_code, 137);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_FALSE(status.oom_killed);
  // Once exited, the shim goes away too (init may take its time to reap it).
  EXPECT_TRUE(WaitFor([&] { return ProcessEnded(state->shim_pid); }, 10s));
}

TEST_F(RuntimeTest, ContainerOutlivesTheAgent) {
  auto sandbox = NewSandbox("survivor");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  auto spec = NewSpec(*sandbox, {"sh", "-c",
                                 "trap 'echo bye; exit 5' TERM; echo up; "
                                 "while true; do sleep 0.1; done"});
  containers_.push_back(spec);
  // A stand-in agent process starts the container and is SIGKILLed.
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    auto started = StartContainer(Isolation::kNamespaces, *sandbox, spec);
    char ok = started.ok() && started->state == State::kRunning ? 'y' : 'n';
    if (::write(report[1], &ok, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(report[1]);
  char ok = 0;
  ASSERT_EQ(::read(report[0], &ok, 1), 1);
  ::close(report[0]);
  ASSERT_EQ(ok, 'y');
  ASSERT_EQ(::kill(agent, SIGKILL), 0);
  ASSERT_EQ(::waitpid(agent, nullptr, 0), agent);

  EXPECT_EQ(InspectContainer(spec.state_dir).state, State::kRunning);
  ASSERT_TRUE(WaitFor([&] { return LogContains(spec, "stdout F up\n"); }, 10s));
  ASSERT_TRUE(SignalContainer(spec.state_dir, SIGTERM).ok());
  EXPECT_EQ(WaitExited(spec).exit_code, 5);
  // The shim kept copying output and recorded the exit on its own.
  EXPECT_TRUE(LogContains(spec, "stdout F bye\n"));
}

TEST_F(RuntimeTest, VanishedProcessIsUnknownAndNeverSignalled) {
  std::string dir = g_env->root() + "/containers/vanished-" + RandomHex(6);
  ASSERT_TRUE(internal::MakeDirs(dir).ok());
  EXPECT_EQ(InspectContainer(dir).state, State::kUnknown);  // nothing recorded yet

  // A "running" container whose pid now belongs to another process (this
  // one, started at another time).
  internal::ContainerState state;
  state.status = internal::ContainerState::kRunning;
  state.pid = ::getpid();
  state.start_ticks = internal::ProcStartTicks(::getpid()) + 1;
  ASSERT_TRUE(internal::WriteContainerState(dir, state).ok());
  ContainerStatus status = InspectContainer(dir);
  EXPECT_EQ(status.state, State::kUnknown);
  EXPECT_EQ(status.message, "container process vanished");
  EXPECT_TRUE(SignalContainer(dir, SIGKILL).ok());  // must not kill this process
  EXPECT_EQ(InspectContainer(dir).state, State::kUnknown);

  state.start_ticks = internal::ProcStartTicks(::getpid());
  ASSERT_TRUE(internal::WriteContainerState(dir, state).ok());
  EXPECT_EQ(InspectContainer(dir).state, State::kRunning);
  ContainerSpec spec;
  spec.name = "vanished";
  spec.state_dir = dir;
  EXPECT_EQ(RemoveContainer(spec).code(), Code::kConflict);  // still running
  ASSERT_TRUE(internal::RemoveTree(dir).ok());
}

TEST_F(RuntimeTest, WritesDoNotReachTheHostRoot) {
  auto sandbox = NewSandbox("cow");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  std::string marker = "/etc/kennel-test-" + RandomHex(6);
  ASSERT_FALSE(PathExists(marker));
  auto spec = NewSpec(*sandbox, {"sh", "-c",
                                 "echo inside > " + marker + " && cat " + marker +
                                     " && test -s /etc/passwd && echo passwd-visible; "
                                     "test -e /.kennel-old-root || echo no-old-root; "
                                     "cut -d' ' -f5 /proc/self/mountinfo"});
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ContainerStatus status = WaitExited(spec);
  EXPECT_EQ(status.exit_code, 0) << status.message << ReadText(spec.log_path);
  EXPECT_TRUE(LogContains(spec, "stdout F inside\n"));
  EXPECT_TRUE(LogContains(spec, "stdout F passwd-visible\n"));
  EXPECT_FALSE(PathExists(marker));
  // Nothing of the host's mount tree is left: only the container's own mounts.
  EXPECT_TRUE(LogContains(spec, "stdout F no-old-root\n"));
  std::istringstream log(ReadText(spec.log_path));
  std::string line;
  std::vector<std::string> mount_points;
  while (std::getline(log, line)) {
    size_t at = line.find(" stdout F /");
    if (at != std::string::npos) mount_points.push_back(line.substr(at + 10));
  }
  EXPECT_EQ(mount_points,
            (std::vector<std::string>{"/", "/proc", "/sys", "/dev", "/dev/null", "/dev/zero",
                                      "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                                      "/dev/pts", "/dev/shm", "/run"}))
      << ReadText(spec.log_path);
}

TEST_F(RuntimeTest, EnvWorkingDirAndMountsAreHonoured) {
  auto sandbox = NewSandbox("envy");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  ASSERT_EQ(::setenv("KENNEL_TEST_AGENT_ONLY", "leak", 1), 0);
  std::string volume = g_env->root() + "/volume-" + RandomHex(4);
  ASSERT_TRUE(internal::MakeDirs(volume).ok());
  { std::ofstream(volume + "/data.txt") << "from-volume\n"; }
  std::string ro_file = g_env->root() + "/ro-" + RandomHex(4);
  { std::ofstream(ro_file) << "read-only-file\n"; }

  auto spec = NewSpec(*sandbox, {"sh", "-c",
                                 "echo foo=$FOO; pwd; env; cat /data/data.txt; "
                                 "echo new > /data/out.txt; cat /etc/kennel-ro; "
                                 "echo x > /etc/kennel-ro || echo ro-refused; "
                                 "touch /scratch/f && echo tmpfs-ok"});
  spec.env = {"FOO=bar baz"};
  spec.working_dir = "/usr/share";
  spec.mounts = {{volume, "/data", "bind", false, ""},
                 {ro_file, "/etc/kennel-ro", "bind", true, ""},
                 {"", "/scratch", "tmpfs", false, "size=1m"}};
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ContainerStatus status = WaitExited(spec);
  EXPECT_EQ(status.exit_code, 0) << status.message << ReadText(spec.log_path);
  std::string log = ReadText(spec.log_path);
  EXPECT_NE(log.find("stdout F foo=bar baz\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F /usr/share\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F HOSTNAME=envy\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F PATH=/usr/local/sbin:"), std::string::npos) << log;
  EXPECT_EQ(log.find("KENNEL_TEST_AGENT_ONLY"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F from-volume\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F read-only-file\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F ro-refused\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F tmpfs-ok\n"), std::string::npos) << log;
  EXPECT_EQ(ReadText(volume + "/out.txt"), "new\n");  // the bind mount is the host's directory
  EXPECT_EQ(ReadText(ro_file), "read-only-file\n");
  ::unsetenv("KENNEL_TEST_AGENT_ONLY");
}

TEST_F(RuntimeTest, ExitCodesAndStartFailures) {
  auto sandbox = NewSandbox("codes");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();

  auto three = NewSpec(*sandbox, {"sh", "-c", "echo to-stderr >&2; exit 3"});
  ASSERT_TRUE(Start(*sandbox, three).ok());
  EXPECT_EQ(WaitExited(three).exit_code, 3);
  EXPECT_TRUE(LogContains(three, " stderr F to-stderr\n"));

  auto missing = NewSpec(*sandbox, {"kennel-no-such-binary", "arg"});
  auto failed = Start(*sandbox, missing);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->state, State::kExited);
  EXPECT_EQ(failed->exit_code, 127);
  EXPECT_EQ(failed->message, "exec: \"kennel-no-such-binary\": executable file not found in $PATH");

  auto not_exec = NewSpec(*sandbox, {"/etc/passwd"});
  failed = Start(*sandbox, not_exec);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->exit_code, 126);
  EXPECT_EQ(failed->message, "exec: \"/etc/passwd\": permission denied");

  auto no_dir = NewSpec(*sandbox, {"true"});
  no_dir.working_dir = "/no/such/dir";
  failed = Start(*sandbox, no_dir);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->exit_code, 128);
  EXPECT_NE(failed->message.find("working directory \"/no/such/dir\""), std::string::npos)
      << failed->message;
}

TEST_F(RuntimeTest, SigtermReachesATrappingProcess) {
  auto sandbox = NewSandbox("term");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  auto spec = NewSpec(*sandbox, {"sh", "-c",
                                 "trap 'exit 7' TERM; echo ready; "
                                 "while true; do sleep 0.1; done"});
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  // PID 1 ignores signals it has no handler for: wait until the trap is set.
  ASSERT_TRUE(WaitFor([&] { return LogContains(spec, "stdout F ready\n"); }, 10s));
  ASSERT_TRUE(SignalContainer(spec.state_dir, SIGTERM).ok());
  ContainerStatus status = WaitExited(spec);
  EXPECT_EQ(status.exit_code, 7);
  EXPECT_EQ(status.signal, 0);
  // Signalling an exited container is a no-op.
  EXPECT_TRUE(SignalContainer(spec.state_dir, SIGTERM).ok());
}

TEST_F(RuntimeTest, MemoryLimitOomKills) {
  auto sandbox = NewSandbox("oom");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  // The shell holds 100 MB in a variable: far beyond 32 MiB.
  auto spec = NewSpec(*sandbox, {"sh", "-c",
                                 "x=$(head -c 100000000 /dev/zero | tr '\\0' a); "
                                 "echo survived ${#x}"});
  spec.memory_limit_bytes = 32 << 20;
  spec.cpu_limit_milli = 500;
  spec.cpu_request_milli = 100;
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ContainerStatus status = WaitExited(spec);
  EXPECT_TRUE(status.oom_killed) << ReadText(spec.log_path);
  EXPECT_EQ(status.exit_code, 137);
  EXPECT_FALSE(LogContains(spec, "survived"));
}

TEST_F(RuntimeTest, SandboxesOnTheBridgeTalkTcp) {
  auto server_pod = NewSandbox("server");
  ASSERT_TRUE(server_pod.ok()) << server_pod.status().ToString();
  auto client_pod = NewSandbox("client");
  ASSERT_TRUE(client_pod.ok()) << client_pod.status().ToString();
  ASSERT_NE(server_pod->ip, client_pod->ip);

  auto server =
      NewSpec(*server_pod, {"perl", "-MIO::Socket::INET", "-e",
                            "$| = 1; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, "
                            "ReuseAddr => 1) or die qq(listen: $!); print qq(listening\\n); "
                            "for (1..2) { my $c = $s->accept or next; print $c qq(hello from "
                            "server\\n); close $c; }"});
  ASSERT_TRUE(Start(*server_pod, server).ok());
  ASSERT_TRUE(WaitFor([&] { return LogContains(server, "stdout F listening\n"); }, 10s))
      << ReadText(server.log_path);

  std::string connect = "my $c = IO::Socket::INET->new(PeerAddr => qq(" + server_pod->ip +
                        ":8080), Timeout => 5) or die qq(connect: $!); print scalar <$c>;";
  auto client = NewSpec(*client_pod, {"perl", "-MIO::Socket::INET", "-e", connect});
  ASSERT_TRUE(Start(*client_pod, client).ok());
  ContainerStatus status = WaitExited(client);
  EXPECT_EQ(status.exit_code, 0) << ReadText(client.log_path);
  EXPECT_TRUE(LogContains(client, "stdout F hello from server\n")) << ReadText(client.log_path);

  // A pod of another node on this machine (its own bridge and CIDR) gets
  // there through the host's routing.
  NodeNetworkConfig second = g_env->SecondNode();
  Status st = EnsureNodeNetwork(second);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto remote_pod = NewSandbox("remote", Isolation::kNamespaces, &second);
  ASSERT_TRUE(remote_pod.ok()) << remote_pod.status().ToString();
  auto remote = NewSpec(*remote_pod, {"perl", "-MIO::Socket::INET", "-e", connect});
  ASSERT_TRUE(Start(*remote_pod, remote).ok());
  status = WaitExited(remote);
  EXPECT_EQ(status.exit_code, 0) << ReadText(remote.log_path);
  EXPECT_TRUE(LogContains(remote, "stdout F hello from server\n")) << ReadText(remote.log_path);
}

// Everything fd yields until EOF; closes it.
std::string ReadAllAndClose(int fd) {
  std::string output;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) output.append(buf, n);
  ::close(fd);
  return output;
}

TEST_F(RuntimeTest, ExecRunsInsideTheContainer) {
  auto sandbox = NewSandbox("exec-pod");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  auto spec = NewSpec(*sandbox, {"sleep", "1000"});
  spec.working_dir = "/usr";
  auto started = Start(*sandbox, spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();

  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  auto pid = ExecInContainer(
      spec.state_dir, {"sh", "-c", "hostname; pwd; echo $MSG; test -e /proc/2 || echo pid-ns"},
      {"MSG=hi"}, -1, out[1], out[1]);
  ::close(out[1]);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  std::string output = ReadAllAndClose(out[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(*pid, &wstatus, 0), *pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  EXPECT_EQ(output, "exec-pod\n/usr\nhi\n") << output;

  // A missing binary: 127, with the reason on stderr.
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  pid = ExecInContainer(spec.state_dir, {"kennel-no-such-binary"}, {}, -1, -1, out[1]);
  ::close(out[1]);
  ASSERT_TRUE(pid.ok());
  output = ReadAllAndClose(out[0]);
  ASSERT_EQ(::waitpid(*pid, &wstatus, 0), *pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 127);
  EXPECT_NE(output.find("executable file not found in $PATH"), std::string::npos) << output;

  // A signal for the waited-for pid reaches the process inside.
  pid = ExecInContainer(spec.state_dir, {"sleep", "1000"}, {}, -1, -1, -1);
  ASSERT_TRUE(pid.ok());
  ASSERT_EQ(::kill(*pid, SIGTERM), 0);
  ASSERT_EQ(::waitpid(*pid, &wstatus, 0), *pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  EXPECT_EQ(WTERMSIG(wstatus), SIGTERM);

  ASSERT_TRUE(SignalContainer(spec.state_dir, SIGKILL).ok());
  EXPECT_EQ(WaitExited(spec).exit_code, 137);
  EXPECT_FALSE(ExecInContainer(spec.state_dir, {"true"}, {}, -1, -1, -1).ok());
}

// Runs cmd in the container; its exit code and what it wrote to stdout.
std::pair<int, std::string> ExecOutput(const std::string& state_dir,
                                       const std::vector<std::string>& cmd) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {-1, "pipe"};
  auto pid = ExecInContainer(state_dir, cmd, {}, -1, out[1], -1);
  ::close(out[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    return {-1, pid.status().ToString()};
  }
  std::string output = ReadAllAndClose(out[0]);
  int wstatus = 0;
  // The process is our child even though the launcher forked it.
  if (::waitpid(*pid, &wstatus, 0) != *pid || !WIFEXITED(wstatus)) return {-1, output};
  return {WEXITSTATUS(wstatus), output};
}

// The pid of a child of parent's named comm, or 0.
pid_t ChildNamed(const std::string& comm, pid_t parent = ::getpid()) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ReadText(e.path().string() + "/stat");
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && stat.substr(open + 1, close - open - 1) == comm) {
      return std::stoi(name);
    }
  }
  return 0;
}

// The launcher's waiting spare shim, once there is one; 0 at the deadline.
pid_t WaitForSpare(pid_t launcher) {
  pid_t spare = 0;
  WaitFor([&] { return (spare = ChildNamed("kennel-spare", launcher)) > 0; }, 10s);
  return spare;
}

// With the launcher, shims and exec'd processes start without this process
// forking (or exec'ing a binary): the shim binary below does not exist, so
// only the launcher can have started them.
TEST_F(RuntimeTest, LauncherStartsShimsAndExecs) {
  ASSERT_TRUE(StartShimLauncher().ok()) << "this test binary must be single-threaded here";
  ASSERT_EQ(::setenv(internal::kShimBinaryEnv, "/nonexistent/kennel", 1), 0);
  const pid_t launcher = ChildNamed("kennel-launcher");
  ASSERT_GT(launcher, 0);
  auto sandbox = NewSandbox("launched");
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  // The first shim is the spare forked ahead; the second, asked for at once,
  // is forked on request; the third finds its spare killed and forks anew.
  std::vector<ContainerSpec> specs;
  for (int i = 0; i < 3; ++i) {
    if (i == 0) {
      ASSERT_GT(WaitForSpare(launcher), 0);
    }
    if (i == 2) {
      const pid_t spare = WaitForSpare(launcher);
      ASSERT_GT(spare, 0);
      ASSERT_EQ(::kill(spare, SIGKILL), 0);
      ASSERT_TRUE(WaitFor([&] { return ProcessEnded(spare); }, 10s));
    }
    specs.push_back(NewSpec(*sandbox, {"sleep", "1000"}));
    const ContainerSpec& spec = specs.back();
    auto started = Start(*sandbox, spec);
    EXPECT_TRUE(started.ok() && started->state == State::kRunning)
        << i << ": " << started.status().ToString() << ReadText(spec.state_dir + "/shim.log");
    auto state = internal::ReadContainerState(spec.state_dir);
    ASSERT_TRUE(state.ok()) << i;
    EXPECT_EQ(ReadText("/proc/" + std::to_string(state->shim_pid) + "/comm"), "kennel-shim\n");
    EXPECT_NE(::getsid(state->shim_pid), ::getsid(0));  // detached, as by exec
  }
  const ContainerSpec& spec = specs.front();

  auto [code, output] = ExecOutput(spec.state_dir, {"sh", "-c", "hostname; echo $PATH"});
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "launched\n" + std::string(internal::kDefaultPath) + "\n");
  auto missing = ExecOutput(spec.state_dir, {"kennel-no-such-binary"});
  EXPECT_EQ(missing.first, 127);
  // Signals for the waited-for pid still reach the process inside.
  auto pid = ExecInContainer(spec.state_dir, {"sleep", "1000"}, {}, -1, -1, -1);
  ASSERT_TRUE(pid.ok());
  ASSERT_EQ(::kill(*pid, SIGTERM), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(*pid, &wstatus, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGTERM);

  // A launcher that died: its spare goes too, the shims it started stay,
  // containers start by exec again (with a binary that exists), and so do
  // execs.
  const pid_t spare = WaitForSpare(launcher);
  ASSERT_GT(spare, 0);
  ASSERT_EQ(::kill(launcher, SIGKILL), 0);
  ASSERT_EQ(::waitpid(launcher, nullptr, 0), launcher);
  EXPECT_TRUE(WaitFor([&] { return ProcessEnded(spare); }, 10s));
  for (const ContainerSpec& s : specs) {
    EXPECT_EQ(InspectContainer(s.state_dir).state, State::kRunning);
  }
  ::unsetenv(internal::kShimBinaryEnv);
  auto second = NewSpec(*sandbox, {"sleep", "1000"});
  auto restarted = Start(*sandbox, second);
  EXPECT_TRUE(restarted.ok() && restarted->state == State::kRunning)
      << restarted.status().ToString();
  EXPECT_EQ(ExecOutput(second.state_dir, {"hostname"}).second, "launched\n");
  StopShimLauncher();
}

TEST_F(RuntimeTest, LauncherRefusesAMultiThreadedProcess) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
  });
  Status st = StartShimLauncher();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("one thread"), std::string::npos) << st.message();
  EXPECT_EQ(ChildNamed("kennel-launcher"), 0);
}

TEST_F(RuntimeTest, IsolationNoneRunsAPlainHostProcess) {
  auto sandbox = NewSandbox("ignored", Isolation::kNone);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
  EXPECT_FALSE(sandbox->ip.empty());
  EXPECT_TRUE(sandbox->netns_path.empty());
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  auto spec = NewSpec(*sandbox, {"sh", "-c", "hostname; echo pid=$$; echo $FOO; pwd"});
  spec.env = {"FOO=plain"};
  spec.working_dir = "/tmp";
  spec.memory_limit_bytes = 64 << 20;
  auto started = Start(*sandbox, spec, Isolation::kNone);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ContainerStatus status = WaitExited(spec);
  EXPECT_EQ(status.exit_code, 0);
  std::string log = ReadText(spec.log_path);
  EXPECT_NE(log.find(std::string("stdout F ") + host + "\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F pid=" + std::to_string(started->pid) + "\n"), std::string::npos)
      << log;
  EXPECT_NE(log.find("stdout F plain\n"), std::string::npos) << log;
  EXPECT_NE(log.find("stdout F /tmp\n"), std::string::npos) << log;

  // Exec in kNone mode: a host process.
  auto exec_spec = NewSpec(*sandbox, {"sleep", "1000"});
  ASSERT_TRUE(Start(*sandbox, exec_spec, Isolation::kNone).ok());
  auto pid = ExecInContainer(exec_spec.state_dir, {"true"}, {}, -1, -1, -1);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  int wstatus = 0;
  ASSERT_EQ(::waitpid(*pid, &wstatus, 0), *pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

TEST_F(RuntimeTest, SandboxIsIdempotentAndRemovable) {
  SandboxSpec spec;
  spec.pod_uid = RandomHex(8) + "-aaaa-bbbb-cccc-" + RandomHex(12);
  spec.hostname = "again";
  spec.dir = g_env->root() + "/pods/" + spec.pod_uid;
  auto first = EnsureSandbox(Isolation::kNamespaces, g_env->network(), spec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = EnsureSandbox(Isolation::kNamespaces, g_env->network(), spec);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->ip, second->ip);
  EXPECT_EQ(first->netns_path, second->netns_path);
  EXPECT_EQ(first->host_veth, second->host_veth);
  EXPECT_EQ(first->host_veth, "kv" + spec.pod_uid.substr(0, 8));
  EXPECT_TRUE(PathExists(g_env->network().ipam_dir + "/" + first->ip));
  auto index = internal::LinkIndex(first->host_veth);
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index->has_value());

  ASSERT_TRUE(RemoveSandbox(Isolation::kNamespaces, g_env->network(), spec).ok());
  ASSERT_TRUE(RemoveSandbox(Isolation::kNamespaces, g_env->network(), spec).ok());
  EXPECT_FALSE(PathExists(first->netns_path));
  EXPECT_FALSE(PathExists(g_env->network().ipam_dir + "/" + first->ip));
  index = internal::LinkIndex(first->host_veth);
  ASSERT_TRUE(index.ok());
  EXPECT_FALSE(index->has_value());
  EXPECT_TRUE(internal::MountPointsUnder(spec.dir).empty());
}

}  // namespace
}  // namespace kennel::agent

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "shim") {
    return kennel::agent::RunShim(argc - 2, argv + 2);
  }
  ::testing::InitGoogleTest(&argc, argv);
  kennel::agent::g_env = new kennel::agent::NodeEnvironment();
  ::testing::AddGlobalTestEnvironment(kennel::agent::g_env);  // gtest owns it
  return RUN_ALL_TESTS();
}
