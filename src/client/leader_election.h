// Leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection package with a LeaseLock does it, so that several servers
// sharing one store run their controllers on one of them at a time.
//
// The record. The Lease `namespace/name` holds holderIdentity,
// leaseDurationSeconds, acquireTime, renewTime (MicroTime) and
// leaseTransitions. Every write is an update with the resourceVersion last
// read (a create when there is no Lease), so of two candidates racing for it
// one gets 409 and re-reads.
//
// The algorithm (client-go's tryAcquireOrRenew), one attempt every
// retry_period:
//   - holding the lease and it has not expired: update it optimistically
//     from the cached object (renewTime = now); on any failure fall back to:
//   - read it (absent: create it, holding it); when the record differs from
//     the one last seen, note *our own* steady-clock time as its observation
//     time. It is held by someone else while holderIdentity is non-empty and
//     observation time + leaseDurationSeconds is still ahead: then wait. The
//     remote renewTime is never compared with our clock, so clock skew
//     between servers does not matter, only clock rate.
//   - otherwise take it: holderIdentity = us, renewTime = now, acquireTime =
//     now and leaseTransitions + 1 when the holder changes.
// A candidate waiting on someone else's lease also tries right at the moment
// it would expire (not only on the retry tick), so a crashed leader is
// replaced within lease_duration + retry_period of its last renewal.
//
// Leading. We lead from a successful attempt until renew_deadline after the
// start of the last successful one — measured on our side, even while a
// request hangs (a stuck store or network) — or at once when an attempt finds
// the lease held by someone else. Others take over no earlier than
// lease_duration after they saw our last renewal, and renew_deadline <
// lease_duration, so the old leader has stopped leading by then (provided its
// on_stopped_leading finishes within the difference). After losing, the
// elector is a candidate again and keeps trying.
//
// Stopping. Stop(ReleaseLease::kYes) — and the destructor — stops the
// attempts, runs on_stopped_leading if leading, and only then gives the lease
// up (holderIdentity "", leaseDurationSeconds 1: client-go's ReleaseOnCancel),
// so a standby takes over on its next attempt while no two sets of
// controllers ever run at once. ReleaseLease::kNo leaves the Lease as it is,
// as a crash would: the standby waits for it to expire.
//
// Threads: two of the elector's own. One makes the requests (the only one
// touching the cached Lease); the other runs the callbacks, one at a time and
// in order (start, stop, start, …), so a callback that takes long (starting or
// stopping controllers) delays neither renewals nor the deadline check, and
// the deadline still fires while a request hangs. Callbacks must not call
// Stop() or destroy the elector.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "client/client.h"

namespace kennel::client {

struct LeaderElectorOptions {
  std::string lease_namespace = "kube-system";
  std::string lease_name;
  // Who we are in holderIdentity; must differ between processes. Empty:
  // DefaultLeaderIdentity().
  std::string identity;
  // How long others wait after they last saw the lease renewed before they
  // take it (written as leaseDurationSeconds, rounded up to whole seconds:
  // at least 1 s).
  std::chrono::milliseconds lease_duration{15'000};
  // The leader stops leading when its renewals failed for this long.
  std::chrono::milliseconds renew_deadline{10'000};
  // Time between attempts to acquire or renew.
  std::chrono::milliseconds retry_period{2'000};
  // Called on the elector's callback thread; either may be empty.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  // The holder we last saw changed ("" once released), ourselves included.
  std::function<void(const std::string& identity)> on_new_leader;
};

// Whether Stop() gives the lease up (a clean shutdown) or leaves it to expire.
enum class ReleaseLease { kYes, kNo };

class LeaderElector {
 public:
  // Validates the options (ValidateLeaderElectorOptions), then starts
  // competing for the lease at once. client must outlive the elector.
  static StatusOr<std::unique_ptr<LeaderElector>> Start(Client* client,
                                                        LeaderElectorOptions options);
  // Stop(ReleaseLease::kYes) unless stopped already.
  virtual ~LeaderElector() = default;

  // Stops competing: no attempt starts any more (one in flight is waited
  // for), on_stopped_leading runs if we were leading, then the lease is
  // released when asked and still ours. Idempotent; not from a callback.
  virtual void Stop(ReleaseLease release) = 0;

  // True between on_started_leading and on_stopped_leading (set just before
  // each runs).
  virtual bool IsLeader() const = 0;
  virtual const std::string& identity() const = 0;
  // The holderIdentity last seen on the lease ("" before any, or released).
  virtual std::string leader() const = 0;
};

// Clear errors for options the elector cannot honour: empty names, a lease
// shorter than 1 s, renew_deadline ≥ lease_duration, retry_period ≥
// renew_deadline, non-positive durations.
Status ValidateLeaderElectorOptions(const LeaderElectorOptions& options);

// The host name, "_", and a random UUID, as kube-controller-manager names
// itself, so that two processes on one host never share an identity.
std::string DefaultLeaderIdentity();

}  // namespace kennel::client
