// The pod's volumes on this node: each one a directory (or a tmpfs) under the
// pod's directory, or a host path, ready to be mounted into its containers.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/pod_spec.h"
#include "agent/runtime.h"
#include "base/status.h"

namespace kennel::agent {

struct PreparedVolume {
  std::string host_path;   // what a container's volumeMount binds (a tmpfs for medium Memory)
  bool read_only = false;  // configMap, secret, downwardAPI, projected: always read-only
};

// Fetches a PersistentVolumeClaim's bound PersistentVolume's local path.
using PvcPathGetter =
    std::function<StatusOr<std::string>(const std::string& ns, const std::string& claim)>;

// Creates or refreshes every volume of the pod under volumes_dir/<name>:
// emptyDir (a directory; medium Memory a tmpfs mounted there, which
// UnmountVolumes undoes), hostPath (type checked and,
// for DirectoryOrCreate/FileOrCreate, created), configMap and secret (one
// file per key or per item, with defaultMode/mode), downwardAPI (fieldRef
// items), projected (its sources merged), persistentVolumeClaim (the bound
// volume's path). Files are written atomically so a refresh never shows a
// half-written file. A missing ConfigMap/Secret is an error unless optional.
// A hostPath source (of a pod volume or a PersistentVolume): its type's check,
// or the directory or file DirectoryOrCreate / FileOrCreate asks for.
Status PrepareHostPath(const json& source);

StatusOr<std::map<std::string, PreparedVolume>> PrepareVolumes(const json& pod,
                                                               const std::string& volumes_dir,
                                                               const PodRuntimeFacts& facts,
                                                               const ObjectGetter& get,
                                                               const PvcPathGetter& pvc_path);

// Unmounts what PrepareVolumes mounted under volumes_dir (memory emptyDirs).
void UnmountVolumes(const std::string& volumes_dir);

// The container's mounts: its volumeMounts (with subPath) resolved against
// the prepared volumes. A mount naming an unknown volume is an error.
StatusOr<std::vector<MountSpec>> ContainerMounts(const json& container,
                                                 const std::map<std::string, PreparedVolume>& vols);

}  // namespace kennel::agent
