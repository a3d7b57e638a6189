#include "api/protobuf.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "api/internal/proto_json.h"

// Fixtures in testdata/protobuf/ come from the real kubectl 1.32
// (kubectl.1.32 from the machine image), captured once by hand:
//  - <name>.bin: the request body of e.g. `kubectl --server=http://127.0.0.1:PORT
//    --validate=false create deployment d --image=nginx --port=80`
//    run against a throwaway Python http.server on loopback that served the
//    legacy discovery documents (/api, /apis, /api/v1, /apis/apps/v1,
//    /apis/batch/v1), saved every POST body verbatim and answered 201 with a
//    stub object. The commands were: create namespace foo; create configmap x
//    --from-literal=a=b --from-literal='greeting=hello world'; create deployment
//    d --image=nginx --port=80; create deployment web --image=busybox:1.36
//    --replicas=3 --port=8080 -- sleep 3600; create secret generic s
//    --from-literal=k=v; create secret generic bin -n team-a
//    --from-file=blob=<bytes 00 01 02 ff fe "binary"> --from-literal=user=admin
//    --type=Opaque; create service clusterip s --tcp=80:8080; create service
//    nodeport np --tcp=80:http --node-port=30080; create serviceaccount sa;
//    create job j --image=busybox -- echo hi.
//  - <name>.json: the same command with `--dry-run=client -o json`, i.e. the
//    JSON kubectl itself would have sent for that object.
// So each .bin must decode to its .json, up to the nulls and empty objects
// that the Go JSON encoder writes for non-pointer structs.

namespace kennel::api {
namespace {

using nlohmann::json;

// ---- a tiny protobuf encoder, for tests only ----

class Proto {
 public:
  Proto& Varint(uint32_t field, uint64_t v) {
    PutVarint(uint64_t{field} << 3 | 0);
    PutVarint(v);
    return *this;
  }
  Proto& Int(uint32_t field, int64_t v) { return Varint(field, static_cast<uint64_t>(v)); }
  Proto& Bytes(uint32_t field, std::string_view v) {
    PutVarint(uint64_t{field} << 3 | 2);
    PutVarint(v.size());
    out_.append(v);
    return *this;
  }
  Proto& Msg(uint32_t field, const Proto& m) { return Bytes(field, m.out_); }
  Proto& Entry(uint32_t field, std::string_view key, std::string_view value) {
    return Msg(field, Proto().Bytes(1, key).Bytes(2, value));
  }
  Proto& Fixed32(uint32_t field, uint32_t v) {
    PutVarint(uint64_t{field} << 3 | 5);
    for (int i = 0; i < 4; ++i) out_ += static_cast<char>(v >> (8 * i));
    return *this;
  }
  Proto& Fixed64(uint32_t field, uint64_t v) {
    PutVarint(uint64_t{field} << 3 | 1);
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>(v >> (8 * i));
    return *this;
  }
  Proto& Group(uint32_t field, const Proto& contents) {
    PutVarint(uint64_t{field} << 3 | 3);
    out_ += contents.out_;
    PutVarint(uint64_t{field} << 3 | 4);
    return *this;
  }
  Proto& RawBytes(std::string_view bytes) {
    out_.append(bytes);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>(v | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  std::string out_;
};

std::string Envelope(std::string_view api_version, std::string_view kind, const Proto& raw,
                     std::string_view content_encoding = "", std::string_view content_type = "") {
  Proto unknown;
  unknown.Msg(1, Proto().Bytes(1, api_version).Bytes(2, kind))
      .Msg(2, raw)
      .Bytes(3, content_encoding)
      .Bytes(4, content_type);
  return std::string("k8s\0", 4) + unknown.str();
}

Proto Quantity(std::string_view q) { return Proto().Bytes(1, q); }
Proto IntOrString(int32_t v) { return Proto().Varint(1, 0).Int(2, v).Bytes(3, ""); }
Proto IntOrString(std::string_view s) { return Proto().Varint(1, 1).Varint(2, 0).Bytes(3, s); }
Proto Time(int64_t seconds) { return Proto().Int(1, seconds).Varint(2, 0); }
Proto Meta(std::string_view name) { return Proto().Bytes(1, name); }

json MustDecode(const std::string& body) {
  StatusOr<json> r = DecodeKubernetesProtobuf(body);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : json();
}

Status DecodeError(const std::string& body) { return DecodeKubernetesProtobuf(body).status(); }

// ---- bodies captured from kubectl ----

std::filesystem::path TestData(const std::string& name) {
  return std::filesystem::path(__FILE__).parent_path() / "testdata" / "protobuf" / name;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Drops what Go's JSON encoder writes for unset non-pointer structs and nil
// values ("creationTimestamp": null, "resources": {}, "status": {}).
json DropNullsAndEmptyObjects(const json& j) {
  if (!j.is_object() && !j.is_array()) return j;
  json out = j.is_object() ? json::object() : json::array();
  for (auto it = j.begin(); it != j.end(); ++it) {
    json v = DropNullsAndEmptyObjects(*it);
    const bool drop = v.is_null() || (v.is_object() && v.empty());
    if (j.is_array()) {
      out.push_back(std::move(v));
    } else if (!drop) {
      out[it.key()] = std::move(v);
    }
  }
  return out;
}

class KubectlFixture : public testing::TestWithParam<const char*> {};

TEST_P(KubectlFixture, DecodesToTheJsonKubectlWouldSend) {
  const std::string name = GetParam();
  const json decoded = MustDecode(ReadFile(TestData(name + ".bin")));
  const json expected = DropNullsAndEmptyObjects(json::parse(ReadFile(TestData(name + ".json"))));
  EXPECT_EQ(decoded, expected);
}

TEST_P(KubectlFixture, TruncatedOrCorruptedBodiesFailCleanly) {
  const std::string body = ReadFile(TestData(std::string(GetParam()) + ".bin"));
  for (size_t n = 0; n < body.size(); ++n) {
    StatusOr<json> r = DecodeKubernetesProtobuf(body.substr(0, n));
    // A cut at a field boundary can still be a valid (smaller) object.
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kBadRequest) << "prefix " << n;
    }
  }
  for (size_t i = 4; i < body.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string mutated = body;
      mutated[i] = static_cast<char>(mutated[i] ^ flip);
      StatusOr<json> r = DecodeKubernetesProtobuf(mutated);  // must neither crash nor throw
      if (r.ok()) {
        EXPECT_TRUE(r->is_object());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kubectl132, KubectlFixture,
                         testing::Values("namespace_foo", "configmap_x", "deployment_d",
                                         "deployment_web", "secret_generic_s", "secret_generic_bin",
                                         "service_clusterip_s", "service_nodeport_np",
                                         "serviceaccount_sa"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(KubectlBodies, DeploymentKeepsReplicasSelectorAndContainerPort) {
  const json d = MustDecode(ReadFile(TestData("deployment_d.bin")));
  EXPECT_EQ(d["apiVersion"], "apps/v1");
  EXPECT_EQ(d["kind"], "Deployment");
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"]["app"], "d");
  const json& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "nginx");
  EXPECT_EQ(c["ports"], json::parse(R"([{"containerPort":80}])"));
  // Sent as empty strings and zeros by Go's encoder; omitted like omitempty.
  EXPECT_FALSE(c.contains("imagePullPolicy"));
  EXPECT_FALSE(c.contains("resources"));
  EXPECT_FALSE(d["spec"].contains("strategy"));
  EXPECT_FALSE(d["metadata"].contains("creationTimestamp"));
}

TEST(KubectlBodies, SecretBytesAreBase64AndServicePortsKeepTheirTypes) {
  const json secret = MustDecode(ReadFile(TestData("secret_generic_bin.bin")));
  EXPECT_EQ(secret["data"]["blob"], "AAEC//5iaW5hcnk=");  // 00 01 02 ff fe "binary"
  EXPECT_EQ(secret["metadata"]["namespace"], "team-a");
  const json np = MustDecode(ReadFile(TestData("service_nodeport_np.bin")));
  EXPECT_EQ(np["spec"]["ports"][0]["targetPort"], "http");
  EXPECT_EQ(np["spec"]["ports"][0]["nodePort"], 30080);
  const json s = MustDecode(ReadFile(TestData("service_clusterip_s.bin")));
  EXPECT_EQ(s["spec"]["ports"][0]["targetPort"], 8080);
}

TEST(KubectlBodies, JobIsUnsupportedMediaTypeNamingTheKind) {
  const Status s = DecodeError(ReadFile(TestData("job_j.bin")));
  EXPECT_EQ(s.code(), Code::kUnsupportedMediaType);
  EXPECT_NE(s.message().find("Job"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("batch/v1"), std::string::npos) << s.message();
}

// ---- objects built with the test encoder ----

TEST(DecodeProtobuf, NamespaceWithLabelsAndFullMetadata) {
  Proto meta;
  meta.Bytes(1, "team-a")
      .Bytes(2, "")
      .Bytes(3, "")
      .Bytes(5, "0b5e8f7e-1111-2222-3333-444455556666")
      .Bytes(6, "42")
      .Int(7, 3)
      .Msg(8, Time(1700000000))
      .Int(10, 0)  // a pointer: an explicit zero stays
      .Entry(11, "env", "prod")
      .Entry(11, "team", "a")
      .Entry(12, "note", "hello")
      .Msg(13, Proto()
                   .Bytes(5, "v1")
                   .Bytes(1, "ConfigMap")
                   .Bytes(3, "owner")
                   .Bytes(4, "u-1")
                   .Varint(6, 1)
                   .Varint(7, 0))
      .Bytes(14, "example.com/cleanup");
  Proto ns;
  ns.Msg(1, meta).Msg(2, Proto().Bytes(1, "kubernetes")).Msg(3, Proto().Bytes(1, "Active"));
  EXPECT_EQ(MustDecode(Envelope("v1", "Namespace", ns)), json::parse(R"({
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": {
      "name": "team-a", "uid": "0b5e8f7e-1111-2222-3333-444455556666",
      "resourceVersion": "42", "generation": 3,
      "creationTimestamp": "2023-11-14T22:13:20Z", "deletionGracePeriodSeconds": 0,
      "labels": {"env": "prod", "team": "a"}, "annotations": {"note": "hello"},
      "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                           "uid": "u-1", "controller": true, "blockOwnerDeletion": false}],
      "finalizers": ["example.com/cleanup"]
    },
    "spec": {"finalizers": ["kubernetes"]}
  })"));
}

TEST(DecodeProtobuf, ConfigMapWithDataBinaryDataAndImmutable) {
  Proto cm;
  cm.Msg(1, Meta("cfg"))
      .Varint(4, 0)  // immutable is a *bool: false is kept
      .Entry(2, "app.properties", "a=1\nb=2\n")
      .Entry(2, "empty", "")
      .Entry(3, "logo", std::string("\x89PNG\0", 5));
  EXPECT_EQ(MustDecode(Envelope("v1", "ConfigMap", cm)), json::parse(R"({
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "immutable": false,
    "data": {"app.properties": "a=1\nb=2\n", "empty": ""},
    "binaryData": {"logo": "iVBORwA="}
  })"));
}

TEST(DecodeProtobuf, SecretBinaryDataIsBase64) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  Proto secret;
  secret.Msg(1, Meta("tls"))
      .Entry(2, "tls.key", std::string("\x00\xff\x10", 3))
      .Entry(2, "all", all_bytes)
      .Entry(4, "plain", "text")
      .Bytes(3, "kubernetes.io/tls");
  const json s = MustDecode(Envelope("v1", "Secret", secret));
  EXPECT_EQ(s["data"]["tls.key"], "AP8Q");
  EXPECT_EQ(s["data"]["all"].get<std::string>().size(), 344u);
  EXPECT_EQ(s["data"]["all"].get<std::string>().substr(0, 8), "AAECAwQF");
  EXPECT_EQ(s["stringData"]["plain"], "text");
  EXPECT_EQ(s["type"], "kubernetes.io/tls");
}

TEST(DecodeProtobuf, ServicePortsWithIntAndStringTargetPorts) {
  Proto spec;
  spec.Msg(1, Proto()
                  .Bytes(1, "web")
                  .Bytes(2, "TCP")
                  .Varint(3, 80)
                  .Msg(4, IntOrString(8080))
                  .Varint(5, 0))
      .Msg(1, Proto().Bytes(1, "named").Bytes(2, "UDP").Varint(3, 53).Msg(4, IntOrString("dns")))
      .Msg(1, Proto().Bytes(1, "same").Varint(3, 443).Msg(4, IntOrString(0)))
      .Entry(2, "app", "web")
      .Bytes(3, "None")
      .Bytes(18, "None")
      .Bytes(4, "ClusterIP")
      .Bytes(7, "ClientIP")
      .Msg(14, Proto().Msg(1, Proto().Varint(1, 10800)))
      .Varint(13, 1)
      .Bytes(17, "SingleStack");
  Proto svc;
  svc.Msg(1, Meta("web")).Msg(2, spec).Msg(3, Proto().Msg(1, Proto()));
  EXPECT_EQ(MustDecode(Envelope("v1", "Service", svc)), json::parse(R"({
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
    "spec": {
      "ports": [
        {"name": "web", "protocol": "TCP", "port": 80, "targetPort": 8080},
        {"name": "named", "protocol": "UDP", "port": 53, "targetPort": "dns"},
        {"name": "same", "port": 443}
      ],
      "selector": {"app": "web"}, "clusterIP": "None", "clusterIPs": ["None"],
      "type": "ClusterIP", "sessionAffinity": "ClientIP",
      "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
      "publishNotReadyAddresses": true, "ipFamilyPolicy": "SingleStack"
    }
  })"));
}

TEST(DecodeProtobuf, ServiceAccountWithSecretsAndPullSecrets) {
  Proto sa;
  sa.Msg(1, Meta("builder"))
      .Msg(2, Proto().Bytes(3, "builder-token"))
      .Msg(3, Proto().Bytes(1, "registry"))
      .Varint(4, 0);
  EXPECT_EQ(MustDecode(Envelope("v1", "ServiceAccount", sa)), json::parse(R"({
    "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"},
    "secrets": [{"name": "builder-token"}], "imagePullSecrets": [{"name": "registry"}],
    "automountServiceAccountToken": false
  })"));
}

Proto WebContainer() {
  Proto c;
  c.Bytes(1, "web")
      .Bytes(2, "nginx:1.25")
      .Bytes(4, "--port=8080")
      .Msg(6, Proto().Bytes(1, "http").Varint(2, 0).Varint(3, 8080).Bytes(4, "TCP").Bytes(5, ""))
      .Msg(6, Proto().Varint(3, 9090))
      .Msg(19, Proto().Bytes(1, "CFG_").Msg(2, Proto().Msg(1, Proto().Bytes(1, "settings"))))
      .Msg(7, Proto().Bytes(1, "MODE").Bytes(2, "fast"))
      .Msg(7, Proto().Bytes(1, "POD").Msg(
                  3, Proto().Msg(1, Proto().Bytes(1, "v1").Bytes(2, "metadata.name"))))
      .Msg(7,
           Proto()
               .Bytes(1, "LEVEL")
               .Msg(3,
                    Proto().Msg(
                        3, Proto().Msg(1, Proto().Bytes(1, "cfg")).Bytes(2, "level").Varint(3, 1))))
      .Msg(7,
           Proto()
               .Bytes(1, "PASSWORD")
               .Msg(3, Proto().Msg(4, Proto().Msg(1, Proto().Bytes(1, "db")).Bytes(2, "password"))))
      .Msg(8,
           Proto()
               .Msg(1, Proto().Bytes(1, "cpu").Msg(2, Quantity("500m")))
               .Msg(1, Proto().Bytes(1, "memory").Msg(2, Quantity("128Mi")))
               .Msg(2, Proto().Bytes(1, "cpu").Msg(2, Quantity("250m"))))
      .Msg(9, Proto().Bytes(1, "data").Varint(2, 1).Bytes(3, "/data"))
      .Msg(11, Proto()
                   .Msg(1, Proto().Msg(2, Proto().Bytes(1, "/healthz").Msg(2, IntOrString("http"))))
                   .Varint(2, 5)
                   .Varint(4, 10))
      .Bytes(13, "/dev/termination-log")
      .Bytes(14, "IfNotPresent")
      .Msg(15, Proto().Varint(2, 0).Int(4, 1000).Msg(1, Proto().Bytes(2, "ALL")))
      .Varint(16, 0);
  return c;
}

TEST(DecodeProtobuf, DeploymentWithContainerPortsEnvResourcesAndVolumes) {
  Proto pod_spec;
  pod_spec.Msg(1, Proto().Bytes(1, "scratch").Msg(2, Proto().Msg(2, Proto().Bytes(1, ""))))
      .Msg(1, Proto()
                  .Bytes(1, "config")
                  .Msg(2, Proto().Msg(19, Proto()
                                              .Msg(1, Meta("settings"))
                                              .Msg(2, Proto().Bytes(1, "a").Bytes(2, "a.conf"))
                                              .Varint(3, 420))))
      .Msg(1, Proto().Bytes(1, "creds").Msg(2, Proto().Msg(6, Proto().Bytes(1, "db"))))
      .Msg(1, Proto().Bytes(1, "data").Msg(2, Proto().Msg(10, Proto().Bytes(1, "data-pvc"))))
      .Msg(1, Proto().Bytes(1, "logs").Msg(
                  2, Proto().Msg(1, Proto().Bytes(1, "/var/log").Bytes(2, "Directory"))))
      .Msg(2, WebContainer())
      .Bytes(3, "Always")
      .Int(4, 30)
      .Bytes(6, "ClusterFirst")
      .Entry(7, "disk", "ssd")
      .Bytes(8, "web-sa")
      .Msg(22,
           Proto().Bytes(1, "dedicated").Bytes(2, "Equal").Bytes(3, "web").Bytes(4, "NoSchedule"));
  Proto labels;
  labels.Entry(11, "app", "web");
  Proto spec;
  spec.Varint(1, 0)  // replicas is a *int32: zero is a real request
      .Msg(2, Proto().Entry(1, "app", "web"))
      .Msg(3, Proto().Msg(1, labels).Msg(2, pod_spec))
      .Msg(4, Proto()
                  .Bytes(1, "RollingUpdate")
                  .Msg(2, Proto().Msg(1, IntOrString(0)).Msg(2, IntOrString("25%"))))
      .Varint(5, 0)
      .Int(6, 10)
      .Varint(7, 0);
  Proto deploy;
  deploy.Msg(1, Proto().Bytes(1, "web").Bytes(3, "prod").Entry(11, "app", "web")).Msg(2, spec);
  EXPECT_EQ(MustDecode(Envelope("apps/v1", "Deployment", deploy)), json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}},
    "spec": {
      "replicas": 0,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
          "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "settings", "defaultMode": 420,
                                             "items": [{"key": "a", "path": "a.conf"}]}},
            {"name": "creds", "secret": {"secretName": "db"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data-pvc"}},
            {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}}
          ],
          "containers": [{
            "name": "web", "image": "nginx:1.25", "args": ["--port=8080"],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                      {"containerPort": 9090}],
            "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
            "env": [
              {"name": "MODE", "value": "fast"},
              {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                         "fieldPath": "metadata.name"}}},
              {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "level",
                                                                  "optional": true}}},
              {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db",
                                                                  "key": "password"}}}
            ],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                          "requests": {"cpu": "250m"}},
            "volumeMounts": [{"name": "data", "readOnly": true, "mountPath": "/data"}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                               "initialDelaySeconds": 5, "periodSeconds": 10},
            "terminationMessagePath": "/dev/termination-log",
            "imagePullPolicy": "IfNotPresent",
            "securityContext": {"privileged": false, "runAsUser": 1000,
                                "capabilities": {"drop": ["ALL"]}}
          }],
          "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
          "dnsPolicy": "ClusterFirst", "nodeSelector": {"disk": "ssd"},
          "serviceAccountName": "web-sa",
          "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web",
                           "effect": "NoSchedule"}]
        }
      },
      "strategy": {"type": "RollingUpdate",
                   "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
      "revisionHistoryLimit": 10
    }
  })"));
}

TEST(DecodeProtobuf, StatefulSetWithClaimTemplatesAndPartition) {
  Proto claim_spec;
  claim_spec.Bytes(1, "ReadWriteOnce")
      .Msg(2, Proto().Msg(2, Proto().Bytes(1, "storage").Msg(2, Quantity("1Gi"))))
      .Bytes(5, "standard");
  Proto spec;
  spec.Varint(1, 3)
      .Msg(2,
           Proto()
               .Entry(1, "app", "db")
               .Msg(2, Proto().Bytes(1, "tier").Bytes(2, "In").Bytes(3, "data").Bytes(3, "cache")))
      .Msg(3, Proto()
                  .Msg(1, Proto().Entry(11, "app", "db"))
                  .Msg(2, Proto().Msg(2, Proto().Bytes(1, "db").Bytes(2, "postgres"))))
      .Msg(4, Proto().Msg(1, Meta("data")).Msg(2, claim_spec))
      .Bytes(5, "db")
      .Bytes(6, "Parallel")
      .Msg(7, Proto().Bytes(1, "RollingUpdate").Msg(2, Proto().Varint(1, 0)))
      .Varint(9, 0);
  Proto sts;
  sts.Msg(1, Meta("db")).Msg(2, spec);
  EXPECT_EQ(MustDecode(Envelope("apps/v1", "StatefulSet", sts)), json::parse(R"({
    "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
    "spec": {
      "replicas": 3,
      "selector": {"matchLabels": {"app": "db"},
                   "matchExpressions": [{"key": "tier", "operator": "In",
                                         "values": ["data", "cache"]}]},
      "template": {"metadata": {"labels": {"app": "db"}},
                   "spec": {"containers": [{"name": "db", "image": "postgres"}]}},
      "volumeClaimTemplates": [{
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}},
                 "storageClassName": "standard"}
      }],
      "serviceName": "db", "podManagementPolicy": "Parallel",
      "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    }
  })"));
}

TEST(DecodeProtobuf, PodWithNegativeIntsAndPackedOrUnpackedRepeatedInts) {
  // Msg() adds tags, so strip them back out to get a packed run.
  std::string run;
  for (uint64_t v : {1000u, 2000u}) {
    Proto p;
    p.Varint(1, v);
    run += p.str().substr(1);
  }
  Proto packed_security;
  packed_security.Bytes(4, run).Int(4, 3000).Int(2, 0);
  Proto pod_spec;
  pod_spec.Msg(2, Proto().Bytes(1, "c").Bytes(2, "busybox")).Msg(14, packed_security).Int(25, -5);
  Proto pod;
  pod.Msg(1, Meta("p")).Msg(2, pod_spec);
  EXPECT_EQ(MustDecode(Envelope("v1", "Pod", pod)), json::parse(R"({
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "busybox"}],
             "securityContext": {"supplementalGroups": [1000, 2000, 3000], "runAsUser": 0},
             "priority": -5}
  })"));
}

TEST(DecodeProtobuf, PriorityClassAsKubectlCreatePriorityClassSendsIt) {
  // Go's encoder writes every non-pointer field; preemptionPolicy is a pointer.
  Proto pc;
  pc.Msg(1, Meta("high")).Int(2, 1000).Varint(3, 1).Bytes(4, "x").Bytes(5, "Never");
  EXPECT_EQ(MustDecode(Envelope("scheduling.k8s.io/v1", "PriorityClass", pc)), json::parse(R"({
    "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"},
    "value": 1000, "globalDefault": true, "description": "x", "preemptionPolicy": "Never"
  })"));
  // Zero values are dropped as omitempty would (the defaulter puts value 0 back).
  Proto zero;
  zero.Msg(1, Meta("low")).Int(2, 0).Varint(3, 0).Bytes(4, "");
  EXPECT_EQ(MustDecode(Envelope("scheduling.k8s.io/v1", "PriorityClass", zero)), json::parse(R"({
    "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "low"}
  })"));
}

TEST(DecodeProtobuf, UnknownFieldsOfEveryWireTypeAreSkipped) {
  Proto meta;
  meta.Bytes(1, "cfg")
      .Msg(17, Proto().Bytes(1, "kubectl").Bytes(2, "Update"))  // managedFields: not in schema
      .Varint(99, 12345)
      .Fixed32(100, 0xdeadbeef)
      .Fixed64(101, 42)
      .Group(102, Proto().Varint(1, 1).Group(2, Proto().Bytes(3, "nested")));
  Proto cm;
  cm.Msg(1, meta).Entry(2, "k", "v").Msg(9, Proto().Bytes(1, "future field"));
  EXPECT_EQ(MustDecode(Envelope("v1", "ConfigMap", cm)), json::parse(R"({
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}
  })"));
}

TEST(DecodeProtobuf, RepeatedSingularFieldsFollowProtobufMergeRules) {
  Proto spec;
  spec.Varint(1, 2)
      .Varint(1, 5)  // last scalar wins
      .Msg(4, Proto().Bytes(1, "Recreate"))
      .Msg(4, Proto().Bytes(1, "RollingUpdate"))
      .Msg(3, Proto().Msg(1, Proto().Entry(11, "a", "1")))
      .Msg(3, Proto().Msg(1, Proto().Entry(11, "b", "2")));  // messages merge
  Proto deploy;
  deploy.Msg(1, Proto().Bytes(1, "first").Bytes(1, "second")).Msg(2, spec);
  EXPECT_EQ(MustDecode(Envelope("apps/v1", "Deployment", deploy)), json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "second"},
    "spec": {"replicas": 5, "strategy": {"type": "RollingUpdate"},
             "template": {"metadata": {"labels": {"a": "1", "b": "2"}}}}
  })"));
}

TEST(DecodeProtobuf, TimesAreRfc3339AndZeroTimesAreOmitted) {
  auto created = [](const Proto& time) {
    Proto cm;
    cm.Msg(1, Proto().Bytes(1, "t").Msg(8, time));
    return MustDecode(Envelope("v1", "ConfigMap", cm))["metadata"];
  };
  EXPECT_EQ(created(Time(0))["creationTimestamp"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(created(Time(951782400))["creationTimestamp"], "2000-02-29T00:00:00Z");
  EXPECT_EQ(created(Time(-1))["creationTimestamp"], "1969-12-31T23:59:59Z");
  EXPECT_EQ(created(Proto().Int(1, 1700000000).Varint(2, 999999999))["creationTimestamp"],
            "2023-11-14T22:13:20Z");
  EXPECT_FALSE(created(Proto()).contains("creationTimestamp"));
  EXPECT_FALSE(created(Time(-62135596800)).contains("creationTimestamp"));

  Proto cm;
  cm.Msg(1, Proto().Bytes(1, "t").Msg(8, Time(253402300800)));
  const Status s = DecodeError(Envelope("v1", "ConfigMap", cm));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("metadata.creationTimestamp"), std::string::npos) << s.message();
}

// ---- malformed and unsupported bodies ----

TEST(DecodeProtobufErrors, MissingMagicOrEnvelopeIsBadRequest) {
  EXPECT_EQ(DecodeError("").code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError("{\"kind\":\"Namespace\"}").code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError(std::string("k8s\0", 4)).code(), Code::kBadRequest);
  const std::string no_kind =
      std::string("k8s\0", 4) + Proto().Msg(1, Proto().Bytes(1, "v1")).Msg(2, Meta("x")).str();
  EXPECT_EQ(DecodeError(no_kind).code(), Code::kBadRequest);
}

TEST(DecodeProtobufErrors, BrokenWireDataIsBadRequest) {
  const std::string magic("k8s\0", 4);
  // A length that runs past the end of the body.
  EXPECT_EQ(DecodeError(magic + "\x0a\x7f\x0a").code(), Code::kBadRequest);
  // A varint that never ends, and one longer than ten bytes.
  EXPECT_EQ(DecodeError(magic + "\x08\xff\xff").code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError(magic + "\x08" + std::string(11, '\xff') + "\x01").code(),
            Code::kBadRequest);
  // Field number 0, wire types 6 and 7, a stray end-group, an unterminated group.
  EXPECT_EQ(DecodeError(magic + std::string("\x00\x01", 2)).code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError(magic + "\x0e\x01").code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError(magic + "\x0f\x01").code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError(magic + "\x0c").code(), Code::kBadRequest);
  EXPECT_EQ(DecodeError(magic + "\x5b\x08\x01").code(), Code::kBadRequest);
}

TEST(DecodeProtobufErrors, ErrorsNameTheJsonPathOfTheField) {
  Proto deploy;
  deploy.Msg(1, Meta("d")).Msg(2, Proto().Bytes(1, "three"));  // replicas is a varint
  Status s = DecodeError(Envelope("apps/v1", "Deployment", deploy));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("spec.replicas"), std::string::npos) << s.message();

  Proto pod;
  pod.Msg(1, Meta("p")).Msg(2, Proto().Msg(2, Proto().Bytes(1, "bad\xc3\x28name")));
  s = DecodeError(Envelope("v1", "Pod", pod));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("spec.containers.name"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("UTF-8"), std::string::npos) << s.message();

  Proto cm;
  cm.Msg(1, Proto().RawBytes("\x0a\x05"
                             "ab"));  // metadata.name runs past its message
  s = DecodeError(Envelope("v1", "ConfigMap", cm));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("metadata"), std::string::npos) << s.message();
}

TEST(DecodeProtobufErrors, UnknownKindsAndEncodingsAreUnsupportedMediaType) {
  Status s = DecodeError(Envelope("v1", "Endpoints", Proto().Msg(1, Meta("e"))));
  EXPECT_EQ(s.code(), Code::kUnsupportedMediaType);
  EXPECT_NE(s.message().find("Endpoints"), std::string::npos) << s.message();
  s = DecodeError(Envelope("policy/v1", "PodDisruptionBudget", Proto().Msg(1, Meta("pdb"))));
  EXPECT_EQ(s.code(), Code::kUnsupportedMediaType);
  EXPECT_NE(s.message().find("PodDisruptionBudget (policy/v1)"), std::string::npos) << s.message();
  // A known kind in an unknown version is not guessed at.
  EXPECT_EQ(DecodeError(Envelope("apps/v1beta1", "Deployment", Proto())).code(),
            Code::kUnsupportedMediaType);
  EXPECT_EQ(DecodeError(Envelope("v1", "Namespace", Proto().Msg(1, Meta("n")), "gzip")).code(),
            Code::kUnsupportedMediaType);
  EXPECT_EQ(DecodeError(Envelope("v1", "Namespace", Proto(), "", "application/json")).code(),
            Code::kUnsupportedMediaType);
  // The explicit protobuf content type is what an empty one means.
  EXPECT_TRUE(DecodeKubernetesProtobuf(
                  Envelope("v1", "Namespace", Proto().Msg(1, Meta("n")), "", kProtobufContentType))
                  .ok());
}

// ---- helpers ----

TEST(ProtoJsonHelpers, Rfc3339CoversTheWholeRange) {
  using internal::FormatRfc3339;
  EXPECT_EQ(*FormatRfc3339(-62135596800), "0001-01-01T00:00:00Z");
  EXPECT_EQ(*FormatRfc3339(253402300799), "9999-12-31T23:59:59Z");
  EXPECT_EQ(*FormatRfc3339(1709208000), "2024-02-29T12:00:00Z");
  EXPECT_EQ(*FormatRfc3339(4107542400), "2100-03-01T00:00:00Z");  // 2100 is not a leap year
  EXPECT_FALSE(FormatRfc3339(-62135596801).ok());
  EXPECT_FALSE(FormatRfc3339(253402300800).ok());
}

TEST(ProtoJsonHelpers, Utf8Validation) {
  using internal::IsValidUtf8;
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\xb6"));  // é € 🐶
  EXPECT_FALSE(IsValidUtf8("\xc3"));                                       // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                                   // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                               // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));                           // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace kennel::api
