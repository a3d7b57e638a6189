#include "agent/volumes.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "agent/internal/json_fields.h"
#include "agent/internal/sys.h"
#include "base/file.h"

namespace kennel::agent {
namespace {

namespace fs = std::filesystem;

using internal::Field;
using internal::IntOr;
using internal::IsMountPoint;
using internal::MakeDirs;
using internal::Str;

// A relative item path must stay inside the volume: no "..", not absolute.
Status CheckItemPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return BadRequest("volume item path must be relative");
  for (const auto& part : fs::path(path)) {
    if (part == "..") return BadRequest("volume item path must not contain '..'");
  }
  return Status::Ok();
}

Status WriteItem(const std::string& dir, const std::string& rel, const std::string& data,
                 int mode) {
  RETURN_IF_ERROR(CheckItemPath(rel));
  std::string path = dir + "/" + rel;
  RETURN_IF_ERROR(MakeDirs(fs::path(path).parent_path()));
  return WriteFileAtomically(path, data, mode);
}

// Writes a ConfigMap's or Secret's keys (or the listed items) into dir.
Status WriteKeyed(const std::string& kind, const json& source, const std::string& ns,
                  const std::string& name, const std::string& dir, int default_mode,
                  const ObjectGetter& get) {
  bool optional = Field(source, "optional").is_boolean() && Field(source, "optional").get<bool>();
  ASSIGN_OR_RETURN(auto data, ReferencedData(kind, ns, name, optional, /*with_binary=*/true, get));
  if (!data) return Status::Ok();
  const json& items = Field(source, "items");
  if (!items.is_array()) {
    for (const auto& [key, bytes] : *data) {
      RETURN_IF_ERROR(WriteItem(dir, key, bytes, default_mode));
    }
    return Status::Ok();
  }
  for (const json& item : items) {
    std::string key = Str(item, "key");
    auto it = data->find(key);
    if (it == data->end()) {
      if (optional) continue;
      return NotFound("configmap/secret " + ns + "/" + name + " has no key \"" + key + "\"");
    }
    RETURN_IF_ERROR(
        WriteItem(dir, Str(item, "path"), it->second, IntOr(item, "mode", default_mode)));
  }
  return Status::Ok();
}

Status WriteDownward(const json& pod, const json& items, const std::string& dir, int default_mode,
                     const PodRuntimeFacts& facts) {
  if (!items.is_array()) return Status::Ok();
  for (const json& item : items) {
    const json& ref = Field(item, "fieldRef");
    if (!ref.is_object()) continue;  // resourceFieldRef: limits come with the scheduler issue
    std::string path = Str(ref, "fieldPath");
    std::string value;
    // Whole label/annotation maps render as key="value" lines.
    if (path == "metadata.labels" || path == "metadata.annotations") {
      const json& m =
          Field(Field(pod, "metadata"), path == "metadata.labels" ? "labels" : "annotations");
      if (m.is_object()) {
        for (auto it = m.begin(); it != m.end(); ++it) {
          value +=
              it.key() + "=" + json(it->is_string() ? it->get<std::string>() : "").dump() + "\n";
        }
      }
    } else {
      ASSIGN_OR_RETURN(value, FieldRefValue(pod, path, facts));
    }
    RETURN_IF_ERROR(WriteItem(dir, Str(item, "path"), value, IntOr(item, "mode", default_mode)));
  }
  return Status::Ok();
}

StatusOr<PreparedVolume> PrepareOne(const json& pod, const json& volume, const std::string& dir,
                                    const PodRuntimeFacts& facts, const ObjectGetter& get,
                                    const PvcPathGetter& pvc_path) {
  const std::string ns = Str(Field(pod, "metadata"), "namespace");
  PreparedVolume out;
  out.host_path = dir;
  if (const json& src = Field(volume, "emptyDir"); src.is_object()) {
    RETURN_IF_ERROR(MakeDirs(dir));
    // Memory-backed: one tmpfs for the pod, so its containers share it.
    if (Str(src, "medium") == "Memory" && !IsMountPoint(dir)) {
      std::string limit = Str(src, "sizeLimit");
      std::string opts = "mode=0777" + (limit.empty() ? "" : ",size=" + limit);
      if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
        return Internal("mount tmpfs on " + dir + ": " + std::strerror(errno));
      }
    }
    return out;
  }
  if (const json& src = Field(volume, "hostPath"); src.is_object()) {
    RETURN_IF_ERROR(PrepareHostPath(src));
    out.host_path = Str(src, "path");
    return out;
  }
  out.read_only = true;
  RETURN_IF_ERROR(MakeDirs(dir));
  if (const json& src = Field(volume, "configMap"); src.is_object()) {
    RETURN_IF_ERROR(WriteKeyed("ConfigMap", src, ns, Str(src, "name"), dir,
                               IntOr(src, "defaultMode", 0644), get));
    return out;
  }
  if (const json& src = Field(volume, "secret"); src.is_object()) {
    RETURN_IF_ERROR(WriteKeyed("Secret", src, ns, Str(src, "secretName"), dir,
                               IntOr(src, "defaultMode", 0644), get));
    return out;
  }
  if (const json& src = Field(volume, "downwardAPI"); src.is_object()) {
    RETURN_IF_ERROR(
        WriteDownward(pod, Field(src, "items"), dir, IntOr(src, "defaultMode", 0644), facts));
    return out;
  }
  if (const json& src = Field(volume, "projected"); src.is_object()) {
    int mode = IntOr(src, "defaultMode", 0644);
    const json& sources = Field(src, "sources");
    if (sources.is_array()) {
      for (const json& s : sources) {
        if (const json& cm = Field(s, "configMap"); cm.is_object()) {
          RETURN_IF_ERROR(WriteKeyed("ConfigMap", cm, ns, Str(cm, "name"), dir, mode, get));
        } else if (const json& sec = Field(s, "secret"); sec.is_object()) {
          RETURN_IF_ERROR(WriteKeyed("Secret", sec, ns, Str(sec, "name"), dir, mode, get));
        } else if (const json& d = Field(s, "downwardAPI"); d.is_object()) {
          RETURN_IF_ERROR(WriteDownward(pod, Field(d, "items"), dir, mode, facts));
        }
      }
    }
    return out;
  }
  if (const json& src = Field(volume, "persistentVolumeClaim"); src.is_object()) {
    ASSIGN_OR_RETURN(out.host_path, pvc_path(ns, Str(src, "claimName")));
    const json& ro = Field(src, "readOnly");
    out.read_only = ro.is_boolean() && ro.get<bool>();
    return out;
  }
  return BadRequest("volume \"" + Str(volume, "name") +
                    "\": unsupported volume type (supported: emptyDir, hostPath, configMap, "
                    "secret, downwardAPI, projected, persistentVolumeClaim)");
}

}  // namespace

Status PrepareHostPath(const json& source) {
  std::string path = Str(source, "path");
  std::string type = Str(source, "type");
  if (path.empty() || path[0] != '/') return BadRequest("hostPath path must be absolute");
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (type == "DirectoryOrCreate" && !exists) return MakeDirs(path);
  if (type == "FileOrCreate" && !exists) {
    RETURN_IF_ERROR(MakeDirs(fs::path(path).parent_path()));
    return WriteFileAtomically(path, "", 0644);
  }
  if (type == "Directory" && !(exists && S_ISDIR(st.st_mode))) {
    return BadRequest("hostPath type check failed: " + path + " is not a directory");
  }
  if (type == "File" && !(exists && S_ISREG(st.st_mode))) {
    return BadRequest("hostPath type check failed: " + path + " is not a file");
  }
  if (type == "Socket" && !(exists && S_ISSOCK(st.st_mode))) {
    return BadRequest("hostPath type check failed: " + path + " is not a socket");
  }
  if (!exists && !type.empty()) return BadRequest("hostPath " + path + " does not exist");
  return Status::Ok();
}

StatusOr<std::map<std::string, PreparedVolume>> PrepareVolumes(const json& pod,
                                                               const std::string& volumes_dir,
                                                               const PodRuntimeFacts& facts,
                                                               const ObjectGetter& get,
                                                               const PvcPathGetter& pvc_path) {
  std::map<std::string, PreparedVolume> out;
  const json& volumes = Field(Field(pod, "spec"), "volumes");
  if (!volumes.is_array()) return out;
  for (const json& v : volumes) {
    std::string name = Str(v, "name");
    auto prepared = PrepareOne(pod, v, volumes_dir + "/" + name, facts, get, pvc_path);
    if (!prepared.ok()) {
      return Status(prepared.status().code(),
                    "volume \"" + name + "\": " + prepared.status().message());
    }
    out[name] = std::move(*prepared);
  }
  return out;
}

void UnmountVolumes(const std::string& volumes_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(volumes_dir, ec)) {
    std::string dir = entry.path().string();
    if (IsMountPoint(dir)) ::umount2(dir.c_str(), MNT_DETACH);
  }
}

StatusOr<std::vector<MountSpec>> ContainerMounts(
    const json& container, const std::map<std::string, PreparedVolume>& vols) {
  std::vector<MountSpec> mounts;
  const json& list = Field(container, "volumeMounts");
  if (!list.is_array()) return mounts;
  for (const json& m : list) {
    std::string name = Str(m, "name");
    auto it = vols.find(name);
    if (it == vols.end()) return BadRequest("volumeMount \"" + name + "\": no such volume");
    MountSpec spec;
    spec.target = Str(m, "mountPath");
    const json& ro = Field(m, "readOnly");
    spec.read_only = it->second.read_only || (ro.is_boolean() && ro.get<bool>());
    spec.source = it->second.host_path;
    std::string sub = Str(m, "subPath");
    if (!sub.empty()) {
      RETURN_IF_ERROR(CheckItemPath(sub));
      spec.source += "/" + sub;
      // Kubernetes creates a missing subPath as a directory.
      if (!fs::exists(spec.source)) RETURN_IF_ERROR(MakeDirs(spec.source));
    }
    mounts.push_back(std::move(spec));
  }
  return mounts;
}

}  // namespace kennel::agent
