#include "base/status.h"

#include <gtest/gtest.h>

namespace kennel {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return BadRequest("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(Status, DefaultIsOk) { EXPECT_TRUE(Status().ok()); }

TEST(Status, CarriesCodeMessageAndCauses) {
  Status s = Invalid("bad", {{"FieldValueInvalid", "must be positive", "spec.replicas"}});
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.causes().size(), 1u);
  EXPECT_EQ(s.ToString(), "Invalid: bad; spec.replicas: must be positive");
}

TEST(StatusOr, AssignOrReturnPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), Code::kBadRequest);
}

TEST(StatusOrDeathTest, ValueOfErrorCrashesLoudly) {
  StatusOr<int> r = NotFound("x");
  EXPECT_DEATH((void)r.value(), "failed StatusOr");
}

}  // namespace
}  // namespace kennel
