// The JSON files of a container's state directory (see internal/container.h).
#include <nlohmann/json.hpp>

#include "agent/internal/container.h"
#include "agent/internal/sys.h"
#include "base/file.h"

namespace kennel::agent::internal {
namespace {

using nlohmann::json;

json MountToJson(const MountSpec& m) {
  return json{{"source", m.source},
              {"target", m.target},
              {"type", m.type},
              {"read_only", m.read_only},
              {"options", m.options}};
}

MountSpec MountFromJson(const json& j) {
  MountSpec m;
  m.source = j.value("source", "");
  m.target = j.value("target", "");
  m.type = j.value("type", "bind");
  m.read_only = j.value("read_only", false);
  m.options = j.value("options", "");
  return m;
}

json SpecToJson(const ContainerSpec& s) {
  json mounts = json::array();
  for (const MountSpec& m : s.mounts) mounts.push_back(MountToJson(m));
  return json{{"name", s.name},
              {"image", s.image},
              {"argv", s.argv},
              {"env", s.env},
              {"working_dir", s.working_dir},
              {"mounts", mounts},
              {"cpu_limit_milli", s.cpu_limit_milli},
              {"memory_limit_bytes", s.memory_limit_bytes},
              {"cpu_request_milli", s.cpu_request_milli},
              {"state_dir", s.state_dir},
              {"log_path", s.log_path},
              {"log_max_bytes", s.log_max_bytes},
              {"cgroup_parent", s.cgroup_parent}};
}

ContainerSpec SpecFromJson(const json& j) {
  ContainerSpec s;
  s.name = j.value("name", "");
  s.image = j.value("image", "");
  s.argv = j.value("argv", std::vector<std::string>{});
  s.env = j.value("env", std::vector<std::string>{});
  s.working_dir = j.value("working_dir", "");
  for (const json& m : j.value("mounts", json::array())) s.mounts.push_back(MountFromJson(m));
  s.cpu_limit_milli = j.value("cpu_limit_milli", int64_t{0});
  s.memory_limit_bytes = j.value("memory_limit_bytes", int64_t{0});
  s.cpu_request_milli = j.value("cpu_request_milli", int64_t{0});
  s.state_dir = j.value("state_dir", "");
  s.log_path = j.value("log_path", "");
  s.log_max_bytes = j.value("log_max_bytes", int64_t{10 << 20});
  s.cgroup_parent = j.value("cgroup_parent", "");
  return s;
}

// Parses a file written by this module; a malformed one is kInternal.
StatusOr<json> ReadJson(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Internal("malformed " + path);
  return j;
}

}  // namespace

std::string SpecPath(const std::string& state_dir) { return JoinPath(state_dir, "spec.json"); }
std::string StatePath(const std::string& state_dir) { return JoinPath(state_dir, "state.json"); }
std::string ShimLogPath(const std::string& state_dir) { return JoinPath(state_dir, "shim.log"); }

namespace {

json ShimConfigToJson(const ShimConfig& config) {
  return json{{"isolation", config.isolation == Isolation::kNone ? "none" : "namespaces"},
              {"netns_path", config.netns_path},
              {"utsns_path", config.utsns_path},
              {"ipcns_path", config.ipcns_path},
              {"spec", SpecToJson(config.spec)}};
}

// Throws json::exception on a malformed document.
ShimConfig ShimConfigFromJson(const json& j) {
  ShimConfig c;
  c.isolation =
      j.value("isolation", "namespaces") == "none" ? Isolation::kNone : Isolation::kNamespaces;
  c.netns_path = j.value("netns_path", "");
  c.utsns_path = j.value("utsns_path", "");
  c.ipcns_path = j.value("ipcns_path", "");
  c.spec = SpecFromJson(j.value("spec", json::object()));
  return c;
}

json ContainerStateToJson(const ContainerState& s) {
  return json{{"status", s.status},
              {"pid", s.pid},
              {"start_ticks", s.start_ticks},
              {"started_at_ns", s.started_at_ns},
              {"finished_at_ns", s.finished_at_ns},
              {"exit_code", s.exit_code},
              {"signal", s.signal},
              {"oom_killed", s.oom_killed},
              {"message", s.message},
              {"shim_pid", s.shim_pid}};
}

}  // namespace

Status WriteShimConfig(const std::string& state_dir, const ShimConfig& config) {
  // A machine crash ends the container this describes: no fsync (a
  // millisecond on every start).
  return WriteFileAtomically(SpecPath(state_dir), ShimConfigToJson(config).dump(2) + "\n", 0600,
                             Survives::kProcessCrash);
}

StatusOr<ShimConfig> ReadShimConfig(const std::string& state_dir) {
  ASSIGN_OR_RETURN(json j, ReadJson(SpecPath(state_dir)));
  try {
    return ShimConfigFromJson(j);
  } catch (const json::exception& e) {
    return Internal("malformed " + SpecPath(state_dir) + ": " + e.what());
  }
}

void ExerciseStateCode() {
  ShimConfig config;
  config.netns_path = "/exercise/ns/net";
  config.spec.argv = {"exercise", "only"};
  config.spec.env = {"PATH=/usr/bin"};
  config.spec.mounts = {MountSpec{"/exercise", "/data", "bind", false, ""}};
  json parsed = json::parse(ShimConfigToJson(config).dump(2), nullptr, /*allow_exceptions=*/false);
  try {
    ShimConfigFromJson(parsed);
  } catch (const json::exception&) {
  }
  ContainerState state;
  state.status = ContainerState::kRunning;
  ContainerStateToJson(state).dump(2);
}

Status WriteContainerState(const std::string& state_dir, const ContainerState& s) {
  // That it runs needs surviving only a process crash (a machine crash ends
  // it); how it ended is kept through a machine crash too.
  return WriteFileAtomically(
      StatePath(state_dir), ContainerStateToJson(s).dump(2) + "\n", 0644,
      s.status == ContainerState::kRunning ? Survives::kProcessCrash : Survives::kMachineCrash);
}

StatusOr<ContainerState> ReadContainerState(const std::string& state_dir) {
  ASSIGN_OR_RETURN(json j, ReadJson(StatePath(state_dir)));
  try {
    ContainerState s;
    s.status = j.value("status", "");
    s.pid = j.value("pid", 0);
    s.start_ticks = j.value("start_ticks", uint64_t{0});
    s.started_at_ns = j.value("started_at_ns", int64_t{0});
    s.finished_at_ns = j.value("finished_at_ns", int64_t{0});
    s.exit_code = j.value("exit_code", 0);
    s.signal = j.value("signal", 0);
    s.oom_killed = j.value("oom_killed", false);
    s.message = j.value("message", "");
    s.shim_pid = j.value("shim_pid", 0);
    return s;
  } catch (const json::exception& e) {
    return Internal("malformed " + StatePath(state_dir) + ": " + e.what());
  }
}

std::string ContainerCgroupPath(const ContainerSpec& spec) {
  std::string parent = spec.cgroup_parent.empty() ? "kennel" : spec.cgroup_parent;
  while (!parent.empty() && parent.front() == '/') parent.erase(0, 1);
  return JoinPath(parent, spec.name);
}

}  // namespace kennel::agent::internal
