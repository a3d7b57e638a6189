// The agent's own HTTPS endpoint, as the kubelet's port 10250: the API server
// proxies `pods/log` and `pods/exec` here (kubectl never talks to it).
//
//   GET /containerLogs/NS/POD/CONTAINER?follow&previous&tailLines&sinceSeconds
//       &timestamps&limitBytes                    → the log as text (chunked)
//   GET /exec/NS/POD/CONTAINER?command=…&stdin&stdout&stderr&tty
//       with a WebSocket upgrade, subprotocol v5.channel.k8s.io (or v4):
//       channel-framed stdin (0), stdout (1), stderr (2), status (3, a
//       Kubernetes Status with the exit code), resize (4), close (255, v5).
//
// Requests must carry the bearer token the agent was given.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace kennel::agent {

// Where a container's files are, for the server: its log (and the rotated
// one beside it, LOG.1) and its runtime state directory.
struct ContainerFiles {
  std::string log_path;
  std::string state_dir;
  bool running = false;
};

// Finds a container of a pod this agent runs: previous = the attempt before
// the current one (`kubectl logs --previous`). kNotFound with a message
// kubectl can show when there is no such pod, container or attempt.
using ContainerLocator = std::function<StatusOr<ContainerFiles>(
    const std::string& ns, const std::string& pod, const std::string& container, bool previous)>;

struct AgentServerOptions {
  std::string listen_host = "0.0.0.0";
  uint16_t port = 0;    // 0: any free port (reported in the Node's daemonEndpoints)
  std::string pki_dir;  // where the self-signed serving certificate is kept
  std::string host_ip;  // put in the certificate
  std::string token;    // what callers must present
};

class AgentServer {
 public:
  static StatusOr<std::unique_ptr<AgentServer>> Start(AgentServerOptions options,
                                                      ContainerLocator locate);
  virtual ~AgentServer() = default;
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
};

// The text `kubectl logs` shows for CRI-format log bytes: messages only, or
// prefixed with their RFC 3339 timestamps; lines older than since_ns
// (nanoseconds since the epoch, 0 = all) dropped; only the last tail_lines
// lines kept (-1 = all). Partial lines ("P") are joined with what follows.
std::string RenderCriLog(const std::string& cri, bool timestamps, int64_t since_ns,
                         int64_t tail_lines);

}  // namespace kennel::agent
