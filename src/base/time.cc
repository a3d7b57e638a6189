#include "base/time.h"

#include <cstdio>
#include <ctime>
#include <limits>

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

StatusOr<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "\"" + string.
  std::string quoted = "\"";
  quoted.append(text);
  quoted += '"';
  auto invalid = [&] { return BadRequest("invalid duration " + quoted); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return invalid();
  struct Unit {
    std::string_view name;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {
      {"ns", 1},
      {"us", 1'000},
      {"\xc2\xb5s", 1'000},  // µs (micro sign)
      {"\xce\xbcs", 1'000},  // μs (Greek mu)
      {"ms", 1'000'000},
      {"s", 1'000'000'000},
      {"m", 60'000'000'000},
      {"h", 3'600'000'000'000},
  };
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (!s.empty()) {
    if (!is_digit(s[0]) && s[0] != '.') return invalid();
    // The integer part, then an optional fraction (Go allows "1.", ".5").
    int64_t whole = 0;
    size_t i = 0;
    bool digits = false;
    for (; i < s.size() && is_digit(s[i]); ++i, digits = true) {
      if (whole > (kMax - (s[i] - '0')) / 10) return invalid();
      whole = whole * 10 + (s[i] - '0');
    }
    int64_t frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      for (++i; i < s.size() && is_digit(s[i]); ++i, digits = true) {
        if (scale < 1'000'000'000'000'000LL) {  // digits past 1e-18 cannot matter
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!digits) return invalid();
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    const std::string_view unit_name = s.substr(i, u - i);
    if (unit_name.empty()) return BadRequest("missing unit in duration " + quoted);
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (candidate.name == unit_name) unit = &candidate;
    }
    if (unit == nullptr) {
      return BadRequest("unknown unit \"" + std::string(unit_name) + "\" in duration " + quoted);
    }
    if (whole > kMax / unit->ns) return invalid();
    int64_t value = whole * unit->ns;
    // frac/scale of a unit, without overflowing: scale ≤ 1e18 and unit ≤ 3.6e12.
    value += static_cast<int64_t>(static_cast<long double>(frac) * unit->ns / scale);
    if (value < 0 || total > kMax - value) return invalid();
    total += value;
    s.remove_prefix(u);
  }
  return std::chrono::nanoseconds(negative ? -total : total);
}

}  // namespace kennel
