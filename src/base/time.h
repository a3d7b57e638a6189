// Wall-clock time as the Kubernetes API writes it: RFC 3339 in UTC, to the
// second ("2026-01-02T03:04:05Z", most timestamps), the microsecond
// (MicroTime: a Lease's renewTime) or the nanosecond (CRI log records).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kennel {

enum class TimePrecision { kSeconds, kMicros, kNanos };

// Nanoseconds since the Unix epoch, now.
int64_t WallNowNs();

std::string FormatRfc3339(int64_t unix_ns, TimePrecision precision = TimePrecision::kSeconds);
std::string FormatRfc3339(std::chrono::system_clock::time_point t,
                          TimePrecision precision = TimePrecision::kSeconds);
std::string NowRfc3339(TimePrecision precision = TimePrecision::kSeconds);

// "2026-01-02T03:04:05Z", with a fraction of up to 9 digits and "Z" or a
// "+hh:mm"/"-hh:mm" offset → nanoseconds since the epoch; 0 when the text is
// not such a time.
int64_t ParseRfc3339(std::string_view text);

// A duration as Go's time.ParseDuration reads it, and so as Kubernetes'
// flags and config files write them: a sequence of decimal numbers with
// units ns, us (µs), ms, s, m, h — "15s", "500ms", "1m30s", "1.5h" — or "0";
// a leading sign is allowed. Errors: kBadRequest with Go's messages
// ("missing unit in duration \"15\"", "unknown unit …", "invalid duration …").
StatusOr<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

}  // namespace kennel
