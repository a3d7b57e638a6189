// A real replicated database as a StatefulSet on `kennel up`: Debian's
// redis-server, pet 0 the primary, the others replicas that find it by its
// stable DNS name (redis-0.redis), configured by an init container from their
// ordinal; each pet's data on its own claim. Writes reach the replicas, a
// deleted replica comes back with its data, and scaling up adds a replica
// that syncs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "harness.h"
#include "up_cluster.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The init container writes the pet's configuration from its ordinal (the
// hostname's suffix): pet 0 is the primary, every other one replicates it.
// The app keeps its data (AOF and RDB) on the pet's claim at /data.
const char* kRedis = R"yaml(apiVersion: v1
kind: Service
metadata: {name: redis}
spec:
  clusterIP: None
  selector: {app: redis}
  ports: [{name: redis, port: 6379}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
spec:
  serviceName: redis
  replicas: 3
  selector:
    matchLabels: {app: redis}
  template:
    metadata:
      labels: {app: redis}
    spec:
      terminationGracePeriodSeconds: 5
      initContainers:
      - name: configure
        image: host
        command: ["sh", "-c"]
        args:
        - |
          set -e
          host="$(hostname)"
          ordinal="${host##*-}"
          {
            echo "port 6379"
            echo "bind 0.0.0.0"
            echo "protected-mode no"
            echo "dir /data"
            echo "appendonly yes"
            echo "daemonize no"
            if [ "$ordinal" != 0 ]; then echo "replicaof redis-0.redis 6379"; fi
          } > /data/redis.conf
          echo "configured pet $ordinal" >> /data/history
        volumeMounts:
        - {name: data, mountPath: /data}
      containers:
      - name: redis
        image: host
        command: ["redis-server", "/data/redis.conf"]
        readinessProbe:
          exec:
            command:
            - sh
            - -c
            - >-
              redis-cli ping | grep -q PONG &&
              { h=$(hostname); [ "${h##*-}" = 0 ] ||
              redis-cli info replication | grep -q master_link_status:up; }
          periodSeconds: 1
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 64Mi}
)yaml";

class RedisTest : public UpClusterTest {
 protected:
  void SetUp() override {
    if (std::system("command -v redis-server >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "redis-server is not installed (scripts/install-deps.sh installs it)";
    }
    UpClusterTest::SetUp();
  }

  // redis-cli inside pet `pod`; "" when it fails.
  std::string Cli(const std::string& pod, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"exec", pod, "-c", "redis", "--", "redis-cli"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = server_->Kubectl(argv);
    if (r.exit_code != 0) return "";
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
    return r.out;
  }

  bool WaitReady(int replicas) {
    return WaitFor(
        [&] {
          auto r = server_->Kubectl(
              {"get", "statefulset", "redis", "-o", "jsonpath={.status.readyReplicas}"});
          return r.exit_code == 0 && r.out == std::to_string(replicas);
        },
        seconds(120));
  }

  std::string Uid(const std::string& pod) {
    return server_->Kubectl({"get", "pod", pod, "-o", "jsonpath={.metadata.uid}"}).out;
  }
};

TEST_F(RedisTest, ReplicasFindThePrimaryKeepTheirDataAndScale) {
  Apply(kRedis);
  ASSERT_TRUE(WaitReady(3)) << server_->KubectlOk({"get", "pods,pvc", "-o", "wide"})
                            << server_->log();

  // A write to the primary reaches both replicas.
  ASSERT_EQ(Cli("redis-0", {"set", "greeting", "hello pets"}), "OK");
  for (const std::string pet : {"redis-1", "redis-2"}) {
    EXPECT_TRUE(WaitFor(
        [&] {
          return Cli(pet, {"get", "greeting"}) == "hello pets";
        },
        seconds(20)))
        << pet << ": " << Cli(pet, {"info", "replication"});
    EXPECT_EQ(Cli(pet, {"config", "get", "replicaof"}), "replicaof\nredis-0.redis 6379");
  }

  // A replica deleted comes back under its name, with its own volume: the
  // init container's history shows both of its lives, and it has the data.
  std::string old_uid = Uid("redis-1");
  server_->KubectlOk({"delete", "pod", "redis-1", "--wait=false"});
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string uid = Uid("redis-1");
        return !uid.empty() && uid != old_uid;
      },
      seconds(60)));
  ASSERT_TRUE(WaitReady(3));
  auto history = server_->Kubectl({"exec", "redis-1", "-c", "redis", "--", "cat", "/data/history"});
  EXPECT_EQ(history.out, "configured pet 1\nconfigured pet 1\n") << history.err;
  EXPECT_EQ(Cli("redis-1", {"get", "greeting"}), "hello pets");
  EXPECT_EQ(server_->KubectlOk({"get", "pod", "redis-1", "-o", "jsonpath={.spec.hostname}"}),
            "redis-1");

  // Scaling up adds a replica that syncs what the primary holds.
  ASSERT_EQ(Cli("redis-0", {"set", "later", "after the restart"}), "OK");
  server_->KubectlOk({"scale", "statefulset", "redis", "--replicas=4"});
  ASSERT_TRUE(WaitReady(4));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Cli("redis-3", {"get", "greeting"}) == "hello pets";
      },
      seconds(20)));
  EXPECT_EQ(Cli("redis-3", {"get", "later"}), "after the restart");
  // Every pet has its own claim, named after the template, the set and the ordinal.
  std::string claims = server_->KubectlOk(
      {"get", "pvc", "-o",
       "jsonpath={range .items[*]}{.metadata.name} {.status.phase}{\"\\n\"}{end}"});
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(claims.find("data-redis-" + std::to_string(i) + " Bound"), std::string::npos)
        << claims;
  }
}

}  // namespace
}  // namespace kennel::e2e
