// Whole-file reads and crash-safe whole-file writes.
#pragma once

#include <string>

#include "base/status.h"

namespace kennel {

// Errors: kNotFound if the file cannot be opened.
StatusOr<std::string> ReadFile(const std::string& path);

// How far a write must survive: kMachineCrash flushes it to the disk before
// the rename (an fsync, a millisecond or two); kProcessCrash leaves it in the
// page cache, which a kill -9 of any process does not lose. The latter is for
// files about what a machine crash ends anyway (a running process's state).
enum class Survives { kMachineCrash, kProcessCrash };

// Writes contents to path atomically (temp file, rename) with the given
// mode: a reader sees the old file or the new one, never a torn one.
Status WriteFileAtomically(const std::string& path, const std::string& contents, int mode,
                           Survives survives = Survives::kMachineCrash);

}  // namespace kennel
