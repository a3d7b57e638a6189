// `kennel server`'s API server: HTTPS with bearer-token authentication in
// front of the Handler, on the embedded store in <data-dir>/store or on etcd.
//
// Lifecycle: Start() opens the store, creates credentials and the admin
// kubeconfig on first start, binds, and serves on its own threads; Stop()
// (from any thread, also a signal handler's waker) closes the listener and
// open connections; Wait() returns once everything has stopped.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/any_io_executor.hpp>
// clang-format on
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::apiserver {

class Handler;

struct ServerOptions {
  std::string data_dir = "/var/lib/kennel";
  std::string listen = "127.0.0.1:6443";  // HOST:PORT; port 0 picks a free one
  int threads = 0;                        // I/O threads; 0: one per core but one
  // Services' cluster IPs (service_ips.h); its first address is the kubernetes Service's.
  std::string service_cidr = "10.96.0.0/16";
  // The store: etcd when endpoints are given (store/etcd.h), else the
  // embedded one in <data_dir>/store.
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix = "/kennel";                      // every key in etcd starts with it
  std::string etcd_ca_file, etcd_cert_file, etcd_key_file;  // client TLS to etcd
  // Given: the cluster's CA and admin credentials live in the store, sealed
  // with this token (cluster_identity.h), so every server of one store shares
  // them. Empty: each server keeps its own in <data_dir>/pki.
  std::string token;
};

class Server {
 public:
  static StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  virtual ~Server() = default;

  virtual uint16_t port() const = 0;
  // "https://127.0.0.1:6443": the URL the admin kubeconfig points at.
  virtual std::string url() const = 0;
  virtual std::string kubeconfig_path() const = 0;
  virtual void Stop() = 0;
  virtual void Wait() = 0;

  // For the in-process client (`kennel up`, controllers): the request path
  // without HTTP, and the I/O threads it runs on. Valid until destruction.
  virtual Handler* handler() = 0;
  // The admin bearer token: what the server presents to node agents.
  virtual const std::string& admin_token() const = 0;
  virtual boost::asio::any_io_executor executor() = 0;
};

// Splits "HOST:PORT" / "[v6]:PORT".
StatusOr<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& listen);

}  // namespace kennel::apiserver
