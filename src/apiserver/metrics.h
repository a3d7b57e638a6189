// Prometheus metrics of the API server: requests by verb, resource and code
// with latency histograms, store write latency, and open watches.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "store/store.h"

namespace kennel::apiserver {

class Histogram {
 public:
  Histogram();
  void Observe(double seconds);
  // Appends `name_bucket{labels,le=…}`, `name_sum`, `name_count` lines.
  void Render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::vector<uint64_t> counts_;  // per bucket (not cumulative)
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void ObserveRequest(const std::string& verb, const std::string& resource, int code,
                      double seconds);
  void ObserveStoreWrite(const std::string& operation, double seconds);
  void WatchOpened() { watches_.fetch_add(1); }
  void WatchClosed() { watches_.fetch_sub(1); }
  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> request_latency_;
  std::map<std::string, Histogram> store_latency_;
  std::atomic<int64_t> watches_{0};
};

// A Store that forwards to another and records write latency in metrics.
std::unique_ptr<store::Store> MeteredStore(std::unique_ptr<store::Store> inner, Metrics* metrics);

}  // namespace kennel::apiserver
