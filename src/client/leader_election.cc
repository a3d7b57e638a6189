#include "client/leader_election.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "base/time.h"

namespace kennel::client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// "15s" when whole seconds, else "600ms": durations in messages read like flags.
std::string DurationText(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// leaseDurationSeconds is whole seconds; rounding up keeps others waiting at
// least lease_duration, which the safety argument in the header needs.
int64_t LeaseSeconds(milliseconds d) { return (d.count() + 999) / 1000; }

// client-go's LeaderElectionRecord, the part of a Lease's spec the election reads.
struct Record {
  std::string holder;
  int64_t duration_seconds = 0;
  std::string acquire_time;
  std::string renew_time;
  int64_t transitions = 0;
};

Record RecordOf(const json& lease) {
  Record r;
  auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return r;
  auto str = [&](const char* key) {
    auto it = spec->find(key);
    return it != spec->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* key) {
    auto it = spec->find(key);
    return it != spec->end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  r.holder = str("holderIdentity");
  r.duration_seconds = num("leaseDurationSeconds");
  r.acquire_time = str("acquireTime");
  r.renew_time = str("renewTime");
  r.transitions = num("leaseTransitions");
  return r;
}

// The whole spec, as LeaseLock writes it (other spec fields are dropped).
json SpecOf(const Record& r) {
  return {{"holderIdentity", r.holder},
          {"leaseDurationSeconds", r.duration_seconds},
          {"acquireTime", r.acquire_time},
          {"renewTime", r.renew_time},
          {"leaseTransitions", r.transitions}};
}

// What one attempt found.
enum class Attempt {
  kHeld,         // the lease is ours, just written
  kHeldByOther,  // someone else holds a lease that has not expired
  kFailed,       // a request failed: we know nothing new
};

class LeaderElectorImpl : public LeaderElector {
 public:
  LeaderElectorImpl(Client* client, LeaderElectorOptions options)
      : client_(client), options_(std::move(options)) {}

  ~LeaderElectorImpl() override { Stop(ReleaseLease::kYes); }

  void Run() {
    notifier_ = std::thread([this] { NotifyLoop(); });
    attempts_ = std::thread([this] { AttemptLoop(); });
  }

  void Stop(ReleaseLease release) override {
    if (std::this_thread::get_id() == notifier_.get_id()) {
      // It would join the thread it runs on: a bug in the caller.
      spdlog::critical("leader election {}: Stop() called from a callback", Where());
      std::abort();
    }
    {
      std::lock_guard lock(mu_);
      if (stop_called_) return;
      stop_called_ = true;
      stop_attempts_ = true;
    }
    cv_.notify_all();
    if (attempts_.joinable()) attempts_.join();
    {
      std::lock_guard lock(mu_);
      stopping_ = true;  // the notifier now runs on_stopped_leading if leading
    }
    cv_.notify_all();
    if (notifier_.joinable()) notifier_.join();
    // Only now: the standby may start its controllers once ours are stopped.
    if (release == ReleaseLease::kYes) Release();
  }

  bool IsLeader() const override {
    std::lock_guard lock(mu_);
    return leading_;
  }
  const std::string& identity() const override { return options_.identity; }
  std::string leader() const override {
    std::lock_guard lock(mu_);
    return leader_;
  }

 private:
  std::string Where() const { return options_.lease_namespace + "/" + options_.lease_name; }

  // --- the attempts thread ---------------------------------------------------

  void AttemptLoop() {
    std::unique_lock lock(mu_);
    while (!stop_attempts_) {
      lock.unlock();
      const Clock::time_point start = Clock::now();
      const Attempt attempt = TryAcquireOrRenew();
      lock.lock();
      if (attempt == Attempt::kHeld) {
        renewed_at_ = start;  // the start: the write happened no earlier
      } else if (attempt == Attempt::kHeldByOther) {
        renewed_at_.reset();
      }  // kFailed: leading goes on until renew_deadline after renewed_at_
      leader_ = observed_.holder;
      cv_.notify_all();
      Clock::time_point next = start + options_.retry_period;
      if (attempt == Attempt::kHeldByOther) {
        // Try right when it expires in our eyes rather than up to a period later.
        next = std::min(next, ObservedExpiry() + milliseconds(1));
      }
      cv_.wait_until(lock, next, [this] { return stop_attempts_; });
    }
  }

  Clock::time_point ObservedExpiry() const {
    return observed_time_ + std::chrono::seconds(observed_.duration_seconds);
  }
  bool ObservedValid(Clock::time_point now) const { return ObservedExpiry() > now; }
  bool ObservedIsUs() const { return observed_.holder == options_.identity; }

  void Observe(const Record& r) {
    observed_ = r;
    observed_raw_ = SpecOf(r).dump();
    observed_time_ = Clock::now();
  }

  Attempt TryAcquireOrRenew() {
    const Clock::time_point now = Clock::now();
    const std::string wall_now = NowRfc3339(TimePrecision::kMicros);
    Record desired{options_.identity, LeaseSeconds(options_.lease_duration), wall_now, wall_now, 0};

    // 1. The leader's fast path: write over the Lease we wrote last.
    if (ObservedIsUs() && ObservedValid(now) && lease_.is_object()) {
      desired.acquire_time = observed_.acquire_time;
      desired.transitions = observed_.transitions;
      Status st = Write(desired);
      if (st.ok()) return Attempt::kHeld;
      spdlog::debug("leader election {}: optimistic renewal failed ({}), re-reading", Where(),
                    st.ToString());
    }

    // 2. Read it, or create it when there is none.
    StatusOr<json> got = client_->Get(kLeases, options_.lease_namespace, options_.lease_name);
    if (!got.ok()) {
      if (got.status().code() != Code::kNotFound) {
        spdlog::warn("leader election {}: cannot read the lease: {}", Where(),
                     got.status().ToString());
        return Attempt::kFailed;
      }
      json lease = {
          {"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
          {"spec", SpecOf(desired)}};
      StatusOr<json> created = client_->Create(kLeases, options_.lease_namespace, lease);
      if (!created.ok()) {
        // AlreadyExists: another candidate was faster; the next attempt reads it.
        spdlog::info("leader election {}: cannot create the lease: {}", Where(),
                     created.status().ToString());
        return Attempt::kFailed;
      }
      lease_ = *std::move(created);
      Observe(desired);
      return Attempt::kHeld;
    }

    // 3. A changed record restarts its expiry clock: our clock, not theirs.
    lease_ = *std::move(got);
    const Record current = RecordOf(lease_);
    if (SpecOf(current).dump() != observed_raw_) Observe(current);
    if (!observed_.holder.empty() && ObservedValid(now) && !ObservedIsUs()) {
      return Attempt::kHeldByOther;
    }

    // 4. Free, expired, or ours: take or keep it.
    if (ObservedIsUs()) {
      desired.acquire_time = observed_.acquire_time;
      desired.transitions = observed_.transitions;
    } else {
      desired.transitions = observed_.transitions + 1;
    }
    Status st = Write(desired);
    if (!st.ok()) {
      // A 409 means another candidate wrote first; the next attempt re-reads.
      spdlog::log(st.code() == Code::kConflict ? spdlog::level::debug : spdlog::level::warn,
                  "leader election {}: cannot update the lease: {}", Where(), st.ToString());
      return Attempt::kFailed;
    }
    return Attempt::kHeld;
  }

  // Replaces the spec of the cached Lease, conditional on its resourceVersion.
  Status Write(const Record& r) {
    json next = lease_;
    next["spec"] = SpecOf(r);
    StatusOr<json> updated = client_->Update(kLeases, options_.lease_namespace, next);
    if (!updated.ok()) return updated.status();
    lease_ = *std::move(updated);
    Observe(r);
    return Status::Ok();
  }

  // After the attempts thread has stopped: give the lease up if still ours.
  void Release() {
    if (!ObservedIsUs() || !lease_.is_object()) return;
    const std::string wall_now = NowRfc3339(TimePrecision::kMicros);
    const Record released{"", 1, wall_now, wall_now, observed_.transitions};
    Status st = Write(released);
    if (st.code() == Code::kConflict) {
      // Our cached copy is stale; give it up only if it is still ours.
      StatusOr<json> got = client_->Get(kLeases, options_.lease_namespace, options_.lease_name);
      if (!got.ok() || RecordOf(*got).holder != options_.identity) return;
      lease_ = *std::move(got);
      st = Write(released);
    }
    if (st.ok()) {
      spdlog::info("leader election {}: released the lease", Where());
    } else {
      spdlog::warn("leader election {}: cannot release the lease (it will expire): {}", Where(),
                   st.ToString());
    }
  }

  // --- the callback thread ---------------------------------------------------

  void NotifyLoop() {
    std::unique_lock lock(mu_);
    while (true) {
      const bool want = !stopping_ && renewed_at_.has_value() &&
                        Clock::now() < *renewed_at_ + options_.renew_deadline;
      if (want != leading_) {
        leading_ = want;
        const bool shutting_down = stopping_;
        lock.unlock();
        if (want) {
          spdlog::info("leader election {}: became leader as {}", Where(), options_.identity);
          if (options_.on_started_leading) options_.on_started_leading();
        } else {
          if (shutting_down) {
            spdlog::info("leader election {}: stopping, so giving up leadership", Where());
          } else {
            spdlog::info("leader election {}: lost leadership", Where());
          }
          if (options_.on_stopped_leading) options_.on_stopped_leading();
        }
        lock.lock();
        continue;
      }
      if (leader_ != reported_leader_) {
        reported_leader_ = leader_;
        const std::string now_leading = leader_;
        lock.unlock();
        if (now_leading != options_.identity) {
          spdlog::info("leader election {}: the leader is now {}", Where(),
                       now_leading.empty() ? "nobody (released)" : now_leading);
        }
        if (options_.on_new_leader) options_.on_new_leader(now_leading);
        lock.lock();
        continue;
      }
      if (stopping_) return;
      if (leading_) {
        cv_.wait_until(lock, *renewed_at_ + options_.renew_deadline);
      } else {
        cv_.wait(lock);
      }
    }
  }

  Client* client_;
  const LeaderElectorOptions options_;

  // The attempts thread's own (and Stop's, once that thread has ended).
  json lease_;  // the Lease last read or written, with its resourceVersion
  Record observed_;
  std::string observed_raw_;
  Clock::time_point observed_time_{};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_called_ = false;
  bool stop_attempts_ = false;
  bool stopping_ = false;
  // Start of the last attempt that left the lease ours; reset when someone
  // else holds it.
  std::optional<Clock::time_point> renewed_at_;
  bool leading_ = false;
  std::string leader_;           // observed_.holder, for other threads
  std::string reported_leader_;  // as last passed to on_new_leader

  std::thread notifier_;
  std::thread attempts_;
};

std::string RandomUuid() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

}  // namespace

Status ValidateLeaderElectorOptions(const LeaderElectorOptions& o) {
  if (o.lease_namespace.empty()) return BadRequest("leader election: the lease namespace is empty");
  if (o.lease_name.empty()) return BadRequest("leader election: the lease name is empty");
  if (o.retry_period.count() <= 0) {
    return BadRequest("leader election: the retry period must be positive, got " +
                      DurationText(o.retry_period));
  }
  if (o.lease_duration < milliseconds(1000)) {
    return BadRequest(
        "leader election: the lease duration must be at least 1s (a Lease counts whole "
        "seconds), got " +
        DurationText(o.lease_duration));
  }
  if (o.renew_deadline >= o.lease_duration) {
    return BadRequest("leader election: the renew deadline (" + DurationText(o.renew_deadline) +
                      ") must be shorter than the lease duration (" +
                      DurationText(o.lease_duration) +
                      "), or a standby could take over while the leader still leads");
  }
  if (o.retry_period >= o.renew_deadline) {
    return BadRequest("leader election: the retry period (" + DurationText(o.retry_period) +
                      ") must be shorter than the renew deadline (" +
                      DurationText(o.renew_deadline) +
                      "), or the leader would give up before its first retry");
  }
  return Status::Ok();
}

std::string DefaultLeaderIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "kennel");
  }
  return std::string(host) + "_" + RandomUuid();
}

StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Start(Client* client,
                                                              LeaderElectorOptions options) {
  if (client == nullptr) return BadRequest("leader election needs a client");
  if (options.identity.empty()) options.identity = DefaultLeaderIdentity();
  RETURN_IF_ERROR(ValidateLeaderElectorOptions(options));
  auto elector = std::make_unique<LeaderElectorImpl>(client, std::move(options));
  elector->Run();
  return std::unique_ptr<LeaderElector>(std::move(elector));
}

}  // namespace kennel::client
