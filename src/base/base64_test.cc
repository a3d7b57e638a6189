#include "base/base64.h"

#include <gtest/gtest.h>

namespace kennel {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodeRoundTripsBinary) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  auto decoded = Base64Decode(Base64Encode(bytes));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64, DecodeAcceptsUrlSafeAndUnpadded) {
  EXPECT_EQ(*Base64Decode("Zm9vYg"), "foob");
  EXPECT_EQ(*Base64Decode("-_8="), std::string("\xfb\xff", 2));
}

TEST(Base64, DecodeRejectsGarbage) {
  EXPECT_EQ(Base64Decode("Zm9v!").status().code(), Code::kBadRequest);
  EXPECT_EQ(Base64Decode("Zm9vY").status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace kennel
