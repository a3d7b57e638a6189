#include "base/time.h"

#include <cstdio>
#include <ctime>

namespace kennel {

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatRfc3339(int64_t unix_ns, TimePrecision precision) {
  // Floor division, so that times before the epoch keep a positive fraction.
  int64_t secs = unix_ns / 1'000'000'000;
  int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[48];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  switch (precision) {
    case TimePrecision::kSeconds:
      std::snprintf(buf + n, sizeof(buf) - n, "Z");
      break;
    case TimePrecision::kMicros:
      std::snprintf(buf + n, sizeof(buf) - n, ".%06lldZ", static_cast<long long>(nanos / 1000));
      break;
    case TimePrecision::kNanos:
      std::snprintf(buf + n, sizeof(buf) - n, ".%09lldZ", static_cast<long long>(nanos));
      break;
  }
  return buf;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t, TimePrecision precision) {
  return FormatRfc3339(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
      precision);
}

std::string NowRfc3339(TimePrecision precision) { return FormatRfc3339(WallNowNs(), precision); }

int64_t ParseRfc3339(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return 0;
  int64_t ns = static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
  if (*rest == '.') {
    int64_t frac = 0;
    int digits = 0;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, ++digits) {
      if (digits < 9) frac = frac * 10 + (*rest - '0');
    }
    if (digits == 0) return 0;
    for (; digits < 9; ++digits) frac *= 10;
    ns += frac;
  }
  if (*rest == 'Z' && rest[1] == '\0') return ns;
  // A numeric offset: "+02:00" is two hours ahead of UTC.
  int hours = 0, minutes = 0;
  char sign = *rest;
  if ((sign == '+' || sign == '-') && std::sscanf(rest + 1, "%2d:%2d", &hours, &minutes) == 2 &&
      std::string_view(rest).size() == 6) {
    int64_t offset = (hours * 3600LL + minutes * 60LL) * 1'000'000'000;
    return sign == '+' ? ns - offset : ns + offset;
  }
  return 0;
}

}  // namespace kennel
