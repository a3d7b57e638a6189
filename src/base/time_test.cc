#include "base/time.h"

#include <gtest/gtest.h>

namespace kennel {
namespace {

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

}  // namespace
}  // namespace kennel
