#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace kennel {
namespace {

TEST(File, WriteThenReadRoundTripsWithTheMode) {
  char tmpl[] = "/tmp/kennel-file-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/f";
  ASSERT_TRUE(WriteFileAtomically(path, std::string("a\0b", 3), 0600).ok());
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, std::string("a\0b", 3));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(WriteFileAtomically(path, "new", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "new");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // Without the flush to disk, the write is as atomic and as visible.
  ASSERT_TRUE(WriteFileAtomically(path, "unsynced", 0640, Survives::kProcessCrash).ok());
  EXPECT_EQ(*ReadFile(path), "unsynced");
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST(File, ReadingAMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile("/nonexistent/kennel/file").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kennel
