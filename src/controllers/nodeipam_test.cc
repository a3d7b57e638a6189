#include "controllers/nodeipam.h"

#include <gtest/gtest.h>

namespace kennel::controllers {
namespace {

TEST(NthBlockTest, CutsTheClusterCidrInOrder) {
  EXPECT_EQ(NthBlock("10.244.0.0/16", 24, 0).value(), "10.244.0.0/24");
  EXPECT_EQ(NthBlock("10.244.0.0/16", 24, 3).value(), "10.244.3.0/24");
  EXPECT_EQ(NthBlock("10.244.0.0/16", 24, 255).value(), "10.244.255.0/24");
  EXPECT_EQ(NthBlock("10.0.0.0/8", 16, 2).value(), "10.2.0.0/16");
  EXPECT_EQ(NthBlock("10.244.7.9/16", 24, 1).value(), "10.244.1.0/24");  // host bits ignored
}

TEST(NthBlockTest, RefusesWhatDoesNotFit) {
  EXPECT_EQ(NthBlock("10.244.0.0/16", 24, 256).status().code(), Code::kBadRequest);
  EXPECT_EQ(NthBlock("10.244.0.0/16", 8, 0).status().code(), Code::kBadRequest);
  EXPECT_EQ(NthBlock("10.244.0.0", 24, 0).status().code(), Code::kBadRequest);
  EXPECT_EQ(NthBlock("banana/16", 24, 0).status().code(), Code::kBadRequest);
  EXPECT_EQ(NthBlock("10.244.0.0/40", 24, 0).status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace kennel::controllers
