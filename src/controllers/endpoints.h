// Endpoints controller: keeps the Endpoints object of every Service that has
// a selector (same namespace, same name) listing the pods the selector
// matches, as kube-controller-manager's endpoints controller does.
//
// How it reconciles. Informers on Services, Pods and Endpoints feed a work
// queue of Service keys ("ns/name"):
//   - a Service added, changed or deleted queues itself;
//   - a Pod added, deleted, or changed in anything Endpoints show (labels, IP,
//     readiness, deletion, phase, node, hostname and subdomain, container
//     ports) queues the Services of its namespace whose selector matched it
//     before or matches it now; other pod changes (status heartbeats) queue
//     nothing;
//   - an Endpoints object changed or deleted behind the controller's back
//     queues its Service, so that it is put back.
// Reconcile(key) reads only the caches: it computes the subsets
// (DesiredSubsets) and writes only when they or the labels differ — create,
// update (a conflict retries with the queue's back-off), or delete once the
// Service is gone. Services without a selector, and ExternalName ones, are
// left alone: their Endpoints are the user's. Workers start once all three
// caches have synced, so a restart never writes Endpoints from a partial view;
// at that point Endpoints whose Service no longer exists are queued too (and
// so deleted), as Kubernetes does.
//
// Threads: one thread per informer (its handlers only update the pod index
// and queue keys) and `workers` worker threads. Destruction stops them all.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

struct EndpointsOptions {
  int workers = 2;
};

class EndpointsController {
 public:
  // Starts the informers and workers; client must outlive the controller.
  static StatusOr<std::unique_ptr<EndpointsController>> Start(client::Client* client,
                                                              EndpointsOptions options = {});
  virtual ~EndpointsController() = default;
};

// The subsets the Endpoints of `service` should hold, given the pods its
// selector matches (in its namespace), as Kubernetes computes them:
//   - a pod counts when it has an IP (of the service's IP family), is not
//     terminal (Succeeded/Failed) and, unless publishNotReadyAddresses, is
//     not terminating;
//   - each address is {ip, nodeName, targetRef: Pod ns/name/uid}, plus
//     hostname = spec.hostname when the pod's spec.subdomain is the
//     Service's name; it goes to `addresses` when the pod is Ready (or
//     publishNotReadyAddresses), else to `notReadyAddresses`;
//   - each service port is an EndpointPort {name, port, protocol,
//     appProtocol}, a named targetPort resolved per pod from its container
//     ports (a pod without that port is left out of that port);
//   - addresses are grouped as Kubernetes' RepackSubsets does: one subset per
//     distinct set of addresses, carrying the ports they all serve (so pods
//     resolving a named port to different numbers land in different
//     subsets); a headless service without ports gets one portless subset.
// Addresses are sorted by IP (then pod uid), ports by name, number and
// protocol, subsets by their addresses: equal inputs give equal output.
nlohmann::json DesiredSubsets(const nlohmann::json& service,
                              const std::vector<nlohmann::json>& pods);

}  // namespace kennel::controllers
