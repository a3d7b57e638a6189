// A fixture for end-to-end tests on a real single-node cluster: `kennel up`
// as root, on a bridge and pod CIDR of its own (so several test binaries can
// run at once), with helpers to apply manifests and wait for pods.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace kennel::e2e {

class UpClusterTest : public ::testing::Test {
 protected:
  // More `kennel up` flags for a test suite that needs them.
  virtual std::vector<std::string> ExtraArgs(std::vector<std::string> args) { return args; }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "pods need root for namespaces";
    // Concurrent test clusters on one machine need their own bridge and CIDR.
    bridge_ = "kb" + std::to_string(getpid());
    node_ = "node-" + std::to_string(getpid());
    server_ = std::make_unique<KennelServer>(dir_.path(), "127.0.0.1:0",
                                             ExtraArgs({"--bridge", bridge_, "--node-name", node_,
                                                        "--cluster-cidr", slot_.ClusterCidr()}),
                                             "up");
    if (!server_->Start()) {
      // A machine that cannot isolate pods (no cgroup controllers, no
      // overlayfs, …): the agent says so and refuses, which is its contract.
      if (server_->log().find("cannot isolate pods") != std::string::npos) {
        GTEST_SKIP() << server_->log();
      }
      FAIL() << server_->log();
    }
    ASSERT_TRUE(WaitFor(
        [&] {
          auto r = server_->Kubectl({"get", "node", node_, "-o",
                                     "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"});
          return r.exit_code == 0 && r.out == "True";
        },
        std::chrono::seconds(30)))
        << server_->log();
  }

  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->log();
    }
    kennel::e2e::Run({"ip", "link", "del", bridge_});
  }

  nlohmann::json GetPod(const std::string& name) {
    auto r = server_->Kubectl({"get", "pod", name, "-o", "json"});
    if (r.exit_code != 0) return nlohmann::json();
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // Waits until the pod's status satisfies cond; returns the last pod seen.
  nlohmann::json WaitPod(const std::string& name,
                         const std::function<bool(const nlohmann::json&)>& cond,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    nlohmann::json pod;
    bool ok = WaitFor(
        [&] {
          pod = GetPod(name);
          return pod.is_object() && cond(pod);
        },
        timeout);
    EXPECT_TRUE(ok) << "pod " << name << " never got there; last seen:\n"
                    << pod.dump(2) << "\n"
                    << server_->log();
    return pod;
  }

  // `kubectl logs` of the pod's container.
  std::string Logs(const nlohmann::json& pod, const std::string& container,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"logs", pod["metadata"]["name"].get<std::string>(), "-c",
                                     container};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = server_->Kubectl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << server_->log();
    return r.out;
  }

  // NODE and DIR in the manifest become the node's name and the test's directory.
  void Apply(std::string manifest) {
    for (auto [from, to] :
         {std::pair<std::string, std::string>{"NODE", node_}, {"DIR", dir_.path()}}) {
      for (size_t at; (at = manifest.find(from)) != std::string::npos;) {
        manifest.replace(at, from.size(), to);
      }
    }
    auto r = server_->Kubectl({"apply", "-f", "-"}, manifest);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static bool Phase(const nlohmann::json& pod, const std::string& phase) {
    return pod["status"].value("phase", "") == phase;
  }

  NetworkSlot slot_;
  TempDir dir_;
  std::string bridge_;
  std::string node_;
  std::unique_ptr<KennelServer> server_;
};

}  // namespace kennel::e2e
