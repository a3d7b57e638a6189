// For tests of what sits on the API (client, controllers, DNS, …): a real
// API server without the network. An embedded store in a temporary directory
// (no fsync: durability is the store's own tests' business), the Handler on
// it, an I/O thread, and an in-process Client.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange

#include "apiserver/handler.h"
#include "base/status.h"
#include "client/client.h"
#include "client/in_process.h"
#include "store/embedded.h"

namespace kennel::client {

// Polls cond every 10 ms until it holds or timeout passes; true if it held.
// Controllers act on events within milliseconds: the deadline only bounds a
// failing test.
inline bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

class TestCluster {
 public:
  TestCluster() = default;
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  ~TestCluster() {
    client_.reset();
    handler_.reset();
    store_.reset();  // acknowledges queued writes; their callbacks post to ioc_
    work_.reset();
    if (io_thread_.joinable()) io_thread_.join();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  Status Start() {
    char tmpl[] = "/tmp/kennel-test-cluster-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Internal("mkdtemp failed");
    dir_ = tmpl;
    store::EmbeddedOptions options;
    options.path = dir_ + "/kennel.db";
    options.fsync = false;
    ASSIGN_OR_RETURN(store_, store::OpenEmbedded(options));
    handler_ = std::make_unique<apiserver::Handler>(store_.get(), apiserver::HandlerOptions{});
    RETURN_IF_ERROR(handler_->Bootstrap());
    io_thread_ = std::thread([this] { ioc_.run(); });
    client_ = NewInProcessClient(handler_.get(), ioc_.get_executor());
    return Status::Ok();
  }

  Client* client() { return client_.get(); }
  apiserver::Handler* handler() { return handler_.get(); }
  store::Store* store() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<apiserver::Handler> handler_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(ioc_);
  std::thread io_thread_;
  std::unique_ptr<Client> client_;
};

}  // namespace kennel::client
