#include "base/strings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kennel {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SplitCommaList, ItemsInOrderWithoutEmptyOnes) {
  EXPECT_THAT(SplitCommaList("a,b,,c,"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitCommaList("https://h:1"), ElementsAre("https://h:1"));
  EXPECT_THAT(SplitCommaList(""), IsEmpty());
  EXPECT_THAT(SplitCommaList(",,"), IsEmpty());
}

}  // namespace
}  // namespace kennel
