// The scheduler's configuration file: kube-scheduler's KubeSchedulerConfiguration
// (kubescheduler.config.k8s.io/v1, also read as v1beta3 and v1beta2, whose
// shape is the same for the parts used here), as YAML or JSON, so a file
// written for kube-scheduler configures Kennel unchanged.
//
// Read: profiles[0] (schedulerName, percentageOfNodesToScore, plugins),
// the top-level percentageOfNodesToScore, and extenders. Everything else
// (leaderElection, clientConnection, pluginConfig, preemptVerb, ...) is
// accepted and ignored, as are unknown fields. Wrong types and bad values are
// refused with kInvalid, every problem named by its field path
// ("extenders[0].weight: must have a positive weight applied to it"); text
// that is neither YAML nor JSON with kBadRequest. Kennel runs one profile, so
// a file with several is refused rather than leaving the others' pods
// unscheduled in silence.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kennel::scheduler {

// One scheduler extender (kube-scheduler's Extender): an HTTP(S) service
// asked to filter and score nodes and, optionally, to bind.
struct ExtenderConfig {
  std::string url_prefix;           // urlPrefix (required): http:// or https://
  std::string filter_verb;          // filterVerb; empty = not supported
  std::string prioritize_verb;      // prioritizeVerb
  std::string bind_verb;            // bindVerb (at most one extender may bind)
  int64_t weight = 1;               // weight (must be > 0 when prioritizeVerb set)
  bool node_cache_capable = false;  // nodeCacheCapable: send node names only
  bool ignorable = false;     // ignorable: errors/unreachable skip the extender instead of failing
  bool enable_https = false;  // enableHTTPS: as kube-scheduler, with no CA given this
                              // turns verification off (see extender.h)
  // tlsConfig. Data fields hold PEM text (base64 in the file, as Go's []byte).
  bool insecure = false;    // tlsConfig.insecure: do not verify the server
  std::string server_name;  // tlsConfig.serverName: name to verify (and SNI); default the host
  std::string ca_file;      // tlsConfig.caFile
  std::string ca_data;      // tlsConfig.caData
  std::string cert_file;    // tlsConfig.certFile: client certificate
  std::string key_file;     // tlsConfig.keyFile
  std::string cert_data;    // tlsConfig.certData
  std::string key_data;     // tlsConfig.keyData
  // httpTimeout, a Go duration ("5s", "300ms", "1m30s"); 0 or absent = 5 s.
  // Bounds a whole call: connect, TLS handshake, request and response.
  std::chrono::milliseconds http_timeout{5000};
  // managedResources[].name; if non-empty only pods requesting one of them are sent.
  std::vector<std::string> managed_resources;
  // managedResources[] with ignoredByScheduler: true. NodeResourcesFit must
  // not check these (the extender accounts for them).
  std::set<std::string> ignored_resources;
};

// One extension point's plugins as the profile lists them.
struct PluginSet {
  std::vector<std::string> enabled;  // in order
  std::set<std::string> disabled;    // may hold "*": every default plugin
};

struct SchedulerConfig {
  std::string scheduler_name = "default-scheduler";  // profiles[0].schedulerName
  // 0 = adaptive (Kubernetes' formula); 1..100 otherwise. The profile's
  // value, when set, overrides the top-level one.
  int percentage_of_nodes_to_score = 0;
  // profiles[0].plugins.score.enabled[{name, weight}], and multiPoint's for
  // plugins score does not list. A weight of 0 or none is 1, as in
  // kube-scheduler (so enabling a default plugin without a weight resets it to 1).
  std::map<std::string, int64_t> score_weights;
  // profiles[0].plugins.<any point>.disabled[].name ("*" allowed): the union
  // over all extension points. PluginEnabled() has the per-point answer.
  std::set<std::string> disabled_plugins;
  // profiles[0].plugins by extension point as spelled in the file:
  // "multiPoint", "preEnqueue", "queueSort", "preFilter", "filter",
  // "postFilter", "preScore", "score", "reserve", "permit", "preBind",
  // "bind", "postBind". Points the file does not mention are absent.
  std::map<std::string, PluginSet> plugins;
  std::vector<ExtenderConfig> extenders;

  // Whether a default plugin runs at an extension point ("filter", "score",
  // ...), merging as kube-scheduler does: enabled at the point wins, then
  // disabled at the point (by name or "*"), then enabled in multiPoint, then
  // disabled in multiPoint; otherwise the default holds (enabled).
  bool PluginEnabled(std::string_view point, std::string_view plugin) const;
  // score_weights[plugin], or default_weight when the file does not set it.
  int64_t ScoreWeight(std::string_view plugin, int64_t default_weight) const;
};

// Parses a KubeSchedulerConfiguration from YAML or JSON text (JSON when the
// first non-blank character is '{'). Empty text gives the defaults.
// Errors: kBadRequest for unparsable text, kInvalid for bad fields.
StatusOr<SchedulerConfig> ParseSchedulerConfig(std::string_view text);

// Reads and parses the file at path. Errors: kNotFound naming the path when
// it cannot be read; ParseSchedulerConfig's, prefixed with the path.
StatusOr<SchedulerConfig> LoadSchedulerConfig(const std::string& path);

}  // namespace kennel::scheduler
