#include "client/leader_election.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/server.h"
#include "base/time.h"
#include "client/in_process.h"
#include "client/test_cluster.h"

namespace kennel::client {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Short durations keep the suite quick; the ratios are Kubernetes' defaults.
constexpr milliseconds kLease{1000};
constexpr milliseconds kRenew{600};
constexpr milliseconds kRetry{200};
// Thread wake-ups and in-process requests on a loaded 2-core machine.
constexpr milliseconds kSlack{250};
constexpr milliseconds kDeadline{10'000};

constexpr const char* kNs = "kube-system";
constexpr const char* kName = "test-control-plane";

milliseconds Since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
}

// Forwards to a real client until told to fail every request at once (an
// unreachable API server) or to hang every request until told otherwise (a
// stuck store or network).
class FlakyClient : public Client {
 public:
  enum class Mode { kPass, kFail, kHang };
  explicit FlakyClient(Client* real) : real_(real) {}

  void Set(Mode mode) {
    {
      std::lock_guard lock(mu_);
      mode_ = mode;
    }
    cv_.notify_all();
  }

  StatusOr<Response> Do(const Request& request) override {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return mode_ != Mode::kHang; });
      if (mode_ == Mode::kFail) return Unavailable("connection refused (test)");
    }
    return real_->Do(request);
  }

  StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource& resource, const std::string& ns,
                                               const ListOptions& options, WatchCallback on_event,
                                               WatchClosedCallback on_closed) override {
    return real_->Watch(resource, ns, options, std::move(on_event), std::move(on_closed));
  }

 private:
  Client* real_;
  std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_ = Mode::kPass;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    flaky_ = std::make_unique<FlakyClient>(cluster_.client());
  }

  void TearDown() override {
    StopSampler();
    flaky_->Set(FlakyClient::Mode::kPass);  // a hung request must finish for Stop()
    electors_.clear();
    EXPECT_EQ(max_leaders_.load(), 1) << "at most one leader at a time, and one at some point";
  }

  // An elector called `name` (on flaky_ when asked) whose callbacks keep the
  // count of leaders; a second leader at any moment is recorded.
  enum class Via { kCluster, kFlaky };
  LeaderElector* Elector(const std::string& name, Via via = Via::kCluster) {
    LeaderElectorOptions o;
    o.lease_namespace = kNs;
    o.lease_name = kName;
    o.identity = name;
    o.lease_duration = kLease;
    o.renew_deadline = kRenew;
    o.retry_period = kRetry;
    o.on_started_leading = [this] {
      int now = ++leaders_;
      int seen = max_leaders_.load();
      while (now > seen && !max_leaders_.compare_exchange_weak(seen, now)) {
      }
    };
    o.on_stopped_leading = [this] { --leaders_; };
    auto e = LeaderElector::Start(via == Via::kFlaky ? flaky_.get() : cluster_.client(), o);
    if (!e.ok()) {
      ADD_FAILURE() << e.status().ToString();
      return nullptr;
    }
    electors_.push_back(std::move(e).value());
    return electors_.back().get();
  }

  // Samples the leader flags of the electors every millisecond until
  // StopSampler(): two set at once is a failure, whatever the callbacks say.
  void StartSampler(std::vector<LeaderElector*> electors) {
    sampling_ = true;
    sampler_ = std::thread([this, electors] {
      while (sampling_) {
        int leading = 0;
        for (LeaderElector* e : electors) leading += e->IsLeader() ? 1 : 0;
        if (leading > 1) two_flags_seen_ = true;
        std::this_thread::sleep_for(milliseconds(1));
      }
    });
  }
  void StopSampler() {
    sampling_ = false;
    if (sampler_.joinable()) sampler_.join();
    EXPECT_FALSE(two_flags_seen_) << "two electors said they lead at once";
  }

  json Lease() {
    auto got = cluster_.client()->Get(kLeases, kNs, kName);
    return got.ok() ? *got : json();
  }
  std::string Holder() {
    json l = Lease();
    return l.is_object() ? l["spec"].value("holderIdentity", "") : "";
  }

  TestCluster cluster_;
  std::unique_ptr<FlakyClient> flaky_;
  // Destroyed in TearDown, after the sampler that reads them has stopped.
  std::vector<std::unique_ptr<LeaderElector>> electors_;
  std::atomic<int> leaders_{0};
  std::atomic<int> max_leaders_{0};
  std::atomic<bool> sampling_{false};
  std::atomic<bool> two_flags_seen_{false};
  std::thread sampler_;
};

TEST_F(LeaderElectionTest, OneOfTwoElectorsLeads) {
  LeaderElector* a = Elector("a");
  LeaderElector* b = Elector("b");
  StartSampler({a, b});
  ASSERT_TRUE(Eventually([&] { return a->IsLeader() || b->IsLeader(); }, kDeadline));
  LeaderElector* leader = a->IsLeader() ? a : b;
  LeaderElector* standby = a->IsLeader() ? b : a;
  // Over several lease durations the leader keeps renewing and the standby waits.
  const auto until = Clock::now() + 3 * kLease;
  while (Clock::now() < until) {
    ASSERT_TRUE(leader->IsLeader());
    ASSERT_FALSE(standby->IsLeader());
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(Holder(), leader->identity());
  EXPECT_TRUE(Eventually([&] { return standby->leader() == leader->identity(); }, kDeadline));
}

TEST_F(LeaderElectionTest, AStandbyTakesOverWithinLeaseDurationAndRetryPeriodOfACrash) {
  LeaderElector* a = Elector("a");
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  LeaderElector* b = Elector("b");
  StartSampler({a, b});
  ASSERT_TRUE(Eventually([&] { return b->leader() == "a"; }, kDeadline));
  // Let the standby see a few renewals, as it would in a running cluster.
  std::this_thread::sleep_for(2 * kRetry);
  EXPECT_FALSE(b->IsLeader());

  const auto crash = Clock::now();
  a->Stop(ReleaseLease::kNo);  // stops renewing, leaves the Lease as it was
  EXPECT_EQ(Holder(), "a");
  ASSERT_TRUE(Eventually([&] { return b->IsLeader(); }, kDeadline));
  const milliseconds took = Since(crash);
  std::printf("takeover after a crash: %lld ms (lease %lld ms, retry %lld ms)\n",
              static_cast<long long>(took.count()), static_cast<long long>(kLease.count()),
              static_cast<long long>(kRetry.count()));
  // Its last renewal was at most one retry period before the crash, and the
  // standby saw it at most one retry period after: never before lease -
  // retry, always by lease + retry.
  EXPECT_GE(took, kLease - kRetry);
  EXPECT_LE(took, kLease + kRetry + kSlack);
  json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
}

TEST_F(LeaderElectionTest, ACleanStopHandsOverAtOnce) {
  LeaderElector* a = Elector("a");
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  LeaderElector* b = Elector("b");
  StartSampler({a, b});
  ASSERT_TRUE(Eventually([&] { return b->leader() == "a"; }, kDeadline));

  const auto stop = Clock::now();
  a->Stop(ReleaseLease::kYes);
  json released = Lease();
  EXPECT_EQ(released["spec"]["holderIdentity"], "");
  EXPECT_EQ(released["spec"]["leaseDurationSeconds"], 1);
  ASSERT_TRUE(Eventually([&] { return b->IsLeader(); }, kDeadline));
  const milliseconds took = Since(stop);
  std::printf("takeover after a release: %lld ms\n", static_cast<long long>(took.count()));
  // The standby's next attempt, not the lease's expiry.
  EXPECT_LE(took, kRetry + kSlack);
  EXPECT_EQ(Holder(), "b");
}

TEST_F(LeaderElectionTest, ALeaderWhoseRenewalsFailStopsLeadingWithinTheRenewDeadline) {
  LeaderElector* a = Elector("a", Via::kFlaky);
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  LeaderElector* b = Elector("b");
  StartSampler({a, b});
  ASSERT_TRUE(Eventually([&] { return b->leader() == "a"; }, kDeadline));

  const auto cut = Clock::now();
  flaky_->Set(FlakyClient::Mode::kFail);
  ASSERT_TRUE(Eventually([&] { return !a->IsLeader(); }, kDeadline));
  const milliseconds lost = Since(cut);
  ASSERT_TRUE(Eventually([&] { return b->IsLeader(); }, kDeadline));
  const milliseconds taken = Since(cut);
  std::printf("leader cut off: stopped leading after %lld ms, standby led after %lld ms\n",
              static_cast<long long>(lost.count()), static_cast<long long>(taken.count()));
  EXPECT_LE(lost, kRenew + kSlack);
  // Not before the lease it last renewed could have expired.
  EXPECT_GE(taken, kLease - kRetry);

  // Reachable again, it is a candidate that waits for b's lease.
  flaky_->Set(FlakyClient::Mode::kPass);
  ASSERT_TRUE(Eventually([&] { return a->leader() == "b"; }, kDeadline));
  std::this_thread::sleep_for(2 * kRetry);
  EXPECT_FALSE(a->IsLeader());
  b->Stop(ReleaseLease::kYes);
  EXPECT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
}

TEST_F(LeaderElectionTest, ALeaderWhoseRenewalHangsStopsLeadingWithinTheRenewDeadline) {
  LeaderElector* a = Elector("a", Via::kFlaky);
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  LeaderElector* b = Elector("b");
  StartSampler({a, b});

  const auto cut = Clock::now();
  flaky_->Set(FlakyClient::Mode::kHang);
  ASSERT_TRUE(Eventually([&] { return !a->IsLeader(); }, kDeadline));
  const milliseconds lost = Since(cut);
  std::printf("leader's request hung: stopped leading after %lld ms\n",
              static_cast<long long>(lost.count()));
  EXPECT_LE(lost, kRenew + kSlack);
  ASSERT_TRUE(Eventually([&] { return b->IsLeader(); }, kDeadline));
  flaky_->Set(FlakyClient::Mode::kPass);  // the hung request completes (and loses its CAS)
  ASSERT_TRUE(Eventually([&] { return a->leader() == "b"; }, kDeadline));
  EXPECT_FALSE(a->IsLeader());
}

TEST_F(LeaderElectionTest, ALeaderWhoseLeaseIsTakenStopsLeadingAtOnce) {
  LeaderElector* a = Elector("a");
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  // Someone overwrites the record (kubectl edit): a's next renewal conflicts
  // (409), re-reads, and finds a valid lease of another holder.
  // (Our own write may conflict with a renewal in between: then again.)
  ASSERT_TRUE(Eventually(
      [&] {
        json lease = Lease();
        lease["spec"]["holderIdentity"] = "intruder";
        lease["spec"]["renewTime"] = NowRfc3339(TimePrecision::kMicros);
        lease["spec"]["leaseDurationSeconds"] = 30;
        return cluster_.client()->Update(kLeases, kNs, lease).ok();
      },
      kDeadline));
  const auto taken = Clock::now();
  ASSERT_TRUE(Eventually([&] { return !a->IsLeader(); }, kDeadline));
  EXPECT_LE(Since(taken), kRetry + kSlack);
  EXPECT_EQ(a->leader(), "intruder");
  EXPECT_EQ(Holder(), "intruder");
}

TEST_F(LeaderElectionTest, AnOldLeaseWaitsForItsDurationOnOurClock) {
  // A Lease left by a holder that died long ago: its renewTime is an hour
  // old, but the remote clock is not trusted, so the candidate still waits a
  // full lease duration from when it first saw the record.
  json lease = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", {{"name", kName}, {"namespace", kNs}}},
      {"spec",
       {{"holderIdentity", "ghost"},
        {"leaseDurationSeconds", 1},
        {"acquireTime", FormatRfc3339(WallNowNs() - 3600'000'000'000, TimePrecision::kMicros)},
        {"renewTime", FormatRfc3339(WallNowNs() - 3600'000'000'000, TimePrecision::kMicros)},
        {"leaseTransitions", 4}}}};
  ASSERT_TRUE(cluster_.client()->Create(kLeases, kNs, lease).ok());
  const auto start = Clock::now();
  LeaderElector* a = Elector("a");
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  const milliseconds took = Since(start);
  EXPECT_GE(took, kLease);
  EXPECT_LE(took, kLease + kSlack);
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 5);
}

TEST_F(LeaderElectionTest, TheLeaseHasTheFieldsKubectlShows) {
  LeaderElector* a = Elector("kennel-1_0d5a");
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }, kDeadline));
  json first = Lease();
  EXPECT_EQ(first["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(first["kind"], "Lease");
  EXPECT_EQ(first["metadata"]["name"], kName);
  EXPECT_EQ(first["metadata"]["namespace"], kNs);
  EXPECT_FALSE(first["metadata"].value("uid", "").empty());
  EXPECT_FALSE(first["metadata"].value("resourceVersion", "").empty());
  EXPECT_FALSE(first["metadata"].value("creationTimestamp", "").empty());
  const json& spec = first["spec"];
  EXPECT_EQ(spec["holderIdentity"], "kennel-1_0d5a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  const std::regex micro_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(spec["acquireTime"].get<std::string>(), micro_time)) << spec;
  EXPECT_TRUE(std::regex_match(spec["renewTime"].get<std::string>(), micro_time)) << spec;
  EXPECT_LE(std::abs(ParseRfc3339(spec["renewTime"].get<std::string>()) - WallNowNs()),
            int64_t{5'000'000'000});
  // Renewals move renewTime and resourceVersion; acquireTime and transitions stay.
  ASSERT_TRUE(
      Eventually([&] { return Lease()["spec"]["renewTime"] != spec["renewTime"]; }, kDeadline));
  json later = Lease();
  EXPECT_EQ(later["spec"]["acquireTime"], spec["acquireTime"]);
  EXPECT_EQ(later["spec"]["leaseTransitions"], 0);
  EXPECT_EQ(later["metadata"]["uid"], first["metadata"]["uid"]);
  EXPECT_NE(later["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
}

TEST_F(LeaderElectionTest, CallbacksAlternateAndStopEndsLeading) {
  std::mutex mu;
  std::vector<std::string> calls;
  LeaderElectorOptions o;
  o.lease_name = kName;
  o.lease_duration = kLease;
  o.renew_deadline = kRenew;
  o.retry_period = kRetry;
  o.on_started_leading = [&] {
    ++max_leaders_;
    std::lock_guard lock(mu);
    calls.push_back("start");
  };
  o.on_stopped_leading = [&] {
    std::lock_guard lock(mu);
    calls.push_back("stop");
  };
  auto e = LeaderElector::Start(cluster_.client(), o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ((*e)->identity().rfind(std::string(host) + "_", 0), 0u) << (*e)->identity();
  ASSERT_TRUE(Eventually([&] { return (*e)->IsLeader(); }, kDeadline));
  (*e)->Stop(ReleaseLease::kYes);
  EXPECT_FALSE((*e)->IsLeader());
  (*e)->Stop(ReleaseLease::kYes);  // idempotent
  std::lock_guard lock(mu);
  EXPECT_EQ(calls, (std::vector<std::string>{"start", "stop"}));
}

TEST(LeaderElection, WorksOverHttpsAndInProcessAlike) {
  char tmpl[] = "/tmp/kennel-leader-election-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    apiserver::ServerOptions server_options;
    server_options.data_dir = dir;
    server_options.listen = "127.0.0.1:0";
    auto server = apiserver::Server::Start(server_options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto http_options = HttpOptionsFromKubeconfig((*server)->kubeconfig_path());
    ASSERT_TRUE(http_options.ok()) << http_options.status().ToString();
    auto http = NewHttpClient(*http_options);
    ASSERT_TRUE(http.ok()) << http.status().ToString();
    std::unique_ptr<Client> in_process =
        NewInProcessClient((*server)->handler(), (*server)->executor());

    auto start = [&](Client* client, const std::string& name) {
      LeaderElectorOptions o;
      o.lease_name = kName;
      o.identity = name;
      o.lease_duration = kLease;
      o.renew_deadline = kRenew;
      o.retry_period = kRetry;
      auto e = LeaderElector::Start(client, o);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      return e.ok() ? std::move(e).value() : nullptr;
    };
    auto remote = start(http->get(), "remote");
    ASSERT_TRUE(Eventually([&] { return remote->IsLeader(); }, kDeadline));
    auto local = start(in_process.get(), "local");
    ASSERT_TRUE(Eventually([&] { return local->leader() == "remote"; }, kDeadline));
    EXPECT_FALSE(local->IsLeader());
    remote->Stop(ReleaseLease::kYes);
    EXPECT_TRUE(Eventually([&] { return local->IsLeader(); }, kDeadline));
    local.reset();
    remote.reset();
    in_process.reset();
    (*server)->Stop();
    (*server)->Wait();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(LeaderElection, RefusesDurationsItCannotHonour) {
  LeaderElectorOptions o;
  o.lease_name = "x";
  EXPECT_TRUE(ValidateLeaderElectorOptions(o).ok());  // 15s / 10s / 2s
  auto message = [](const LeaderElectorOptions& bad) {
    Status st = ValidateLeaderElectorOptions(bad);
    EXPECT_EQ(st.code(), Code::kBadRequest);
    return st.message();
  };
  LeaderElectorOptions bad = o;
  bad.renew_deadline = milliseconds(15'000);
  EXPECT_EQ(message(bad),
            "leader election: the renew deadline (15s) must be shorter than the lease duration "
            "(15s), or a standby could take over while the leader still leads");
  bad = o;
  bad.retry_period = milliseconds(10'000);
  EXPECT_EQ(message(bad),
            "leader election: the retry period (10s) must be shorter than the renew deadline "
            "(10s), or the leader would give up before its first retry");
  bad = o;
  bad.lease_duration = milliseconds(800);
  bad.renew_deadline = milliseconds(500);
  bad.retry_period = milliseconds(100);
  EXPECT_EQ(message(bad),
            "leader election: the lease duration must be at least 1s (a Lease counts whole "
            "seconds), got 800ms");
  bad = o;
  bad.retry_period = milliseconds(0);
  EXPECT_EQ(message(bad), "leader election: the retry period must be positive, got 0s");
  bad = o;
  bad.lease_name = "";
  EXPECT_EQ(message(bad), "leader election: the lease name is empty");
  EXPECT_FALSE(LeaderElector::Start(nullptr, o).ok());
}

TEST(LeaderElection, DefaultIdentityIsTheHostNameAndARandomUuid) {
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  const std::string a = DefaultLeaderIdentity(), b = DefaultLeaderIdentity();
  const std::regex form(std::string(host) +
                        R"(_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})");
  EXPECT_TRUE(std::regex_match(a, form)) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace kennel::client
