// A Store that passes every call to another one: the base for decorators
// (metrics, fault-injecting test wrappers) that override only what they change.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "store/store.h"

namespace kennel::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store* inner) : inner_(inner) {}

  void Create(std::string key, std::string value, WriteCallback done) override {
    inner_->Create(std::move(key), std::move(value), std::move(done));
  }
  void Update(std::string key, std::string value, int64_t expected_mod_revision,
              WriteCallback done) override {
    inner_->Update(std::move(key), std::move(value), expected_mod_revision, std::move(done));
  }
  void Delete(std::string key, int64_t expected_mod_revision, WriteCallback done) override {
    inner_->Delete(std::move(key), expected_mod_revision, std::move(done));
  }
  StatusOr<KeyValue> Get(const std::string& key) override { return inner_->Get(key); }
  StatusOr<RangeResponse> Range(const RangeRequest& request) override {
    return inner_->Range(request);
  }
  int64_t Revision() override { return inner_->Revision(); }
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               WatchCallback callback) override {
    return inner_->Watch(prefix, after_revision, std::move(callback));
  }

 protected:
  Store* inner() const { return inner_; }

 private:
  Store* inner_;
};

}  // namespace kennel::store
