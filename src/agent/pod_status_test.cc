#include "agent/pod_status.h"

#include <gtest/gtest.h>

namespace kennel::agent {
namespace {

json Pod(const std::string& policy = "Always", bool with_init = false) {
  json p = json::parse(R"({"metadata": {"name": "p", "namespace": "default", "uid": "u"},
    "spec": {"containers": [{"name": "app", "image": "host"}]}})");
  p["spec"]["restartPolicy"] = policy;
  if (with_init)
    p["spec"]["initContainers"] = json::parse(R"([{"name": "init", "image": "host"}])");
  return p;
}

ContainerStatus Running() {
  ContainerStatus s;
  s.state = ContainerStatus::State::kRunning;
  s.pid = 42;
  s.started_at_ns = 1'700'000'000'000'000'000;
  return s;
}

ContainerStatus Exited(int code) {
  ContainerStatus s = Running();
  s.state = ContainerStatus::State::kExited;
  s.exit_code = code;
  s.finished_at_ns = s.started_at_ns + 5'000'000'000;
  return s;
}

ObservedPod Base() {
  ObservedPod o;
  o.uid = std::string("uid-1");
  o.pod_ip = "10.244.0.5";
  o.host_ip = "192.168.1.2";
  o.start_time = "2026-01-01T00:00:00Z";
  return o;
}

const json* FindCondition(const json& status, const std::string& type) {
  for (const json& c : status["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

TEST(PodStatusTest, RunningAndReady) {
  ObservedPod o = Base();
  ObservedContainer c;
  c.current = Running();
  c.ready = true;
  o.app["app"] = c;
  json s = PodStatus(Pod(), o, json::object(), "2026-01-01T00:00:01Z");
  EXPECT_EQ(s["phase"], "Running");
  EXPECT_EQ(s["podIP"], "10.244.0.5");
  EXPECT_EQ(s["hostIP"], "192.168.1.2");
  EXPECT_EQ(s["qosClass"], "BestEffort");
  EXPECT_EQ(s["containerStatuses"][0]["ready"], true);
  EXPECT_EQ(s["containerStatuses"][0]["started"], true);
  EXPECT_TRUE(s["containerStatuses"][0]["state"].contains("running"));
  EXPECT_EQ((*FindCondition(s, "Ready"))["status"], "True");
  EXPECT_EQ((*FindCondition(s, "Initialized"))["status"], "True");
}

TEST(PodStatusTest, ConditionTransitionTimesStayWhileUnchanged) {
  ObservedPod o = Base();
  ObservedContainer c;
  c.current = Running();
  c.ready = true;
  o.app["app"] = c;
  json first = PodStatus(Pod(), o, json::object(), "T1");
  json second = PodStatus(Pod(), o, first, "T2");
  EXPECT_EQ((*FindCondition(second, "Ready"))["lastTransitionTime"], "T1");
  o.app["app"].ready = false;
  json third = PodStatus(Pod(), o, second, "T3");
  EXPECT_EQ((*FindCondition(third, "Ready"))["status"], "False");
  EXPECT_EQ((*FindCondition(third, "Ready"))["lastTransitionTime"], "T3");
}

TEST(PodStatusTest, CrashLoopShowsWaitingAndLastState) {
  ObservedPod o = Base();
  ObservedContainer c;
  c.restart_count = 2;
  c.current = Exited(1);
  c.will_restart = true;
  c.waiting_reason = "CrashLoopBackOff";
  c.waiting_message = "back-off 20s restarting failed container=app";
  o.app["app"] = c;
  json s = PodStatus(Pod(), o, json::object(), "T");
  EXPECT_EQ(s["phase"], "Running");
  const json& cs = s["containerStatuses"][0];
  EXPECT_EQ(cs["restartCount"], 2);
  EXPECT_EQ(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
}

TEST(PodStatusTest, TerminalPhases) {
  ObservedPod o = Base();
  ObservedContainer c;
  c.current = Exited(0);
  o.app["app"] = c;
  json s = PodStatus(Pod("Never"), o, json::object(), "T");
  EXPECT_EQ(s["phase"], "Succeeded");
  EXPECT_EQ(s["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
  o.app["app"].current = Exited(3);
  s = PodStatus(Pod("Never"), o, json::object(), "T");
  EXPECT_EQ(s["phase"], "Failed");
  o.app["app"].current->oom_killed = true;
  s = PodStatus(Pod("Never"), o, json::object(), "T");
  EXPECT_EQ(s["containerStatuses"][0]["state"]["terminated"]["reason"], "OOMKilled");
}

TEST(PodStatusTest, InitContainersGateTheApp) {
  ObservedPod o = Base();
  ObservedContainer init;
  init.current = Running();
  o.init["init"] = init;
  json s = PodStatus(Pod("Always", true), o, json::object(), "T");
  EXPECT_EQ(s["phase"], "Pending");
  EXPECT_EQ((*FindCondition(s, "Initialized"))["status"], "False");
  EXPECT_EQ(s["containerStatuses"][0]["state"]["waiting"]["reason"], "PodInitializing");
  EXPECT_TRUE(s["initContainerStatuses"][0]["state"].contains("running"));

  o.init["init"].current = Exited(0);
  ObservedContainer app;
  app.current = Running();
  app.ready = true;
  o.app["app"] = app;
  s = PodStatus(Pod("Always", true), o, json::object(), "T");
  EXPECT_EQ(s["phase"], "Running");
  EXPECT_EQ((*FindCondition(s, "Initialized"))["status"], "True");

  // A failed init container that will not be retried fails the pod.
  o.init["init"].current = Exited(2);
  o.app.clear();
  s = PodStatus(Pod("Never", true), o, json::object(), "T");
  EXPECT_EQ(s["phase"], "Failed");
}

}  // namespace
}  // namespace kennel::agent
