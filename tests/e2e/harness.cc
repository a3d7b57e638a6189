#include "harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef KENNEL_BINARY
#error "KENNEL_BINARY must name the kennel binary under test"
#endif

namespace kennel::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// In a forked child: adds env ("K=V") and execs argv (argv[0] looked up in
// PATH unless it is a path); exits 127 if that fails.
[[noreturn]] void ExecChild(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env) {
  for (const auto& e : env) putenv(strdup(e.c_str()));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

void Drain(int fd, std::string* out) {
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out->append(buf, n);
}

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_data,
              const std::vector<std::string>& env, std::chrono::milliseconds timeout) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) {
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    ExecChild(argv, env);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Feed stdin from a thread so a large input cannot deadlock against output.
  std::thread writer([fd = in_pipe[1], data = stdin_data] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd, data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += n;
    }
    close(fd);
  });
  RunResult r;
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    poll(fds, 2, std::min(left, 100));
    Drain(out_pipe[0], &r.out);
    Drain(err_pipe[0], &r.err);
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      Drain(out_pipe[0], &r.out);
      Drain(err_pipe[0], &r.err);
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
  }
  if (timed_out) {
    waitpid(pid, nullptr, 0);
    r.exit_code = -1;
  }
  writer.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  return r;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env, bool merge_stderr) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC)) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_pipe[1], 1);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(merge_stderr ? out_pipe[1] : devnull, 2);
    ExecChild(argv, env);
  }
  close(out_pipe[1]);
  out_fd_ = out_pipe[0];
  reader_ = std::thread([this] { Reader(); });
}

BackgroundProcess::~BackgroundProcess() {
  Kill();
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

void BackgroundProcess::Reader() {
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out_fd_, buf, sizeof(buf))) > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    out_.append(buf, n);
  }
}

bool BackgroundProcess::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return output().find(text) != std::string::npos; }, timeout);
}

std::string BackgroundProcess::output() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

void BackgroundProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool BackgroundProcess::Terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return false;
  kill(pid_, SIGTERM);
  int status = 0;
  bool exited = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/kennel-e2e-XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

std::string SubnetPrefix(int number) { return "10." + std::to_string(100 + number) + "."; }

// Whether any route on the machine starts in 10.<100+number>.x.x.
bool SubnetRouted(const std::string& routes, int number) {
  std::istringstream lines(routes);
  std::string prefix = SubnetPrefix(number);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

NetworkSlot::NetworkSlot() {
  const std::string dir = "/tmp/kennel-e2e-slots";
  mkdir(dir.c_str(), 0777);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  // Start where the pid points, so processes starting together rarely try
  // the same numbers first.
  const int first = getpid() % kCount;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string routes = Run({"ip", "-4", "-o", "route", "show"}).out;
    for (int i = 0; i < kCount; ++i) {
      int n = (first + i) % kCount;
      if (SubnetRouted(routes, n)) continue;
      std::string path = dir + "/" + std::to_string(n) + ".lock";
      int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd < 0) continue;
      if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        number_ = n;
        lock_fd_ = fd;
        return;
      }
      close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "no free network slot under %s in a minute\n", dir.c_str());
  std::abort();
}

NetworkSlot::~NetworkSlot() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

std::string NetworkSlot::ClusterCidr() const { return SubnetPrefix(number_) + "0.0/16"; }

KennelServer::KennelServer(std::string data_dir, std::string listen,
                           std::vector<std::string> extra_args, std::string command)
    : data_dir_(std::move(data_dir)),
      listen_(std::move(listen)),
      extra_args_(std::move(extra_args)),
      command_(std::move(command)) {}

KennelServer::~KennelServer() {
  if (pid_ > 0) Stop();
}

bool KennelServer::Start() {
  std::filesystem::remove(kubeconfig());
  std::string log_path = data_dir_ + "/server.log";
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<std::string> argv = {KENNEL_BINARY, command_,   "--data-dir",
                                     data_dir_,     "--listen", listen_};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    ExecChild(argv, {});
  }
  // The kubeconfig appears once the server listens; its server: line has the port.
  bool up = WaitFor(
      [&] {
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // exited: stop waiting
        }
        std::string kc = ReadAll(kubeconfig());
        size_t at = kc.find("server: ");
        if (at == std::string::npos) return false;
        url_ = kc.substr(at + 8, kc.find('\n', at) - at - 8);
        return true;
      },
      std::chrono::seconds(30));
  if (!up || pid_ < 0) return false;
  return WaitFor(
      [&] {
        return Curl({"-o", "/dev/null", url_ + "/healthz"}, false).exit_code == 0;
      },
      std::chrono::seconds(30));
}

int KennelServer::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  bool exited =
      WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(45));
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void KennelServer::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string KennelServer::token() const {
  std::string t = ReadAll(data_dir_ + "/pki/admin.token");
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

std::string KennelServer::log() const { return ReadAll(data_dir_ + "/server.log"); }

RunResult KennelServer::Kubectl(const std::vector<std::string>& args,
                                const std::string& stdin_data) {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, stdin_data, {"KUBECACHEDIR=" + data_dir_ + "/kubectl-cache"});
}

std::string KennelServer::KubectlOk(const std::vector<std::string>& args,
                                    const std::string& stdin_data) {
  RunResult r = Kubectl(args, stdin_data);
  EXPECT_EQ(r.exit_code, 0) << "kubectl " << testing::PrintToString(args) << "\nstdout: " << r.out
                            << "\nstderr: " << r.err;
  return r.out;
}

RunResult KennelServer::Curl(const std::vector<std::string>& args, bool with_token) {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "30", "--cacert", ca_file()};
  if (with_token) {
    argv.push_back("-H");
    argv.push_back("Authorization: Bearer " + token());
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

}  // namespace kennel::e2e
