#include "agent/internal/ipam.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "agent/internal/sys.h"
#include "base/testing/temp_dir.h"

namespace kennel::agent::internal {
namespace {

class IpamTest : public ::testing::Test {
 protected:
  kennel::testing::TempDir temp_{"kennel-ipam"};
  const std::string& dir_ = temp_.path();
};

TEST(CidrTest, ParsesAndRefuses) {
  auto cidr = ParseCidr("10.244.1.0/24");
  ASSERT_TRUE(cidr.ok()) << cidr.status().ToString();
  EXPECT_EQ(FormatIpv4(cidr->network), "10.244.1.0");
  EXPECT_EQ(FormatIpv4(cidr->Gateway()), "10.244.1.1");
  EXPECT_EQ(FormatIpv4(cidr->Broadcast()), "10.244.1.255");
  EXPECT_FALSE(ParseCidr("10.244.1.0").ok());
  EXPECT_FALSE(ParseCidr("10.244.1.1/24").ok());  // host bits set
  EXPECT_FALSE(ParseCidr("10.244.1.0/33").ok());
  EXPECT_FALSE(ParseCidr("10.244.1.0/31").ok());  // no room for a pod
  EXPECT_FALSE(ParseCidr("nonsense/24").ok());
}

TEST_F(IpamTest, SkipsGatewayAndReusesThePodsLease) {
  auto cidr = *ParseCidr("10.250.0.0/24");
  auto a = AcquireLease(dir_, cidr, "uid-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, "10.250.0.2");
  auto b = AcquireLease(dir_, cidr, "uid-b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "10.250.0.3");
  // After an agent restart the pod keeps its address.
  auto again = AcquireLease(dir_, cidr, "uid-a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "10.250.0.2");
  std::ifstream lease(dir_ + "/10.250.0.3");
  std::string owner;
  lease >> owner;
  EXPECT_EQ(owner, "uid-b");
}

TEST_F(IpamTest, ExhaustsWithoutNetworkGatewayOrBroadcast) {
  auto cidr = *ParseCidr("10.250.0.0/30");  // .0 network, .1 gateway, .3 broadcast
  auto a = AcquireLease(dir_, cidr, "uid-a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "10.250.0.2");
  auto b = AcquireLease(dir_, cidr, "uid-b");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Code::kUnavailable);
  ASSERT_TRUE(ReleaseLeases(dir_, "uid-a").ok());
  ASSERT_TRUE(ReleaseLeases(dir_, "uid-a").ok());  // idempotent
  b = AcquireLease(dir_, cidr, "uid-b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "10.250.0.2");
  auto found = FindLease(dir_, cidr, "uid-b");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->value_or(""), "10.250.0.2");
  // Only the lease is there: no temporary file was left behind.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    names.push_back(e.path().filename());
  }
  EXPECT_EQ(names, std::vector<std::string>{"10.250.0.2"});
}

TEST_F(IpamTest, AStartReleasesLeasesOfPodsItDoesNotKnowAndEmptyOnes) {
  auto cidr = *ParseCidr("10.250.0.0/24");
  ASSERT_TRUE(AcquireLease(dir_, cidr, "uid-a").ok());
  ASSERT_TRUE(AcquireLease(dir_, cidr, "uid-b").ok());
  // What a machine crash may leave of a lease that was never fsynced.
  std::ofstream(dir_ + "/10.250.0.9").flush();
  ASSERT_TRUE(ReleaseLeasesExcept(dir_, {"uid-a"}).ok());
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    names.push_back(e.path().filename());
  }
  EXPECT_EQ(names, std::vector<std::string>{"10.250.0.2"});
  // The freed addresses are leased again, lowest first.
  auto c = AcquireLease(dir_, cidr, "uid-c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, "10.250.0.3");
}

}  // namespace
}  // namespace kennel::agent::internal
