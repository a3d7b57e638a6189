// `kennel up` runs pods as real isolated processes: driven with kubectl, checked
// through the API (status) and what the processes themselves wrote.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.h"
#include "up_cluster.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PodsTest : public UpClusterTest {};

TEST_F(PodsTest, APodRunsWithItsOwnHostnameIpAndPidNamespace) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: web-0
spec:
  hostname: web-0
  subdomain: web
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: app
    image: host
    command: ["sh", "-c"]
    args: ["hostname; grep web-0 /etc/hosts; echo pid=$$$$; echo ip=$MY_IP; touch /etc/kennel-pod-wrote-this"]
    env:
    - name: MY_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
)");
  json pod = WaitPod("web-0", [](const json& p) { return Phase(p, "Succeeded"); });
  std::string ip = pod["status"].value("podIP", "");
  ASSERT_FALSE(ip.empty()) << pod.dump(2);
  EXPECT_EQ(ip.rfind("10.", 0), 0u) << ip;
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
  std::string out = Logs(pod, "app");
  EXPECT_NE(out.find("web-0\n"), std::string::npos) << out;
  EXPECT_NE(out.find(ip + "\tweb-0.web.default.svc.cluster.local\tweb-0"), std::string::npos)
      << out;
  EXPECT_NE(out.find("pid=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ip=" + ip + "\n"), std::string::npos) << out;
  // The container wrote into its own copy of the host's root, not the host's.
  EXPECT_FALSE(std::filesystem::exists("/etc/kennel-pod-wrote-this"));
}

TEST_F(PodsTest, InitContainersRunInOrderBeforeTheApp) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: init
spec:
  nodeName: NODE
  restartPolicy: Never
  volumes:
  - name: work
    emptyDir: {}
  initContainers:
  - name: first
    image: host
    command: ["sh", "-c", "echo one > /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: host
    command: ["sh", "-c", "echo two >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "cat /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
)");
  json pod = WaitPod("init", [](const json& p) { return Phase(p, "Succeeded"); });
  EXPECT_EQ(Logs(pod, "app"), "one\ntwo\n");
  ASSERT_EQ(pod["status"]["initContainerStatuses"].size(), 2u);
  for (const json& s : pod["status"]["initContainerStatuses"]) {
    EXPECT_EQ(s["state"]["terminated"]["exitCode"], 0) << s;
  }
}

TEST_F(PodsTest, ExitCodesPhasesAndRestartBackOff) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: fails
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "exit 3"]
---
apiVersion: v1
kind: Pod
metadata:
  name: crashes
spec:
  nodeName: NODE
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "echo crash; exit 1"]
)");
  json failed = WaitPod("fails", [](const json& p) { return Phase(p, "Failed"); });
  EXPECT_EQ(failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3);
  EXPECT_EQ(failed["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Error");

  // restartPolicy Always: restarted at once, then held back 10 s.
  json crashing = WaitPod("crashes", [](const json& p) {
    const json& cs = p["status"]["containerStatuses"];
    return cs.is_array() && !cs.empty() && cs[0].value("restartCount", 0) >= 1 &&
           cs[0]["state"].contains("waiting") &&
           cs[0]["state"]["waiting"].value("reason", "") == "CrashLoopBackOff";
  });
  const json& cs = crashing["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1) << cs;
  EXPECT_NE(cs["state"]["waiting"].value("message", "").find("back-off 10s"), std::string::npos)
      << cs;
  EXPECT_EQ(crashing["status"]["phase"], "Running");
  // The attempt that crashed is the previous one's log.
  EXPECT_EQ(Logs(crashing, "app", {"--previous"}), "crash\n");
}

TEST_F(PodsTest, LogsFollowAndExecThroughKubectl) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: talker
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "echo first; sleep 1; echo second; exec sleep 1000"]
)");
  json pod = WaitPod("talker", [](const json& p) { return Phase(p, "Running"); });
  BackgroundProcess follow(
      {"kubectl", "--kubeconfig", server_->kubeconfig(), "logs", "-f", "talker"},
      {"KUBECACHEDIR=" + dir_.path() + "/kubecache-follow"});
  EXPECT_TRUE(follow.WaitForOutput("second\n", seconds(20))) << follow.output();
  EXPECT_EQ(follow.output().find("first\n"), 0u) << follow.output();
  EXPECT_EQ(Logs(pod, "app", {"--tail=1"}), "second\n");
  std::string stamped = Logs(pod, "app", {"--timestamps"});
  EXPECT_NE(stamped.find("Z first\n"), std::string::npos) << stamped;

  auto r = server_->Kubectl({"exec", "talker", "--", "hostname"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "talker\n");
  r = server_->Kubectl({"exec", "-i", "talker", "--", "sh", "-c", "tr a-z A-Z"}, "quiet pets\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "QUIET PETS\n");
  r = server_->Kubectl({"exec", "talker", "--", "sh", "-c", "echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("oops"), std::string::npos) << r.err;
  // With a terminal (script gives kubectl one): the process gets one too.
  r = kennel::e2e::Run(
      {"script", "-qc",
       "kubectl --kubeconfig " + server_->kubeconfig() + " exec -it talker -- sh -c 'tty; exit 5'",
       "/dev/null"},
      "", {"KUBECACHEDIR=" + dir_.path() + "/kubecache-tty"});
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("command terminated with exit code 5"), std::string::npos) << r.out;
  // Logs of a container that does not exist: a clear error, nothing else.
  r = server_->Kubectl({"logs", "talker", "-c", "nope"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("container nope is not valid for pod talker"), std::string::npos) << r.err;
}

TEST_F(PodsTest, OtherImagesWaitWithAClearReason) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: nginx
spec:
  nodeName: NODE
  containers:
  - name: app
    image: nginx:1.27
)");
  json pod = WaitPod("nginx", [](const json& p) {
    const json& cs = p["status"]["containerStatuses"];
    return cs.is_array() && !cs.empty() && cs[0]["state"].contains("waiting") &&
           cs[0]["state"]["waiting"].value("reason", "") == "ErrImageNeverPull";
  });
  EXPECT_NE(
      pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"].get<std::string>().find(
          "use image \"host\""),
      std::string::npos);
}

TEST_F(PodsTest, DeletionGivesTheGracePeriodAndSigterm) {
  std::string marker = dir_.path() + "/sigterm-seen";
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: graceful
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 20
  volumes:
  - name: out
    hostPath: {path: DIR, type: Directory}
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "trap 'sleep 1; echo bye > /out/sigterm-seen; exit 0' TERM; echo started; while true; do sleep 0.1; done"]
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo poststart > /out/hooks"]}
      preStop:
        exec: {command: ["sh", "-c", "test -f /out/sigterm-seen || echo prestop >> /out/hooks"]}
)");
  WaitPod("graceful", [](const json& p) { return Phase(p, "Running"); });
  auto r = server_->Kubectl({"delete", "pod", "graceful", "--timeout=30s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadText(marker), "bye\n");
  // postStart ran after the start; preStop ran before the SIGTERM.
  EXPECT_EQ(ReadText(dir_.path() + "/hooks"), "poststart\nprestop\n");
  EXPECT_FALSE(GetPod("graceful").is_object());
}

bool Ready(const json& pod) {
  const json& cs = pod["status"]["containerStatuses"];
  return cs.is_array() && !cs.empty() && cs[0].value("ready", false);
}

int Restarts(const json& pod) {
  const json& cs = pod["status"]["containerStatuses"];
  return cs.is_array() && !cs.empty() ? cs[0].value("restartCount", 0) : -1;
}

TEST_F(PodsTest, ReadinessProbeFlipsAndLivenessProbeRestarts) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "touch /tmp/alive; exec sleep 1000"]
    startupProbe:
      exec: {command: ["test", "-f", "/tmp/alive"]}
      periodSeconds: 1
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
    livenessProbe:
      exec: {command: ["test", "-f", "/tmp/alive"]}
      periodSeconds: 1
      failureThreshold: 2
)");
  json pod = WaitPod("probed", [](const json& p) {
    const json& cs = p["status"]["containerStatuses"];
    return Phase(p, "Running") && cs.is_array() && !cs.empty() && cs[0].value("started", false);
  });
  EXPECT_FALSE(Ready(pod)) << pod.dump(2);
  ASSERT_EQ(server_->Kubectl({"exec", "probed", "--", "touch", "/tmp/ready"}).exit_code, 0);
  WaitPod("probed", Ready);
  ASSERT_EQ(server_->Kubectl({"exec", "probed", "--", "rm", "/tmp/ready"}).exit_code, 0);
  WaitPod("probed", [](const json& p) { return !Ready(p); });
  // Liveness fails: the container is killed and started again (a restart).
  ASSERT_EQ(server_->Kubectl({"exec", "probed", "--", "rm", "/tmp/alive"}).exit_code, 0);
  pod = WaitPod("probed", [](const json& p) {
    return Restarts(p) == 1 && p["status"]["containerStatuses"][0]["state"].contains("running");
  });
  EXPECT_TRUE(pod["status"]["containerStatuses"][0]["lastState"].contains("terminated"))
      << pod.dump(2);
}

TEST_F(PodsTest, PodsReachEachOtherByIpOverTcp) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: server
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: host
    command: ["perl", "-MIO::Socket::INET", "-e", "$| = 1; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die qq(listen: $!); while (my $c = $s->accept) { print $c qq(hello from server\n); close $c; }"]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
)");
  json server = WaitPod("server", Ready);
  std::string client = R"(apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: app
    image: host
    command: ["perl", "-MIO::Socket::INET", "-e", "my $c = IO::Socket::INET->new(PeerAddr => qq(SERVER_IP:8080), Timeout => 5) or die qq(connect: $!); print scalar <$c>;"]
)";
  client.replace(client.find("SERVER_IP"), 9, server["status"]["podIP"].get<std::string>());
  Apply(client);
  json done =
      WaitPod("client", [](const json& p) { return Phase(p, "Succeeded") || Phase(p, "Failed"); });
  EXPECT_EQ(done["status"]["phase"], "Succeeded") << Logs(done, "app");
  EXPECT_EQ(Logs(done, "app"), "hello from server\n");
  EXPECT_NE(done["status"]["podIP"], server["status"]["podIP"]);
}

TEST_F(PodsTest, MemoryLimitEndsInOOMKilled) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: hungry
spec:
  nodeName: NODE
  restartPolicy: Never
  containers:
  - name: app
    image: host
    command: ["perl", "-e", "my $x = 'a' x (256 * 1024 * 1024); print length($x);"]
    resources:
      limits: {memory: 32Mi}
)");
  json pod = WaitPod("hungry", [](const json& p) { return Phase(p, "Failed"); });
  const json& t = pod["status"]["containerStatuses"][0]["state"]["terminated"];
  EXPECT_EQ(t["reason"], "OOMKilled") << pod.dump(2);
  EXPECT_EQ(t["exitCode"], 137) << pod.dump(2);
}

TEST_F(PodsTest, PodsKeepRunningThroughAKill9OfKennel) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: steady
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: host
    command: ["sh", "-c", "echo up; exec sleep 1000"]
)");
  json before = WaitPod("steady", [](const json& p) { return Phase(p, "Running"); });
  std::string started = before["status"]["containerStatuses"][0]["state"]["running"]["startedAt"];
  // IP leases are not fsynced (a machine crash ends their pods): the agent's
  // start releases those of pods it does not have, and empty ones, and keeps
  // the pod's own.
  const std::string ipam = dir_.path() + "/agent/" + node_ + "/ipam";
  const std::string own_lease = ipam + "/" + before["status"]["podIP"].get<std::string>();
  ASSERT_TRUE(std::filesystem::exists(own_lease));
  std::ofstream(ipam + "/10.255.255.250") << "uid-of-a-pod-that-is-gone";
  std::ofstream(ipam + "/10.255.255.251").flush();
  server_->Kill9();
  ASSERT_TRUE(server_->Start()) << server_->log();
  EXPECT_TRUE(
      WaitFor([&] { return !std::filesystem::exists(ipam + "/10.255.255.250"); }, seconds(30)));
  EXPECT_FALSE(std::filesystem::exists(ipam + "/10.255.255.251"));
  EXPECT_EQ(ReadText(own_lease), before["metadata"]["uid"].get<std::string>());
  // Re-adopted: the same process, no restart counted, logs and exec still work.
  json after =
      WaitPod("steady", [&](const json& p) { return Phase(p, "Running") && Restarts(p) == 0; });
  EXPECT_EQ(after["status"]["containerStatuses"][0]["state"]["running"]["startedAt"], started);
  EXPECT_EQ(Logs(after, "app"), "up\n");
  auto r = server_->Kubectl({"exec", "steady", "--", "echo", "still here"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "still here\n");
  // And the agent keeps watching over it: a delete still stops it.
  EXPECT_EQ(server_->Kubectl({"delete", "pod", "steady", "--timeout=30s"}).exit_code, 0);
}

TEST_F(PodsTest, StoppingKennelUpStopsItsPods) {
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: stopped
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: host
    command: ["sleep", "1000"]
)");
  json pod = WaitPod("stopped", [](const json& p) { return Phase(p, "Running"); });
  std::string state = dir_.path() + "/agent/" + node_ + "/pods/" +
                      pod["metadata"]["uid"].get<std::string>() + "/containers/app/0/state.json";
  json st = json::parse(ReadText(state), nullptr, false);
  ASSERT_TRUE(st.is_object()) << state;
  int pid = st.value("pid", 0);
  ASSERT_GT(pid, 0) << st.dump();
  ASSERT_EQ(kill(pid, 0), 0);
  EXPECT_EQ(server_->Stop(), 0) << server_->log();
  server_.reset();
  // The shim reaps it: no process (nor zombie) of that pid is left.
  EXPECT_TRUE(WaitFor([&] { return kill(pid, 0) != 0; }, seconds(10)));
  st = json::parse(ReadText(state), nullptr, false);
  EXPECT_GT(st.value("finished_at_ns", int64_t{0}), 0) << st.dump();
}

TEST_F(PodsTest, TheSchedulerPlacesPodsOrSaysWhyNot) {
  // No nodeName: the scheduler binds it to the only node.
  auto r = server_->Kubectl(
      {"run", "hello", "--image=host", "--restart=Never", "--", "sh", "-c", "echo scheduled"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json pod = WaitPod("hello", [](const json& p) { return Phase(p, "Succeeded"); });
  EXPECT_EQ(pod["spec"]["nodeName"], node_);
  EXPECT_EQ(Logs(pod, "hello"), "scheduled\n");

  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  containers:
  - name: app
    image: host
    command: ["sleep", "1000"]
    resources:
      requests: {cpu: "1000"}
)");
  json pending = WaitPod("huge", [](const json& p) {
    for (const json& c : p["status"].value("conditions", json::array())) {
      if (c.value("type", "") == "PodScheduled" && c.value("reason", "") == "Unschedulable") {
        return true;
      }
    }
    return false;
  });
  EXPECT_EQ(pending["status"]["phase"], "Pending");
  EXPECT_FALSE(pending["spec"].contains("nodeName"));
  bool event_seen = WaitFor(
      [&] {
        auto ev = server_->Kubectl(
            {"get", "events", "--field-selector", "involvedObject.name=huge", "-o", "json"});
        return ev.exit_code == 0 &&
               ev.out.find("0/1 nodes are available: 1 Insufficient cpu.") != std::string::npos;
      },
      seconds(20));
  EXPECT_TRUE(event_seen);
}

}  // namespace
}  // namespace kennel::e2e
