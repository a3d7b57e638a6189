#include "agent/node_status.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

#include "base/testing/temp_dir.h"

namespace kennel::agent {
namespace {

namespace fs = std::filesystem;

int64_t FreeBytes(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return -1;
  return static_cast<int64_t>(vfs.f_bavail) * vfs.f_frsize;
}

class NodeStatusTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (mounted_) ::umount2(volumes_.c_str(), MNT_DETACH);
  }

  kennel::testing::TempDir temp_{"kennel-node-status-test"};
  const std::string dir_ = temp_.path();
  const std::string volumes_ = dir_ + "/volumes";
  bool mounted_ = false;
};

TEST_F(NodeStatusTest, LocalStorageIsTheDataDirsFreeSpaceWhileNoVolumeDirectoryExists) {
  MachineFacts facts = ReadMachineFacts(dir_, volumes_);
  EXPECT_GT(facts.ephemeral_bytes, 0);
  EXPECT_GT(facts.local_storage_free_bytes, 0);
  // Both read the same filesystem moments apart: equal up to other writers.
  EXPECT_NEAR(static_cast<double>(facts.local_storage_free_bytes),
              static_cast<double>(facts.ephemeral_free_bytes), 64.0 * (1 << 20));
}

TEST_F(NodeStatusTest, AFilesystemMountedOnTheVolumeDirectoryIsTheLocalStorage) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  ASSERT_TRUE(fs::create_directories(volumes_));
  ASSERT_EQ(::mount("tmpfs", volumes_.c_str(), "tmpfs", 0, "size=48m"), 0) << strerror(errno);
  mounted_ = true;

  MachineFacts facts = ReadMachineFacts(dir_, volumes_);
  EXPECT_EQ(facts.local_storage_free_bytes, FreeBytes(volumes_));
  EXPECT_EQ(facts.local_storage_free_bytes, 48LL << 20);
  EXPECT_NE(facts.ephemeral_free_bytes, facts.local_storage_free_bytes);

  json status = NodeStatus(facts, json(), 110, 10250);
  EXPECT_EQ(status["capacity"]["kennel.io/local-storage"], std::to_string(48LL << 20));
  EXPECT_EQ(status["allocatable"]["kennel.io/local-storage"], std::to_string(48LL << 20));
}

}  // namespace
}  // namespace kennel::agent
