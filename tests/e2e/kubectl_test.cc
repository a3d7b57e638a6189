// The real kubectl against a real `kennel server`: the workflows a user runs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const char* kManifest = R"(apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: primary
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
stringData:
  password: hunter2
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - name: http
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: shop
spec:
  serviceName: web
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: host
        command: ["sleep", "3600"]
        ports:
        - containerPort: 80
          name: http
        env:
        - name: MODE
          value: one
)";

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<KennelServer>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  // kubectl that must succeed; returns stdout.
  std::string Ok(const std::vector<std::string>& args, const std::string& in = "") {
    return server_->KubectlOk(args, in);
  }

  json GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> a = args;
    a.push_back("-o");
    a.push_back("json");
    return json::parse(Ok(a), nullptr, false);
  }

  TempDir dir_;
  std::unique_ptr<KennelServer> server_;
};

TEST_F(KubectlTest, VersionReportsKubernetes132) {
  std::string out = Ok({"version", "-o", "json"});
  json v = json::parse(out, nullptr, false);
  ASSERT_FALSE(v.is_discarded()) << out;
  EXPECT_EQ(v["serverVersion"]["minor"], "32");
}

TEST_F(KubectlTest, ApiResourcesListsShortNamesAndGroups) {
  std::string out = Ok({"api-resources"});
  EXPECT_NE(out.find("statefulsets"), std::string::npos) << out;
  EXPECT_NE(out.find("sts"), std::string::npos);
  EXPECT_NE(out.find("apps/v1"), std::string::npos);
  EXPECT_NE(out.find("persistentvolumeclaims"), std::string::npos);
  EXPECT_NE(out.find("leases"), std::string::npos);
}

TEST_F(KubectlTest, RequestsWithoutTokenAreUnauthorized) {
  RunResult r = server_->Curl(
      {"-w", "%{http_code}", "-o", "/dev/null", server_->url() + "/api/v1/namespaces"},
      /*with_token=*/false);
  EXPECT_EQ(r.out, "401");
}

TEST_F(KubectlTest, ApplyGetEditAndDeleteAMultiDocumentManifest) {
  std::string out = Ok({"apply", "-f", "-"}, kManifest);
  EXPECT_NE(out.find("namespace/shop created"), std::string::npos) << out;
  EXPECT_NE(out.find("statefulset.apps/web created"), std::string::npos) << out;

  // Applying the same manifest again changes nothing.
  out = Ok({"apply", "-f", "-"}, kManifest);
  EXPECT_NE(out.find("statefulset.apps/web unchanged"), std::string::npos) << out;

  // An edit is a strategic merge patch computed by kubectl.
  std::string edited = kManifest;
  edited.replace(edited.find("value: one"), 10, "value: two");
  out = Ok({"apply", "-f", "-"}, edited);
  EXPECT_NE(out.find("statefulset.apps/web configured"), std::string::npos) << out;
  json sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_EQ(sts["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "two");
  EXPECT_EQ(sts["metadata"]["generation"], 2);
  // Server-side defaults are there.
  EXPECT_EQ(sts["spec"]["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
  EXPECT_EQ(sts["spec"]["revisionHistoryLimit"], 10);

  // Table output has kubectl's columns.
  out = Ok({"-n", "shop", "get", "statefulsets"});
  EXPECT_NE(out.find("NAME"), std::string::npos) << out;
  EXPECT_NE(out.find("READY"), std::string::npos) << out;
  EXPECT_NE(out.find("web"), std::string::npos) << out;
  out = Ok({"-n", "shop", "get", "sts", "-o", "wide"});
  EXPECT_NE(out.find("CONTAINERS"), std::string::npos) << out;
  out = Ok({"-n", "shop", "get", "svc"});
  EXPECT_NE(out.find("CLUSTER-IP"), std::string::npos) << out;
  out = Ok({"-n", "shop", "get", "cm", "settings", "-o", "yaml"});
  EXPECT_NE(out.find("mode: primary"), std::string::npos) << out;
  out = Ok({"-n", "shop", "get", "sts", "web", "-o", "jsonpath={.spec.serviceName}"});
  EXPECT_EQ(out, "web");
  out = Ok({"get", "ns"});
  EXPECT_NE(out.find("kube-system"), std::string::npos) << out;
  EXPECT_NE(out.find("shop"), std::string::npos) << out;

  out = Ok({"-n", "shop", "describe", "sts", "web"});
  EXPECT_NE(out.find("web"), std::string::npos) << out;

  out = Ok({"-n", "shop", "delete", "-f", "-"}, kManifest);
  EXPECT_NE(out.find("deleted"), std::string::npos) << out;
  RunResult gone = server_->Kubectl({"get", "ns", "shop"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;
}

TEST_F(KubectlTest, LabelAnnotatePatchAndScale) {
  Ok({"apply", "-f", "-"}, kManifest);
  Ok({"-n", "shop", "label", "sts", "web", "tier=db"});
  Ok({"-n", "shop", "annotate", "sts", "web", "owner=team-a"});
  json sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_EQ(sts["metadata"]["labels"]["tier"], "db");
  EXPECT_EQ(sts["metadata"]["annotations"]["owner"], "team-a");
  // Labels select.
  std::string out = Ok({"-n", "shop", "get", "sts", "-l", "tier in (db,cache)", "-o", "name"});
  EXPECT_EQ(out, "statefulset.apps/web\n");
  out = Ok({"-n", "shop", "get", "sts", "-l", "tier!=db", "-o", "name"});
  EXPECT_EQ(out, "");

  Ok({"-n", "shop", "patch", "sts", "web", "-p",
      R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"host2"}]}}}})"});
  sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_EQ(sts["spec"]["template"]["spec"]["containers"][0]["image"], "host2");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 80)
      << "strategic merge keeps the container's other fields";

  Ok({"-n", "shop", "patch", "sts", "web", "--type=merge", "-p",
      R"({"metadata":{"labels":{"tier":null}}})"});
  Ok({"-n", "shop", "patch", "sts", "web", "--type=json", "-p",
      R"([{"op":"add","path":"/spec/minReadySeconds","value":5}])"});
  // RFC 6902: replace needs an existing path; the error says which operation.
  RunResult bad = server_->Kubectl({"-n", "shop", "patch", "sts", "web", "--type=json", "-p",
                                    R"([{"op":"replace","path":"/spec/nope","value":1}])"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("/spec/nope"), std::string::npos) << bad.err;
  sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_FALSE(sts["metadata"]["labels"].contains("tier"));
  EXPECT_EQ(sts["spec"]["minReadySeconds"], 5);

  Ok({"-n", "shop", "scale", "sts", "web", "--replicas=5"});
  sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_EQ(sts["spec"]["replicas"], 5);
  Ok({"-n", "shop", "scale", "sts", "web", "--current-replicas=5", "--replicas=3"});
  sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_EQ(sts["spec"]["replicas"], 3);
  RunResult stale = server_->Kubectl(
      {"-n", "shop", "scale", "sts", "web", "--current-replicas=5", "--replicas=1"});
  EXPECT_NE(stale.exit_code, 0) << "a stale --current-replicas precondition must fail";
}

TEST_F(KubectlTest, InvalidObjectsAreRejectedWithKubernetesMessages) {
  Ok({"apply", "-f", "-"}, kManifest);
  RunResult r = server_->Kubectl(
      {"-n", "shop", "patch", "sts", "web", "--type=merge", "-p", R"({"spec":{"replicas":-1}})"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("is invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("spec.replicas"), std::string::npos) << r.err;
  // Immutable fields stay immutable.
  r = server_->Kubectl({"-n", "shop", "patch", "sts", "web", "--type=merge", "-p",
                        R"({"spec":{"serviceName":"other"}})"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Forbidden"), std::string::npos) << r.err;
  // Nothing changed.
  json sts = GetJson({"-n", "shop", "get", "sts", "web"});
  EXPECT_EQ(sts["spec"]["replicas"], 2);
  EXPECT_EQ(sts["spec"]["serviceName"], "web");
  // A bad name.
  r = server_->Kubectl({"create", "-f", "-"},
                       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}})");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Invalid value"), std::string::npos) << r.err;
  // A duplicate.
  r = server_->Kubectl({"-n", "shop", "create", "-f", "-"},
                       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"}})");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("AlreadyExists"), std::string::npos) << r.err;
}

TEST_F(KubectlTest, GeneratorCommandsSendProtobuf) {
  Ok({"create", "namespace", "gen"});
  Ok({"-n", "gen", "create", "configmap", "cfg", "--from-literal=a=b"});
  Ok({"-n", "gen", "create", "secret", "generic", "sec", "--from-literal=k=v"});
  Ok({"-n", "gen", "create", "deployment", "d", "--image=host", "--port=80"});
  Ok({"-n", "gen", "create", "service", "clusterip", "svc", "--tcp=80:8080"});
  Ok({"-n", "gen", "create", "serviceaccount", "robot"});
  json cm = GetJson({"-n", "gen", "get", "cm", "cfg"});
  EXPECT_EQ(cm["data"]["a"], "b");
  json sec = GetJson({"-n", "gen", "get", "secret", "sec"});
  EXPECT_EQ(sec["data"]["k"], "dg==");  // base64("v")
  json d = GetJson({"-n", "gen", "get", "deploy", "d"});
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["image"], "host");
  json svc = GetJson({"-n", "gen", "get", "svc", "svc"});
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
}

TEST_F(KubectlTest, GetWatchSeesAChange) {
  Ok({"apply", "-f", "-"}, kManifest);
  // kubectl get -w runs until killed: once it has printed the current row,
  // change the object and wait for the change to stream in.
  BackgroundProcess watch(
      {"kubectl", "--kubeconfig", server_->kubeconfig(), "-n", "shop", "get", "cm", "settings",
       "-w", "-o", "custom-columns=NAME:.metadata.name,MODE:.data.mode"},
      {"KUBECACHEDIR=" + dir_.path() + "/kubectl-cache"});
  ASSERT_TRUE(watch.WaitForOutput("primary", seconds(20))) << watch.output();
  Ok({"-n", "shop", "patch", "cm", "settings", "--type=merge", "-p",
      R"({"data":{"mode":"replica"}})"});
  EXPECT_TRUE(watch.WaitForOutput("replica", seconds(20))) << watch.output();
}

TEST_F(KubectlTest, CascadingDeleteRemovesOrOrphansDependents) {
  Ok({"apply", "-f", "-"}, kManifest);
  json sts = GetJson({"-n", "shop", "get", "sts", "web"});
  std::string uid = sts["metadata"]["uid"];
  auto owned = [&](const std::string& name) {
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata",
                {{"name", name},
                 {"namespace", "shop"},
                 {"ownerReferences",
                  {{{"apiVersion", "apps/v1"},
                    {"kind", "StatefulSet"},
                    {"name", "web"},
                    {"uid", uid},
                    {"controller", true}}}}}}};
    return cm.dump();
  };
  Ok({"create", "-f", "-"}, owned("dep-a"));
  Ok({"-n", "shop", "delete", "sts", "web", "--cascade=orphan"});
  json dep = GetJson({"-n", "shop", "get", "cm", "dep-a"});
  EXPECT_FALSE(dep["metadata"].contains("ownerReferences")) << dep.dump();

  Ok({"apply", "-f", "-"}, kManifest);
  sts = GetJson({"-n", "shop", "get", "sts", "web"});
  uid = sts["metadata"]["uid"];
  Ok({"create", "-f", "-"}, owned("dep-b"));
  Ok({"-n", "shop", "delete", "sts", "web", "--cascade=foreground"});
  RunResult r = server_->Kubectl({"-n", "shop", "get", "cm", "dep-b"});
  EXPECT_NE(r.exit_code, 0) << "foreground deletion removes dependents";
}

TEST_F(KubectlTest, ReadsHonourResourceVersionSemantics) {
  json list = json::parse(Ok({"get", "--raw", "/api/v1/namespaces"}));
  int64_t current = std::stoll(list["metadata"]["resourceVersion"].get<std::string>());
  // Not older than the current revision, and "any": served.
  Ok({"get", "--raw", "/api/v1/namespaces?resourceVersion=" + std::to_string(current)});
  Ok({"get", "--raw", "/api/v1/namespaces?resourceVersion=0"});
  // From the future: Kubernetes' "Too large resource version" (504).
  RunResult r = server_->Kubectl(
      {"get", "--raw", "/api/v1/namespaces?resourceVersion=" + std::to_string(current + 1000)});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Too large resource version"), std::string::npos) << r.err;
  // An exact older revision is not kept.
  Ok({"create", "configmap", "bump"});
  r = server_->Kubectl(
      {"get", "--raw",
       "/api/v1/namespaces?resourceVersionMatch=Exact&resourceVersion=" + std::to_string(current)});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("too old resource version"), std::string::npos) << r.err;
}

TEST_F(KubectlTest, ObjectsSurviveARestartWithTheirResourceVersions) {
  Ok({"apply", "-f", "-"}, kManifest);
  // Controllers write right after the apply (the StatefulSet's revision, pod
  // and status; the scheduler's conditions): snapshot once nothing changes.
  json before;
  ASSERT_TRUE(WaitFor(
      [&] {
        json now = GetJson({"-n", "shop", "get", "all,cm,secret"});
        bool settled = now == before;
        before = now;
        return settled;
      },
      seconds(30)));
  ASSERT_EQ(server_->Stop(), 0) << server_->log();
  ASSERT_TRUE(server_->Start()) << server_->log();
  json after = GetJson({"-n", "shop", "get", "all,cm,secret"});
  ASSERT_EQ(before["items"].size(), after["items"].size());
  for (size_t i = 0; i < before["items"].size(); ++i) {
    EXPECT_EQ(before["items"][i]["metadata"]["uid"], after["items"][i]["metadata"]["uid"]);
    // The StatefulSet's pod stays unschedulable (no node); a restarted
    // scheduler writes its PodScheduled condition again (a new
    // lastTransitionTime), so only the pod's uid is compared.
    if (before["items"][i]["kind"] == "Pod") continue;
    EXPECT_EQ(before["items"][i]["metadata"]["resourceVersion"],
              after["items"][i]["metadata"]["resourceVersion"])
        << before["items"][i].dump(2) << "\n"
        << after["items"][i].dump(2);
  }
}

}  // namespace
}  // namespace kennel::e2e
