// Whole-file reads and crash-safe whole-file writes.
#pragma once

#include <string>

#include "base/status.h"

namespace kennel {

// Errors: kNotFound if the file cannot be opened.
StatusOr<std::string> ReadFile(const std::string& path);

// Writes contents to path atomically (temp file, fsync, rename) with the given
// mode: a reader sees the old file or the new one, never a torn one.
Status WriteFileAtomically(const std::string& path, const std::string& contents, int mode);

}  // namespace kennel
