// End-to-end test harness: starts the real `kennel` binary in a temporary data
// directory on a free loopback port, runs real clients (kubectl, curl) against
// it, and always stops what it started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kennel::e2e {

struct RunResult {
  int exit_code = -1;  // -1: killed by the timeout
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH) with optional stdin, extra environment
// ("K=V"), capturing stdout and stderr; killed after timeout.
RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_data = "",
              const std::vector<std::string>& env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A process running in the background whose output is collected as it comes,
// for clients that stream (kubectl get -w). The destructor kills it.
class BackgroundProcess {
 public:
  // merge_stderr: collect stderr with stdout (else it goes to /dev/null).
  BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    bool merge_stderr = false);
  ~BackgroundProcess();
  // Waits until stdout contains text; false at the deadline.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);
  std::string output();
  void Kill();
  // SIGTERM, then SIGKILL if it has not exited by the deadline; true when it
  // exited by itself with status 0.
  bool Terminate(std::chrono::milliseconds timeout);

 private:
  void Reader();
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::mutex mu_;
  std::string out_;
  std::thread reader_;
};

// Polls condition every 50 ms until it holds or the deadline passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// A fresh directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A number in [0, kCount) that no other test process on this machine holds
// while this object lives, for what test clusters running at once must not
// share: a pod subnet routed to one bridge, a service IP, a node port. (Two
// clusters on one subnet route each other's pods to the wrong bridge.) A lock
// file per number holds it; the kernel drops the lock when the process dies,
// so a crashed test frees its number. Numbers whose subnet the machine already
// routes (a bridge left by a killed run) are passed over.
class NetworkSlot {
 public:
  static constexpr int kCount = 150;
  NetworkSlot();  // waits for a free number; aborts the test binary after a minute
  ~NetworkSlot();
  NetworkSlot(const NetworkSlot&) = delete;
  NetworkSlot& operator=(const NetworkSlot&) = delete;

  int number() const { return number_; }
  // 10.<100+number>.0.0/16: the cluster CIDR for `kennel up` / `kennel server`.
  std::string ClusterCidr() const;

 private:
  int number_ = -1;
  int lock_fd_ = -1;
};

// One `kennel server` process.
class KennelServer {
 public:
  // data_dir must exist; the server listens on 127.0.0.1:0 unless listen is given.
  // extra_args are appended to `kennel server …` (e.g. {"--threads", "2"}).
  // command is the subcommand: "server", or "up" (server and agent).
  explicit KennelServer(std::string data_dir, std::string listen = "127.0.0.1:0",
                        std::vector<std::string> extra_args = {}, std::string command = "server");
  ~KennelServer();  // stops the process (SIGTERM, then SIGKILL) if running

  // Starts and waits until it serves /healthz; false on failure or timeout.
  bool Start();
  // SIGTERM and wait; returns the exit status (0 on a clean stop).
  int Stop();
  // kill -9 and reap.
  void Kill9();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::string& url() const { return url_; }  // https://127.0.0.1:PORT
  std::string kubeconfig() const { return data_dir_ + "/kubeconfig"; }
  std::string token() const;
  std::string ca_file() const { return data_dir_ + "/pki/ca.crt"; }
  std::string log() const;  // what the server printed

  // kubectl against this server, with a private discovery cache.
  RunResult Kubectl(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // kubectl that must succeed (a test failure naming the command, its
  // output and errors otherwise); returns stdout.
  std::string KubectlOk(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // curl with the admin token and CA; args are appended (method, path URL…).
  RunResult Curl(const std::vector<std::string>& args, bool with_token = true);

 private:
  std::string data_dir_;
  std::string listen_;
  std::vector<std::string> extra_args_;
  std::string command_;
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace kennel::e2e
