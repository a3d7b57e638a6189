#include "apiserver/metrics.h"

#include <chrono>
#include <cstdio>

#include "store/forwarding.h"

namespace kennel::apiserver {
namespace {

// Buckets from 0.5 ms to 60 s: writes are fsync-bound (~1 ms), lists and
// watches can take much longer.
const double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                           0.25,   0.5,   1,      2.5,   5,    10,    60};
constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

using Clock = std::chrono::steady_clock;

class MeteredStoreImpl : public store::ForwardingStore {
 public:
  MeteredStoreImpl(std::unique_ptr<store::Store> inner, Metrics* metrics)
      : ForwardingStore(inner.get()), owned_(std::move(inner)), metrics_(metrics) {}

  void Create(std::string key, std::string value, store::WriteCallback done) override {
    ForwardingStore::Create(std::move(key), std::move(value), Timed("create", std::move(done)));
  }
  void Update(std::string key, std::string value, int64_t expected,
              store::WriteCallback done) override {
    ForwardingStore::Update(std::move(key), std::move(value), expected,
                            Timed("update", std::move(done)));
  }
  void Delete(std::string key, int64_t expected, store::WriteCallback done) override {
    ForwardingStore::Delete(std::move(key), expected, Timed("delete", std::move(done)));
  }

 private:
  store::WriteCallback Timed(const char* op, store::WriteCallback done) {
    auto start = Clock::now();
    return [this, op, start, done = std::move(done)](StatusOr<store::KeyValue> r) {
      metrics_->ObserveStoreWrite(op, std::chrono::duration<double>(Clock::now() - start).count());
      done(std::move(r));
    };
  }
  std::unique_ptr<store::Store> owned_;
  Metrics* metrics_;
};

}  // namespace

Histogram::Histogram() : counts_(kBucketCount + 1, 0) {}

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBucketCount && seconds > kBuckets[i]) ++i;
  ++counts_[i];
  ++count_;
  sum_ += seconds;
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string* out) const {
  std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    cumulative += counts_[i];
    *out += name + "_bucket{" + labels + sep + "le=\"" + Num(kBuckets[i]) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  *out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  *out += name + "_sum{" + labels + "} " + Num(sum_) + "\n";
  *out += name + "_count{" + labels + "} " + std::to_string(count_) + "\n";
}

void Metrics::ObserveRequest(const std::string& verb, const std::string& resource, int code,
                             double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{verb, resource, code}];
  request_latency_[{verb, resource}].Observe(seconds);
}

void Metrics::ObserveStoreWrite(const std::string& operation, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  store_latency_[operation].Observe(seconds);
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP apiserver_request_total Requests by verb, resource and HTTP code.\n";
  out += "# TYPE apiserver_request_total counter\n";
  for (const auto& [k, v] : requests_) {
    out += "apiserver_request_total{verb=\"" + std::get<0>(k) + "\",resource=\"" + std::get<1>(k) +
           "\",code=\"" + std::to_string(std::get<2>(k)) + "\"} " + std::to_string(v) + "\n";
  }
  out += "# HELP apiserver_request_duration_seconds Request latency by verb and resource.\n";
  out += "# TYPE apiserver_request_duration_seconds histogram\n";
  for (const auto& [k, h] : request_latency_) {
    h.Render("apiserver_request_duration_seconds",
             "verb=\"" + k.first + "\",resource=\"" + k.second + "\"", &out);
  }
  out += "# HELP kennel_store_write_duration_seconds Store write latency until durable.\n";
  out += "# TYPE kennel_store_write_duration_seconds histogram\n";
  for (const auto& [op, h] : store_latency_) {
    h.Render("kennel_store_write_duration_seconds", "operation=\"" + op + "\"", &out);
  }
  out += "# HELP apiserver_registered_watchers Open watch streams.\n";
  out += "# TYPE apiserver_registered_watchers gauge\n";
  out += "apiserver_registered_watchers " + std::to_string(watches_.load()) + "\n";
  return out;
}

std::unique_ptr<store::Store> MeteredStore(std::unique_ptr<store::Store> inner, Metrics* metrics) {
  return std::make_unique<MeteredStoreImpl>(std::move(inner), metrics);
}

}  // namespace kennel::apiserver
