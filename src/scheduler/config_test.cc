#include "scheduler/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kennel::scheduler {
namespace {

using std::chrono::milliseconds;

// The error message of a text that must fail, for EXPECT_*s on it.
std::string ErrorOf(std::string_view text, Code want = Code::kInvalid) {
  auto cfg = ParseSchedulerConfig(text);
  EXPECT_FALSE(cfg.ok()) << text;
  if (cfg.ok()) return "";
  EXPECT_EQ(cfg.status().code(), want) << cfg.status().ToString();
  return cfg.status().message();
}

TEST(SchedulerConfig, EmptyTextGivesDefaults) {
  for (std::string_view text : {"", "   \n", "{}", "# just a comment\n"}) {
    auto cfg = ParseSchedulerConfig(text);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    EXPECT_EQ(cfg->scheduler_name, "default-scheduler");
    EXPECT_EQ(cfg->percentage_of_nodes_to_score, 0);
    EXPECT_TRUE(cfg->score_weights.empty());
    EXPECT_TRUE(cfg->disabled_plugins.empty());
    EXPECT_TRUE(cfg->extenders.empty());
    EXPECT_TRUE(cfg->PluginEnabled("filter", "NodeResourcesFit"));
    EXPECT_EQ(cfg->ScoreWeight("TaintToleration", 3), 3);
  }
}

constexpr char kFullYaml[] = R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
clientConnection:
  kubeconfig: /etc/kubernetes/scheduler.conf
percentageOfNodesToScore: 50
profiles:
  - schedulerName: kennel-scheduler
    plugins:
      multiPoint:
        enabled:
          - name: ImageLocality
            weight: 4
      score:
        disabled:
          - name: "*"
        enabled:
          - name: NodeResourcesFit
            weight: 5
          - name: TaintToleration
      filter:
        disabled:
          - name: NodeUnschedulable
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
extenders:
  - urlPrefix: "http://127.0.0.1:8888/scheduler"
    filterVerb: filter
    prioritizeVerb: prioritize
    preemptVerb: preempt
    bindVerb: bind
    weight: 3
    enableHTTPS: no
    nodeCacheCapable: true
    ignorable: true
    httpTimeout: 1m30s
    managedResources:
      - name: example.com/gpu
        ignoredByScheduler: true
      - name: example.com/fpga
  - urlPrefix: https://extender.example:443
    filterVerb: filter
    enableHTTPS: true
    tlsConfig:
      insecure: false
      serverName: extender.internal
      caFile: /etc/kennel/extender-ca.crt
      caData: LS0tLS1CRUdJTg==
    httpTimeout: 300ms
)";

TEST(SchedulerConfig, ParsesARealisticYamlFile) {
  auto cfg = ParseSchedulerConfig(kFullYaml);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->scheduler_name, "kennel-scheduler");
  EXPECT_EQ(cfg->percentage_of_nodes_to_score, 50);
  EXPECT_EQ(cfg->score_weights,
            (std::map<std::string, int64_t>{
                {"ImageLocality", 4}, {"NodeResourcesFit", 5}, {"TaintToleration", 1}}));
  EXPECT_EQ(cfg->disabled_plugins, (std::set<std::string>{"*", "NodeUnschedulable"}));
  EXPECT_EQ(cfg->plugins.at("score").enabled,
            (std::vector<std::string>{"NodeResourcesFit", "TaintToleration"}));
  // Per-point merging as kube-scheduler does it.
  EXPECT_TRUE(cfg->PluginEnabled("score", "NodeResourcesFit"));
  EXPECT_FALSE(cfg->PluginEnabled("score", "NodeResourcesBalancedAllocation"));
  EXPECT_FALSE(cfg->PluginEnabled("score", "ImageLocality"));  // "*" at score wins over multiPoint
  EXPECT_TRUE(cfg->PluginEnabled("filter", "NodeResourcesFit"));
  EXPECT_FALSE(cfg->PluginEnabled("filter", "NodeUnschedulable"));
  EXPECT_TRUE(cfg->PluginEnabled("preFilter", "NodeUnschedulable"));
  EXPECT_EQ(cfg->ScoreWeight("NodeResourcesFit", 1), 5);
  EXPECT_EQ(cfg->ScoreWeight("NodeAffinity", 2), 2);

  ASSERT_EQ(cfg->extenders.size(), 2u);
  const ExtenderConfig& a = cfg->extenders[0];
  EXPECT_EQ(a.url_prefix, "http://127.0.0.1:8888/scheduler");
  EXPECT_EQ(a.filter_verb, "filter");
  EXPECT_EQ(a.prioritize_verb, "prioritize");
  EXPECT_EQ(a.bind_verb, "bind");
  EXPECT_EQ(a.weight, 3);
  EXPECT_FALSE(a.enable_https);  // YAML 1.1 "no"
  EXPECT_TRUE(a.node_cache_capable);
  EXPECT_TRUE(a.ignorable);
  EXPECT_EQ(a.http_timeout, milliseconds(90'000));
  EXPECT_EQ(a.managed_resources, (std::vector<std::string>{"example.com/gpu", "example.com/fpga"}));
  EXPECT_EQ(a.ignored_resources, (std::set<std::string>{"example.com/gpu"}));

  const ExtenderConfig& b = cfg->extenders[1];
  EXPECT_EQ(b.url_prefix, "https://extender.example:443");
  EXPECT_TRUE(b.prioritize_verb.empty());
  EXPECT_TRUE(b.bind_verb.empty());
  EXPECT_EQ(b.weight, 1);
  EXPECT_TRUE(b.enable_https);
  EXPECT_FALSE(b.insecure);
  EXPECT_EQ(b.server_name, "extender.internal");
  EXPECT_EQ(b.ca_file, "/etc/kennel/extender-ca.crt");
  EXPECT_EQ(b.ca_data, "-----BEGIN");
  EXPECT_EQ(b.http_timeout, milliseconds(300));
}

TEST(SchedulerConfig, ParsesTheJsonForm) {
  auto cfg = ParseSchedulerConfig(R"({
    "apiVersion": "kubescheduler.config.k8s.io/v1",
    "kind": "KubeSchedulerConfiguration",
    "profiles": [{"schedulerName": "json-scheduler", "percentageOfNodesToScore": 30,
                  "plugins": {"score": {"enabled": [{"name": "NodeAffinity", "weight": 7}]},
                              "preFilter": {"disabled": [{"name": "NodeAffinity"}]}}}],
    "extenders": [{"urlPrefix": "http://ext:80", "prioritizeVerb": "p", "weight": 2,
                   "httpTimeout": "2s", "tlsConfig": {"insecure": true}}]
  })");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->scheduler_name, "json-scheduler");
  EXPECT_EQ(cfg->percentage_of_nodes_to_score, 30);  // the profile's overrides the default
  EXPECT_EQ(cfg->score_weights.at("NodeAffinity"), 7);
  EXPECT_EQ(cfg->disabled_plugins, (std::set<std::string>{"NodeAffinity"}));
  EXPECT_FALSE(cfg->PluginEnabled("preFilter", "NodeAffinity"));
  EXPECT_TRUE(cfg->PluginEnabled("filter", "NodeAffinity"));
  ASSERT_EQ(cfg->extenders.size(), 1u);
  EXPECT_EQ(cfg->extenders[0].weight, 2);
  EXPECT_TRUE(cfg->extenders[0].insecure);
  EXPECT_EQ(cfg->extenders[0].http_timeout, milliseconds(2000));
}

TEST(SchedulerConfig, ProfilePercentageOverridesTheTopLevelOne) {
  auto cfg = ParseSchedulerConfig(
      "percentageOfNodesToScore: 40\nprofiles:\n- percentageOfNodesToScore: 70\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->percentage_of_nodes_to_score, 70);
  cfg = ParseSchedulerConfig("percentageOfNodesToScore: 40\nprofiles:\n- schedulerName: s\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->percentage_of_nodes_to_score, 40);
}

TEST(SchedulerConfig, AcceptsOlderVersionsAndIgnoresUnknownFields) {
  auto cfg = ParseSchedulerConfig(
      "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n"
      "somethingNew: {a: 1}\nprofiles:\n- schedulerName: s\n  unknown: [1, 2]\n"
      "extenders:\n- urlPrefix: http://x\n  futureField: true\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->scheduler_name, "s");
}

TEST(SchedulerConfig, ZeroOrMissingScoreWeightIsOne) {
  auto cfg = ParseSchedulerConfig(
      "profiles:\n- plugins:\n    score:\n      enabled:\n      - {name: A, weight: 0}\n"
      "      - {name: B}\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->score_weights, (std::map<std::string, int64_t>{{"A", 1}, {"B", 1}}));
}

TEST(SchedulerConfig, ExtenderHttpTimeoutDefaultsAndRounding) {
  auto cfg = ParseSchedulerConfig(
      "extenders:\n- urlPrefix: http://a\n- urlPrefix: http://b\n  httpTimeout: 0s\n"
      "- urlPrefix: http://c\n  httpTimeout: 1500us\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->extenders[0].http_timeout, milliseconds(5000));
  EXPECT_EQ(cfg->extenders[1].http_timeout, milliseconds(5000));
  EXPECT_EQ(cfg->extenders[2].http_timeout, milliseconds(2));
}

TEST(SchedulerConfig, RefusesBadApiVersionAndKind) {
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: KubeSchedulerConfiguration\n"),
            "apiVersion: must be kubescheduler.config.k8s.io/v1 (or v1beta3, v1beta2), got \"v1\"");
  EXPECT_EQ(ErrorOf("apiVersion: kubescheduler.config.k8s.io/v1\nkind: Policy\n"),
            "kind: must be KubeSchedulerConfiguration, got \"Policy\"");
}

TEST(SchedulerConfig, RefusesBadPercentage) {
  EXPECT_EQ(ErrorOf("percentageOfNodesToScore: 101\n"),
            "percentageOfNodesToScore: not in valid range [0-100]");
  EXPECT_EQ(ErrorOf("percentageOfNodesToScore: -1\n"),
            "percentageOfNodesToScore: not in valid range [0-100]");
  EXPECT_EQ(ErrorOf("percentageOfNodesToScore: half\n"),
            "percentageOfNodesToScore: must be an integer");
  EXPECT_EQ(ErrorOf("profiles:\n- percentageOfNodesToScore: 200\n"),
            "profiles[0].percentageOfNodesToScore: not in valid range [0-100]");
}

TEST(SchedulerConfig, RefusesBadProfiles) {
  EXPECT_EQ(ErrorOf("profiles: {}\n"), "profiles: must be a list");
  EXPECT_EQ(ErrorOf("profiles:\n- schedulerName: a\n- schedulerName: b\n"),
            "profiles: Kennel runs one scheduler profile, got 2");
  EXPECT_EQ(ErrorOf("profiles:\n- schedulerName: \"\"\n"),
            "profiles[0].schedulerName: Required value");
  EXPECT_EQ(ErrorOf("profiles:\n- schedulerName: 5\n"),
            "profiles[0].schedulerName: must be a string");
  EXPECT_EQ(ErrorOf("profiles:\n- plugins:\n    score:\n      enabled:\n"
                    "      - {name: A, weight: 2}\n      - {name: B, weight: -1}\n"),
            "profiles[0].plugins.score.enabled[1].weight: must be a positive integer");
  EXPECT_EQ(ErrorOf("profiles:\n- plugins:\n    score:\n      enabled:\n"
                    "      - {name: A, weight: 1.5}\n"),
            "profiles[0].plugins.score.enabled[0].weight: must be an integer");
  EXPECT_EQ(ErrorOf("profiles:\n- plugins:\n    filter:\n      disabled:\n      - {weight: 1}\n"),
            "profiles[0].plugins.filter.disabled[0].name: Required value");
  EXPECT_EQ(ErrorOf("profiles:\n- plugins:\n    filter:\n      disabled: NodeAffinity\n"),
            "profiles[0].plugins.filter.disabled: must be a list");
  EXPECT_EQ(ErrorOf("profiles:\n- plugins:\n    filter:\n      disabled: [NodeAffinity]\n"),
            "profiles[0].plugins.filter.disabled[0]: must be an object");
}

TEST(SchedulerConfig, RefusesBadExtenders) {
  EXPECT_EQ(ErrorOf("extenders:\n- filterVerb: f\n"), "extenders[0].urlPrefix: Required value");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: ftp://x\n"),
            "extenders[0].urlPrefix: must start with http:// or https://");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  prioritizeVerb: p\n  weight: 0\n"),
            "extenders[0].weight: must have a positive weight applied to it");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  weight: heavy\n"),
            "extenders[0].weight: must be an integer");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  nodeCacheCapable: maybe\n"),
            "extenders[0].nodeCacheCapable: must be a boolean");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  httpTimeout: 5\n"),
            "extenders[0].httpTimeout: must be a string");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  httpTimeout: 5 seconds\n"),
            "extenders[0].httpTimeout: unknown unit \" seconds\" in duration \"5 seconds\"");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  httpTimeout: \"-1s\"\n"),
            "extenders[0].httpTimeout: must not be negative");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  tlsConfig:\n    caData: \"!!\"\n"),
            "extenders[0].tlsConfig.caData: must be base64-encoded PEM data");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  managedResources:\n  - name: cpu\n"),
            "extenders[0].managedResources[0].name: is an invalid extended resource name");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  managedResources:\n"
                    "  - name: example.com/gpu\n- urlPrefix: http://y\n  managedResources:\n"
                    "  - name: example.com/gpu\n"),
            "extenders[1].managedResources[0].name: duplicate extender managed resource name");
  EXPECT_EQ(ErrorOf("extenders:\n- urlPrefix: http://x\n  bindVerb: b\n"
                    "- urlPrefix: http://y\n  bindVerb: b\n"),
            "extenders: only one extender can implement bind, found 2");
}

TEST(SchedulerConfig, ReportsEveryProblemWithItsField) {
  auto cfg = ParseSchedulerConfig(
      "percentageOfNodesToScore: 300\nextenders:\n- urlPrefix: gopher://x\n  weight: -2\n"
      "  prioritizeVerb: p\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(),
            "percentageOfNodesToScore: not in valid range [0-100]; extenders[0].urlPrefix: must "
            "start with http:// or https://; extenders[0].weight: must have a positive weight "
            "applied to it");
  ASSERT_EQ(cfg.status().causes().size(), 3u);
  EXPECT_EQ(cfg.status().causes()[1].field, "extenders[0].urlPrefix");
}

TEST(SchedulerConfig, RefusesUnparsableText) {
  EXPECT_NE(ErrorOf("profiles: [\n", Code::kBadRequest).find("not valid YAML: line"),
            std::string::npos);
  EXPECT_NE(ErrorOf("{\"profiles\": ", Code::kBadRequest).find("not valid JSON"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "scheduler config must be a KubeSchedulerConfiguration object");
}

TEST(SchedulerConfig, LoadReadsTheFileAndNamesItInErrors) {
  char tmpl[] = "/tmp/kennel-config-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string good = dir + "/good.yaml";
  std::ofstream(good) << "profiles:\n- schedulerName: from-file\n";
  std::string bad = dir + "/bad.yaml";
  std::ofstream(bad) << "percentageOfNodesToScore: 101\n";

  auto cfg = LoadSchedulerConfig(good);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->scheduler_name, "from-file");

  cfg = LoadSchedulerConfig(bad);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), Code::kInvalid);
  EXPECT_EQ(cfg.status().message(), bad + ": percentageOfNodesToScore: not in valid range [0-100]");

  cfg = LoadSchedulerConfig(dir + "/missing.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), Code::kNotFound);
  EXPECT_NE(cfg.status().message().find(dir + "/missing.yaml"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kennel::scheduler
