// The container log in the CRI format that kubelet and `kubectl logs` read:
//
//   2024-01-01T00:00:00.123456789Z stdout F hello
//
// one record per line of output; a line longer than kMaxRecord is split into
// records tagged P (partial) followed by a last one tagged F (full). The file
// is rotated to "<path>.1" (replacing it) once it would exceed max_bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/internal/sys.h"
#include "base/status.h"

namespace kennel::agent::internal {

class CriLogWriter {
 public:
  enum Stream { kStdout = 0, kStderr = 1 };
  static constexpr size_t kMaxRecord = 16 * 1024;

  CriLogWriter(std::string path, int64_t max_bytes);

  // Opens (creating, appending) the log; the directory must exist.
  Status Open();

  // Feeds output read from a stream: complete lines are written at once, the
  // unterminated rest waits for more (or is split once it reaches kMaxRecord).
  void Append(Stream stream, std::string_view data);

  // The stream ended: a pending unterminated line is written as a full record.
  void Finish(Stream stream);

  // For tests: where timestamps come from (default: the wall clock).
  void SetClockForTest(std::function<int64_t()> clock) { clock_ = std::move(clock); }

 private:
  void WriteRecord(Stream stream, std::string_view content, bool partial);
  void RotateIfNeeded(size_t next_record);

  std::string path_;
  int64_t max_bytes_;
  UniqueFd fd_;
  int64_t size_ = 0;
  std::string pending_[2];
  std::function<int64_t()> clock_;
};

}  // namespace kennel::agent::internal
