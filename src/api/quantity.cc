#include "api/quantity.h"

#include <limits>
#include <string>

namespace kennel::api {
namespace {

constexpr char kFormatWrong[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kNumericWrong[] = "unable to parse quantity's numeric part";
constexpr char kSuffixWrong[] = "unable to parse quantity's suffix";

// The quantity as sign × digits × 10^exp10 × 2^exp2. Only 19 significant digits
// are kept (they fit in 64 bits); `inexact` records that a dropped digit was
// non-zero, which can only push the magnitude up and so forces rounding up.
struct Decomposed {
  bool negative = false;
  uint64_t digits = 0;
  int64_t exp10 = 0;
  int exp2 = 0;
  bool inexact = false;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status ParseNumber(std::string_view num, Decomposed& d) {
  bool seen_dot = false;
  bool seen_digit = false;
  int kept = 0;
  for (char c : num) {
    if (c == '.') {
      if (seen_dot) return BadRequest(kNumericWrong);
      seen_dot = true;
      continue;
    }
    seen_digit = true;
    int digit = c - '0';
    if (kept == 0 && digit == 0) {
      // A leading zero carries no digit, only a place in the fraction.
      if (seen_dot) --d.exp10;
      continue;
    }
    if (kept < 19) {
      d.digits = d.digits * 10 + static_cast<uint64_t>(digit);
      ++kept;
      if (seen_dot) --d.exp10;
    } else {
      // Dropping a digit before the dot scales the kept ones by ten; after the
      // dot it only loses precision.
      if (!seen_dot) ++d.exp10;
      if (digit != 0) d.inexact = true;
    }
  }
  if (!seen_digit) return BadRequest(kNumericWrong);
  return Status::Ok();
}

bool ParseExponent(std::string_view s, int64_t& out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 6) return false;
  int64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = neg ? -v : v;
  return true;
}

Status ParseSuffix(std::string_view suffix, Decomposed& d) {
  struct Known {
    std::string_view text;
    int exp10;
    int exp2;
  };
  static constexpr Known kKnown[] = {
      {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},
      {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
      {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
  };
  for (const Known& k : kKnown) {
    if (suffix == k.text) {
      d.exp10 += k.exp10;
      d.exp2 = k.exp2;
      return Status::Ok();
    }
  }
  int64_t exp = 0;
  if ((suffix[0] == 'e' || suffix[0] == 'E') && ParseExponent(suffix.substr(1), exp)) {
    d.exp10 += exp;
    return Status::Ok();
  }
  return BadRequest(kSuffixWrong);
}

StatusOr<Decomposed> Decompose(std::string_view s) {
  Decomposed d;
  if (s.empty()) return BadRequest(kFormatWrong);
  if (s[0] == '+' || s[0] == '-') {
    d.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t end = 0;
  while (end < s.size() && (IsDigit(s[end]) || s[end] == '.')) ++end;
  if (end == 0) return BadRequest(kFormatWrong);
  RETURN_IF_ERROR(ParseNumber(s.substr(0, end), d));
  RETURN_IF_ERROR(ParseSuffix(s.substr(end), d));
  return d;
}

// |value| × 10^extra10, rounded up to an integer, with the sign applied.
StatusOr<int64_t> ToInteger(const Decomposed& d, int extra10) {
  constexpr unsigned __int128 kMax = std::numeric_limits<int64_t>::max();
  const Status too_large = BadRequest("quantity is too large");
  if (d.digits == 0 && !d.inexact) return int64_t{0};
  // digits < 2^64 and exp2 <= 60, so this product always fits in 128 bits.
  unsigned __int128 v = static_cast<unsigned __int128>(d.digits) << d.exp2;
  int64_t exp10 = d.exp10 + extra10;
  bool round_up = d.inexact;
  if (exp10 >= 0) {
    // An inexact value kept 19 digits, so any scaling here overflows anyway.
    for (int64_t i = 0; i < exp10; ++i) {
      if (v > kMax) return too_large;
      v *= 10;
    }
  } else if (exp10 < -38) {
    // Below 10^-38 of a unit: 0 < |value| < 1.
    v = 0;
    round_up = true;
  } else {
    unsigned __int128 divisor = 1;
    for (int64_t i = 0; i < -exp10; ++i) divisor *= 10;
    if (v % divisor != 0) round_up = true;
    v /= divisor;
  }
  if (round_up) ++v;
  if (v > kMax) return too_large;
  int64_t out = static_cast<int64_t>(v);
  return d.negative ? -out : out;
}

}  // namespace

StatusOr<int64_t> ParseQuantityMilli(std::string_view s) {
  ASSIGN_OR_RETURN(Decomposed d, Decompose(s));
  return ToInteger(d, 3);
}

StatusOr<int64_t> ParseQuantity(std::string_view s) {
  ASSIGN_OR_RETURN(Decomposed d, Decompose(s));
  return ToInteger(d, 0);
}

namespace {

std::optional<int64_t> FromJson(const nlohmann::json& v, int scale) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number()) {
    text = v.dump();
  } else {
    return std::nullopt;
  }
  auto d = Decompose(text);
  if (!d.ok()) return std::nullopt;
  auto out = ToInteger(*d, scale);
  if (!out.ok()) return std::nullopt;
  return *out;
}

}  // namespace

std::optional<int64_t> QuantityFromJson(const nlohmann::json& v) { return FromJson(v, 0); }
std::optional<int64_t> QuantityMilliFromJson(const nlohmann::json& v) { return FromJson(v, 3); }

}  // namespace kennel::api
