// The node's side of kennel.io/local-path volumes (see
// controllers/volume_binder.h for the provisioner).
//
// Layout: every local-path volume of a node is the directory
// <volume root>/<pv name>, where the volume root is <agent data dir>/volumes
// (absolute). The agent publishes it on its Node as the annotation
// kennel.io/volume-root at registration; the provisioner writes paths under
// it, so a path is always interpreted on the node that owns it.
//
// - EnsureLocalPathDirectory: when a pod mounts such a volume, its missing
//   directory is created, mode 0777 (as rancher's local-path-provisioner).
// - LocalPathReclaimer: an informer on PersistentVolumes labelled
//   kennel.io/local-path-node=<this node>; one that is Released with reclaim
//   policy Delete, provisioned by kennel.io/local-path and pinned to this node
//   has its directory removed and then its object deleted (uid
//   precondition). Only a path exactly <volume root>/<pv name> is ever
//   touched, whatever the object says. Failures retry with the work queue's
//   back-off, and everything is looked at again every 30 s.
//
// Threads: the informer's and one worker; destruction stops both.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "client/client.h"

namespace kennel::agent {

// <data_dir>/volumes, made absolute.
std::string LocalPathVolumeRoot(const std::string& data_dir);

// For a PersistentVolume provisioned by kennel.io/local-path whose path is
// <volume_root>/<its name>: creates that directory (0777) if missing. Other
// volumes: nothing.
Status EnsureLocalPathDirectory(const nlohmann::json& pv, const std::string& volume_root);

class LocalPathReclaimer {
 public:
  // client must outlive the reclaimer.
  static std::unique_ptr<LocalPathReclaimer> Start(client::Client* client, std::string node_name,
                                                   std::string volume_root);
  virtual ~LocalPathReclaimer() = default;
};

}  // namespace kennel::agent
