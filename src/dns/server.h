// The cluster DNS server: authoritative for the cluster domain (see view.h
// for the records), over UDP and TCP, forwarding other names to upstream
// resolvers.
//
// How it stays current: informers on Services, Endpoints and Pods (all
// namespaces) reduce each object to the few fields DNS needs; a change marks
// the view dirty, and a builder thread, after a short debounce (10 ms) that
// folds bursts together, builds a new immutable View and swaps it in
// atomically. Queries never wait on a lock: each I/O thread holds the current
// view and picks up a newer one between packets. A change is answerable
// within a few milliseconds of the informer seeing it.
//
// Threads: `threads` I/O threads, each with its own io_context and its own
// UDP socket and TCP acceptor per listener (SO_REUSEPORT lets the kernel
// spread packets and connections), so the hot path shares nothing. UDP
// packets are drained in batches with non-blocking reads into one buffer per
// thread and answered in place (no allocation per query). TCP connections
// take several length-prefixed queries each, answered as they come (forwarded
// ones may overtake), and close after 10 s idle.
//
// Forwarding: names outside the cluster domain (and reverse names that are
// not cluster IPs or endpoints) go to the upstreams — `upstreams`, else the
// nameservers of `resolv_conf`, minus any address this server listens on —
// asynchronously on the same I/O thread, trying the upstreams in turn; after
// `forward_timeout` in all (2 s), or at once when every upstream refused
// (ICMP port unreachable), the client gets SERVFAIL. A truncated upstream
// answer to a TCP client is asked again over TCP. With no upstream, such
// names are answered SERVFAIL at once.
//
// Lifecycle: Start() starts the informers, waits (up to sync_timeout) for
// their first lists and the first view, binds every listener, and serves.
// Until the first view exists in-zone queries get SERVFAIL. Stop() (or the
// destructor) stops the I/O threads, then the builder and the informers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/client.h"

namespace kennel::dns {

struct DnsOptions {
  // "HOST:PORT" or "[V6]:PORT", an IP literal; UDP and TCP on each. Port 0
  // picks a free port, the same for UDP and TCP.
  std::vector<std::string> listen;
  std::string cluster_domain = "cluster.local";
  // "IP", "IP:PORT" or "[V6]:PORT" (port 53 when absent). Empty: the
  // nameservers of resolv_conf ("" for none).
  std::vector<std::string> upstreams;
  std::string resolv_conf = "/etc/resolv.conf";
  std::chrono::milliseconds forward_timeout{2000};
  int threads = 1;
  std::chrono::milliseconds debounce{10};
  std::chrono::milliseconds sync_timeout{10000};
};

class DnsServer {
 public:
  // client must outlive the server. Fails on bad options or when a listener
  // cannot be bound.
  static StatusOr<std::unique_ptr<DnsServer>> Start(client::Client* client, DnsOptions options);
  virtual ~DnsServer() = default;

  // Serves on one more HOST:PORT (e.g. the node bridge's address once the
  // agent has made it). Returns the address bound, port resolved.
  virtual StatusOr<std::string> AddListener(const std::string& host_port) = 0;
  // Every listener's address, ports resolved ("127.0.0.1:40153").
  virtual std::vector<std::string> listen_addresses() const = 0;
  // The upstreams in use ("10.0.0.2:53"); empty when not forwarding.
  virtual std::vector<std::string> upstreams() const = 0;
  // Idempotent.
  virtual void Stop() = 0;
};

// The nameservers of a resolv.conf text, in order ("10.0.0.2", "fd00::53").
std::vector<std::string> NameserversFromResolvConf(const std::string& text);

}  // namespace kennel::dns
