#include "store/store.h"

#include <future>

namespace kennel::store {
namespace {

// Runs one asynchronous write and waits for its acknowledgement.
template <typename Start>
StatusOr<KeyValue> WaitFor(Start start) {
  auto promise = std::make_shared<std::promise<StatusOr<KeyValue>>>();
  auto future = promise->get_future();
  start([promise](StatusOr<KeyValue> result) { promise->set_value(std::move(result)); });
  return future.get();
}

}  // namespace

StatusOr<KeyValue> CreateSync(Store& store, std::string key, std::string value) {
  return WaitFor(
      [&](WriteCallback done) { store.Create(std::move(key), std::move(value), std::move(done)); });
}

StatusOr<KeyValue> UpdateSync(Store& store, std::string key, std::string value,
                              int64_t expected_mod_revision) {
  return WaitFor([&](WriteCallback done) {
    store.Update(std::move(key), std::move(value), expected_mod_revision, std::move(done));
  });
}

StatusOr<KeyValue> DeleteSync(Store& store, std::string key, int64_t expected_mod_revision) {
  return WaitFor([&](WriteCallback done) {
    store.Delete(std::move(key), expected_mod_revision, std::move(done));
  });
}

}  // namespace kennel::store
