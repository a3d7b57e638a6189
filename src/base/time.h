// Wall-clock time as the Kubernetes API writes it: RFC 3339 in UTC, to the
// second ("2026-01-02T03:04:05Z", most timestamps), the microsecond
// (MicroTime: a Lease's renewTime) or the nanosecond (CRI log records).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace kennel
