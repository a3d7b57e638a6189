#include "base/time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace kennel {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kT = 1704067200123456789;  // 2024-01-01T00:00:00.123456789Z

TEST(TimeTest, FormatsEachPrecision) {
  EXPECT_EQ(FormatRfc3339(kT), "2024-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(kT, TimePrecision::kMicros), "2024-01-01T00:00:00.123456Z");
  EXPECT_EQ(FormatRfc3339(kT, TimePrecision::kNanos), "2024-01-01T00:00:00.123456789Z");
  EXPECT_EQ(FormatRfc3339(1704067200000000007, TimePrecision::kNanos),
            "2024-01-01T00:00:00.000000007Z");
  EXPECT_EQ(FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(86400))),
            "1970-01-02T00:00:00Z");
}

TEST(TimeTest, ParsesWhatItFormats) {
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00Z"), 1704067200000000000);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.123456789Z"), kT);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.5Z"), 1704067200500000000);
  EXPECT_EQ(ParseRfc3339("2024-01-01T02:00:00+02:00"), 1704067200000000000);
  EXPECT_EQ(ParseRfc3339("2023-12-31T23:30:00-00:30"), 1704067200000000000);
  for (auto p : {TimePrecision::kSeconds, TimePrecision::kMicros, TimePrecision::kNanos}) {
    int64_t back = ParseRfc3339(FormatRfc3339(kT, p));
    EXPECT_LE(back, kT);
    EXPECT_GT(back, kT - 1'000'000'000);
  }
}

TEST(TimeTest, RefusesWhatIsNotATime) {
  EXPECT_EQ(ParseRfc3339(""), 0);
  EXPECT_EQ(ParseRfc3339("yesterday"), 0);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00"), 0);  // no zone
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00+2"), 0);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.Z"), 0);
}

TEST(TimeTest, NowIsNow) {
  int64_t before = WallNowNs();
  int64_t parsed = ParseRfc3339(NowRfc3339(TimePrecision::kNanos));
  EXPECT_GE(parsed, before);
  EXPECT_LE(parsed, WallNowNs());
}

TEST(GoDuration, ParsesWhatTimeParseDurationDoes) {
  auto ms = [](std::string_view text) {
    auto d = ParseGoDuration(text);
    EXPECT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    return d.ok() ? std::chrono::duration_cast<milliseconds>(*d).count() : -1;
  };
  EXPECT_EQ(ms("15s"), 15'000);
  EXPECT_EQ(ms("500ms"), 500);
  EXPECT_EQ(ms("1m30s"), 90'000);
  EXPECT_EQ(ms("1.5h"), 5'400'000);
  EXPECT_EQ(ms("2.25s"), 2'250);
  EXPECT_EQ(ms(".5s"), 500);
  EXPECT_EQ(ms("0"), 0);
  EXPECT_EQ(ms("+3s"), 3'000);
  EXPECT_EQ(ms("-3s"), -3'000);
  EXPECT_EQ(ParseGoDuration("1500us")->count(), 1'500'000);
  EXPECT_EQ(ParseGoDuration("1500\xc2\xb5s")->count(), 1'500'000);
  EXPECT_EQ(ParseGoDuration("7ns")->count(), 7);
  auto error = [](std::string_view text) {
    auto d = ParseGoDuration(text);
    EXPECT_FALSE(d.ok()) << text;
    return d.ok() ? std::string() : d.status().message();
  };
  EXPECT_EQ(error("15"), "missing unit in duration \"15\"");
  EXPECT_EQ(error("15x"), "unknown unit \"x\" in duration \"15x\"");
  EXPECT_EQ(error(""), "invalid duration \"\"");
  EXPECT_EQ(error("s"), "invalid duration \"s\"");
  EXPECT_EQ(error("1.s5"), "missing unit in duration \"1.s5\"");
  EXPECT_EQ(error(". s"), "invalid duration \". s\"");
  EXPECT_EQ(error("9999999999999h"), "invalid duration \"9999999999999h\"");
}

}  // namespace
}  // namespace kennel
