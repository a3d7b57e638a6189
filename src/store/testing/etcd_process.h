// Real etcd members for tests and benchmarks (library kennel_etcd_testing).
//
// EtcdCluster::Start runs N etcd processes on 127.0.0.1 with free ports and
// fresh data directories under $TMPDIR (default /tmp), and returns once every
// member reports itself healthy (it has a leader and serves reads). Members
// fsync as etcd always does (no --unsafe-no-fsync): durability is what tests
// of the store check. The destructor SIGKILLs every member by pid, reaps it
// and removes the data directories.
//
// Members also die with the thread that started (or restarted) them
// (PR_SET_PDEATHSIG), so a crashed test leaves no etcd behind: start and
// restart them from a thread that outlives the cluster.
//
// Threads: not thread-safe; use one cluster from one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::store::testing {

struct EtcdClusterOptions {
  int members = 1;
  // The etcd binary; "" = $KENNEL_ETCD if set, else /usr/bin/etcd.
  std::string binary;
  std::chrono::milliseconds start_timeout{30'000};
  // etcd's defaults; a loaded 2-core machine gets spurious elections below them.
  int heartbeat_ms = 100;
  int election_timeout_ms = 1000;
  // Serve clients over https:// only, requiring a client certificate signed by
  // a fresh test CA (made with the openssl command). Peers stay on http://.
  bool tls = false;
};

class EtcdCluster {
 public:
  // Errors: kUnavailable if a member does not become healthy in time (the
  // message carries the end of its log); kInternal for filesystem errors.
  static StatusOr<std::unique_ptr<EtcdCluster>> Start(const EtcdClusterOptions& options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "http://127.0.0.1:PORT", one per member, in member order.
  std::vector<std::string> client_urls() const;
  const std::string& client_url(int member) const { return members_[member].client_url; }
  pid_t pid(int member) const { return members_[member].pid; }  // 0 when not running
  bool running(int member) const { return members_[member].pid != 0; }

  // kill -9 by pid, then reaps it. No-op if it is not running.
  void Kill(int member);
  // Starts a killed member again on its data directory and ports; returns once
  // its client port accepts connections (it may have no leader yet).
  Status Restart(int member);
  // Waits until the member's /health says true (it has a leader and answers).
  Status WaitHealthy(int member, std::chrono::milliseconds timeout);
  Status WaitAllHealthy(std::chrono::milliseconds timeout);

  // With options.tls: the CA that signed the members' certificates, and a
  // client certificate and key it also signed.
  std::string ca_file() const { return base_dir_ + "/pki/ca.crt"; }
  std::string client_cert_file() const { return base_dir_ + "/pki/client.crt"; }
  std::string client_key_file() const { return base_dir_ + "/pki/client.key"; }

  // Plain HTTP with a 5 s timeout, for tests that look at etcd directly. Get
  // asks the member's metrics listener (always http://: /metrics, /health);
  // Post its client URL (the v3 JSON gateway; kBadRequest with options.tls).
  // Return the body of any answer; kUnavailable if there was none.
  StatusOr<std::string> Get(int member, const std::string& path);
  StatusOr<std::string> Post(int member, const std::string& path, const std::string& body);

  // The end of the member's log, for failure messages.
  std::string LogTail(int member) const;

 private:
  struct Member {
    std::string name;
    std::string data_dir;
    std::string log_file;
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;
    std::string client_url;
    pid_t pid = 0;
  };

  EtcdCluster(EtcdClusterOptions options, std::string base_dir);
  Status MakeCertificates();
  Status Spawn(int member);
  Status StartAll();
  void KillAll();
  bool Exited(int member);  // reaps it if it exited on its own
  std::vector<std::string> Args(int member) const;

  EtcdClusterOptions options_;
  std::string base_dir_;
  std::string cluster_token_;
  std::vector<Member> members_;
};

}  // namespace kennel::store::testing
