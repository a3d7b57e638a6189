// Plugins that count pods per topology domain (host, zone, …): inter-pod
// affinity and anti-affinity, and pod topology spread. Their counts come
// from the cache's incremental counters (cache.h), so a cycle costs a
// lookup per node rather than a scan of every pod.
#include <algorithm>
#include <cmath>

#include "scheduler/cache.h"
#include "scheduler/plugins.h"

namespace kennel::scheduler {
namespace {

int64_t CountAt(const TopologyCounts& counts, const std::string& value) {
  auto it = counts.find(value);
  return it == counts.end() ? 0 : it->second;
}

// Counts of one term, to check per node by the node's value of the key.
struct TermCounts {
  const std::string* key;
  const TopologyCounts* counts;
  int64_t weight = 1;
};

class InterPodAffinity : public Plugin {
 public:
  std::string_view Name() const override { return "InterPodAffinity"; }
  int64_t DefaultWeight() const override { return 2; }

  PreFilterResult PreFilter(const CycleContext& ctx) override {
    const PodInfo& pod = ctx.pod;
    existing_anti_.clear();
    anti_.clear();
    affinity_.clear();
    scored_.clear();
    affinity_anywhere_ = false;
    // Placed pods whose required anti-affinity this pod would violate.
    ctx.cache.ForEachHeldTermMatching(HeldTerm::kRequiredAntiAffinity, pod,
                                      [&](const PodSelectorTerm& t, const TopologyCounts& c) {
                                        existing_anti_.push_back({&t.topology_key, &c});
                                      });
    for (const auto& t : pod.required_anti_affinity) {
      anti_.push_back({&t.topology_key, &ctx.cache.CountMatching(t)});
    }
    bool no_match_anywhere = true;
    bool matches_itself = true;
    for (const auto& t : pod.required_affinity) {
      const TopologyCounts& c = ctx.cache.CountMatching(t);
      affinity_.push_back({&t.topology_key, &c});
      no_match_anywhere = no_match_anywhere && c.empty();
      matches_itself = matches_itself && t.MatchesPod(pod.ns, pod.labels);
    }
    // The first pod of a group that wants to be with its own kind may go
    // anywhere: nothing matches yet, and it matches its own terms.
    affinity_anywhere_ = !affinity_.empty() && no_match_anywhere && matches_itself;
    CollectScored(ctx);
    bool filter = !existing_anti_.empty() || !anti_.empty() || !affinity_.empty();
    return {std::nullopt, filter, !scored_.empty()};
  }

  // kube-scheduler's order: the pod's affinity, its anti-affinity, then
  // placed pods' anti-affinity (a node is reported by the first it fails).
  std::optional<std::string> Filter(const CycleContext&, const NodeInfo& node) const override {
    for (const auto& t : affinity_) {
      const std::string* value = node.Label(*t.key);
      if (value == nullptr) return "node(s) didn't match pod affinity rules";
      if (!affinity_anywhere_ && CountAt(*t.counts, *value) == 0) {
        return "node(s) didn't match pod affinity rules";
      }
    }
    for (const auto& t : anti_) {
      const std::string* value = node.Label(*t.key);
      if (value && CountAt(*t.counts, *value) > 0) {
        return "node(s) didn't match pod anti-affinity rules";
      }
    }
    for (const auto& t : existing_anti_) {
      const std::string* value = node.Label(*t.key);
      if (value && CountAt(*t.counts, *value) > 0) {
        return "node(s) didn't satisfy existing pods anti-affinity rules";
      }
    }
    return std::nullopt;
  }

  int64_t Score(const CycleContext&, const NodeInfo& node) const override {
    int64_t sum = 0;
    for (const auto& t : scored_) {
      const std::string* value = node.Label(*t.key);
      if (value) sum += t.weight * CountAt(*t.counts, *value);
    }
    return sum;
  }

  void Normalize(std::vector<int64_t>& scores) const override {
    if (scores.empty()) return;
    auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
    int64_t min = *lo, diff = *hi - *lo;
    for (auto& s : scores) s = diff > 0 ? (s - min) * 100 / diff : 0;
  }

 private:
  // Preferred terms both ways, weighted (anti-affinity negatively), plus
  // placed pods' required affinity towards this pod at weight 1 (kube-
  // scheduler's hardPodAffinityWeight).
  void CollectScored(const CycleContext& ctx) {
    for (const auto& t : ctx.pod.preferred_affinity) {
      scored_.push_back({&t.topology_key, &ctx.cache.CountMatching(t), t.weight});
    }
    for (const auto& t : ctx.pod.preferred_anti_affinity) {
      scored_.push_back({&t.topology_key, &ctx.cache.CountMatching(t), -t.weight});
    }
    auto held = [&](HeldTerm which, int64_t sign) {
      ctx.cache.ForEachHeldTermMatching(which, ctx.pod,
                                        [&](const PodSelectorTerm& t, const TopologyCounts& c) {
                                          scored_.push_back({&t.topology_key, &c, sign * t.weight});
                                        });
    };
    held(HeldTerm::kPreferredAffinity, 1);
    held(HeldTerm::kPreferredAntiAffinity, -1);
    held(HeldTerm::kRequiredAffinity, 1);
  }

  std::vector<TermCounts> existing_anti_, anti_, affinity_, scored_;
  bool affinity_anywhere_ = false;
};

class PodTopologySpread : public Plugin {
 public:
  std::string_view Name() const override { return "PodTopologySpread"; }
  int64_t DefaultWeight() const override { return 2; }

  PreFilterResult PreFilter(const CycleContext& ctx) override {
    hard_.clear();
    soft_.clear();
    for (const SpreadConstraint& c : ctx.pod.spread) {
      State s;
      s.constraint = &c;
      s.counts = &ctx.cache.CountMatching(c.term);
      s.self = c.term.MatchesPod(ctx.pod.ns, ctx.pod.labels) ? 1 : 0;
      s.domains = CountDomains(ctx, c, *s.counts, &s.min);
      (c.hard ? hard_ : soft_).push_back(s);
    }
    return {std::nullopt, !hard_.empty(), !soft_.empty()};
  }

  std::optional<std::string> Filter(const CycleContext&, const NodeInfo& node) const override {
    for (const State& s : hard_) {
      const std::string* value = node.Label(s.constraint->term.topology_key);
      if (value == nullptr) {
        return "node(s) didn't match pod topology spread constraints (missing required label)";
      }
      int64_t min = s.domains < s.constraint->min_domains ? 0 : s.min;
      if (CountAt(*s.counts, *value) + s.self - min > s.constraint->max_skew) {
        return "node(s) didn't match pod topology spread constraints";
      }
    }
    return std::nullopt;
  }

  // Fewer matching pods in the node's domain is better; constraints over
  // more domains weigh more (kube-scheduler's log(domains + 2)).
  int64_t Score(const CycleContext&, const NodeInfo& node) const override {
    double sum = 0;
    for (const State& s : soft_) {
      const std::string* value = node.Label(s.constraint->term.topology_key);
      if (value == nullptr) continue;
      double weight = std::log(static_cast<double>(s.domains) + 2);
      sum += static_cast<double>(CountAt(*s.counts, *value) + s.constraint->max_skew - 1) * weight;
    }
    return static_cast<int64_t>(std::round(sum));
  }

  void Normalize(std::vector<int64_t>& scores) const override {
    if (scores.empty()) return;
    auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
    int64_t min = *lo, max = *hi;
    for (auto& s : scores) s = max == 0 ? 100 : 100 * (max + min - s) / max;
  }

 private:
  struct State {
    const SpreadConstraint* constraint = nullptr;
    const TopologyCounts* counts = nullptr;
    int64_t self = 0;
    int64_t domains = 0;  // eligible domains of the topology key
    int64_t min = 0;      // fewest matching pods in any eligible domain
  };

  // The eligible domains (values of the key on nodes the pod could go to)
  // and the smallest count among them. Without node affinity to honour,
  // every node is eligible and the cache's per-key domain list answers at
  // once; otherwise the nodes are walked.
  static int64_t CountDomains(const CycleContext& ctx, const SpreadConstraint& c,
                              const TopologyCounts& counts, int64_t* min) {
    const std::string& key = c.term.topology_key;
    bool restricted = (c.honor_node_affinity && ctx.pod.has_node_constraints) || c.honor_taints;
    if (!restricted) {
      const auto& domains = ctx.cache.Domains(key);
      *min = LowestCount(domains, counts);
      return static_cast<int64_t>(domains.size());
    }
    std::unordered_map<std::string, int64_t> eligible;
    for (const NodeInfo* node : ctx.cache.Nodes()) {
      const std::string* value = node->Label(key);
      if (value == nullptr) continue;
      if (c.honor_node_affinity && !MatchesNodeSelectorAndAffinity(ctx.pod, *node)) continue;
      if (c.honor_taints && !ToleratesNodeTaints(ctx.pod, *node)) continue;
      ++eligible[*value];
    }
    *min = LowestCount(eligible, counts);
    return static_cast<int64_t>(eligible.size());
  }

  static int64_t LowestCount(const std::unordered_map<std::string, int64_t>& domains,
                             const TopologyCounts& counts) {
    if (domains.empty()) return 0;
    int64_t min = INT64_MAX;
    for (const auto& [value, nodes] : domains) {
      min = std::min(min, CountAt(counts, value));
      if (min == 0) break;
    }
    return min;
  }

  std::vector<State> hard_, soft_;
};

}  // namespace

std::unique_ptr<Plugin> NewInterPodAffinity() { return std::make_unique<InterPodAffinity>(); }
std::unique_ptr<Plugin> NewPodTopologySpread() { return std::make_unique<PodTopologySpread>(); }

}  // namespace kennel::scheduler
