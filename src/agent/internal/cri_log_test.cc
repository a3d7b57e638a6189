#include "agent/internal/cri_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/internal/sys.h"

namespace kennel::agent::internal {
namespace {

class CriLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-crilog-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/c.log";
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(dir_).ok()); }

  static std::vector<std::string> Lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
  }

  static int64_t FixedClock() { return 1704067200123456789; }  // 2024-01-01T00:00:00.123456789Z

  std::string dir_;
  std::string path_;
};

TEST_F(CriLogTest, WritesCompleteLinesAndHoldsBackTheRest) {
  CriLogWriter log(path_, 0);
  log.SetClockForTest(FixedClock);
  ASSERT_TRUE(log.Open().ok());
  log.Append(CriLogWriter::kStdout, "one\ntw");
  log.Append(CriLogWriter::kStderr, "err\n");
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{
                              "2024-01-01T00:00:00.123456789Z stdout F one",
                              "2024-01-01T00:00:00.123456789Z stderr F err",
                          }));
  log.Append(CriLogWriter::kStdout, "o\n\nthree");
  log.Finish(CriLogWriter::kStdout);
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{
                              "2024-01-01T00:00:00.123456789Z stdout F one",
                              "2024-01-01T00:00:00.123456789Z stderr F err",
                              "2024-01-01T00:00:00.123456789Z stdout F two",
                              "2024-01-01T00:00:00.123456789Z stdout F ",
                              "2024-01-01T00:00:00.123456789Z stdout F three",
                          }));
}

TEST_F(CriLogTest, SplitsLongLinesIntoPartialRecords) {
  CriLogWriter log(path_, 0);
  log.SetClockForTest(FixedClock);
  ASSERT_TRUE(log.Open().ok());
  const size_t max = CriLogWriter::kMaxRecord;
  log.Append(CriLogWriter::kStdout, std::string(2 * max + 10, 'x') + "\n");
  // Without a newline, a full record's worth is written as soon as it is there.
  log.Append(CriLogWriter::kStderr, std::string(max + 5, 'y'));
  auto lines = Lines(path_);
  ASSERT_EQ(lines.size(), 4u);
  const std::string ts = "2024-01-01T00:00:00.123456789Z ";
  EXPECT_EQ(lines[0], ts + "stdout P " + std::string(max, 'x'));
  EXPECT_EQ(lines[1], ts + "stdout P " + std::string(max, 'x'));
  EXPECT_EQ(lines[2], ts + "stdout F " + std::string(10, 'x'));
  EXPECT_EQ(lines[3], ts + "stderr P " + std::string(max, 'y'));
  log.Finish(CriLogWriter::kStderr);
  lines = Lines(path_);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4], ts + "stderr F yyyyy");
}

TEST_F(CriLogTest, AppendsToAnExistingLog) {
  {
    std::ofstream out(path_);
    out << "2023-01-01T00:00:00.000000000Z stdout F earlier\n";
  }
  CriLogWriter log(path_, 0);
  log.SetClockForTest(FixedClock);
  ASSERT_TRUE(log.Open().ok());
  log.Append(CriLogWriter::kStdout, "later\n");
  auto lines = Lines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "2024-01-01T00:00:00.123456789Z stdout F later");
}

TEST_F(CriLogTest, RotatesToDotOneBeyondMaxBytes) {
  // Each record is 31 (timestamp) + 9 (" stdout F") + 4 ("NNN\n") = 44 bytes... give
  // or take the digits; three of them fit in 150 bytes, four do not.
  CriLogWriter log(path_, 150);
  log.SetClockForTest(FixedClock);
  ASSERT_TRUE(log.Open().ok());
  for (int i = 100; i < 110; ++i) log.Append(CriLogWriter::kStdout, std::to_string(i) + "\n");

  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_LE(st.st_size, 150);
  ASSERT_EQ(::stat((path_ + ".1").c_str(), &st), 0);
  EXPECT_LE(st.st_size, 150);
  auto current = Lines(path_);
  auto rotated = Lines(path_ + ".1");
  ASSERT_FALSE(current.empty());
  ASSERT_FALSE(rotated.empty());
  // The newest lines are in the current file, the ones just before in .1,
  // with nothing lost in between; older rotations were replaced.
  EXPECT_NE(current.back().find("stdout F 109"), std::string::npos);
  std::vector<std::string> all = rotated;
  all.insert(all.end(), current.begin(), current.end());
  for (size_t i = 1; i < all.size(); ++i) {
    int prev = std::stoi(all[i - 1].substr(all[i - 1].size() - 3));
    int cur = std::stoi(all[i].substr(all[i].size() - 3));
    EXPECT_EQ(cur, prev + 1);
  }
  EXPECT_LT(all.size(), 10u);
}

}  // namespace
}  // namespace kennel::agent::internal
