#include "api/names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace kennel::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(QualifiedName, AcceptsPlainAndPrefixedNames) {
  EXPECT_TRUE(IsQualifiedName("app"));
  EXPECT_TRUE(IsQualifiedName("MyName"));
  EXPECT_TRUE(IsQualifiedName("my.name_x-1"));
  EXPECT_TRUE(IsQualifiedName("kubernetes.io/metadata.name"));
  EXPECT_TRUE(IsQualifiedName("a"));
  EXPECT_TRUE(IsQualifiedName(std::string(63, 'a')));
  EXPECT_TRUE(IsQualifiedName(std::string(253, 'a').replace(60, 1, ".") + "/x"));
}

TEST(QualifiedName, RejectsBadNamePart) {
  EXPECT_FALSE(IsQualifiedName(""));
  EXPECT_FALSE(IsQualifiedName("-app"));
  EXPECT_FALSE(IsQualifiedName("app-"));
  EXPECT_FALSE(IsQualifiedName("a b"));
  EXPECT_FALSE(IsQualifiedName(std::string(64, 'a')));
  EXPECT_FALSE(IsQualifiedName("example.com/"));
}

TEST(QualifiedName, RejectsBadPrefix) {
  EXPECT_FALSE(IsQualifiedName("/name"));
  EXPECT_FALSE(IsQualifiedName("Example.com/name"));
  EXPECT_FALSE(IsQualifiedName("a/b/c"));
}

TEST(QualifiedName, MessagesUseKubernetesWording) {
  EXPECT_THAT(ValidateQualifiedName("/x"), ElementsAre("prefix part must be non-empty"));
  EXPECT_THAT(
      ValidateQualifiedName("-x"),
      ElementsAre("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                  "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                  "or '123-abc', regex used for validation is "
                  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
  EXPECT_THAT(ValidateQualifiedName(std::string(64, 'a')),
              ElementsAre("name part must be no more than 63 characters"));
  auto prefix_errs = ValidateQualifiedName("Bad_Prefix/x");
  ASSERT_EQ(prefix_errs.size(), 1u);
  EXPECT_THAT(prefix_errs[0], HasSubstr("prefix part a lowercase RFC 1123 subdomain"));
  auto three = ValidateQualifiedName("a/b/c");
  ASSERT_EQ(three.size(), 1u);
  EXPECT_THAT(three[0], HasSubstr("with an optional DNS subdomain prefix and '/'"));
}

TEST(LabelValue, AcceptsEmptyAndPatternValues) {
  EXPECT_TRUE(IsValidLabelValue(""));
  EXPECT_TRUE(IsValidLabelValue("web"));
  EXPECT_TRUE(IsValidLabelValue("My_Value.1"));
  EXPECT_TRUE(IsValidLabelValue(std::string(63, 'z')));
}

TEST(LabelValue, RejectsBadValues) {
  EXPECT_FALSE(IsValidLabelValue("-web"));
  EXPECT_FALSE(IsValidLabelValue("a/b"));
  EXPECT_FALSE(IsValidLabelValue("a b"));
  EXPECT_THAT(ValidateLabelValue(std::string(64, 'z')),
              ElementsAre("must be no more than 63 characters"));
  auto errs = ValidateLabelValue("-x");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], HasSubstr("a valid label must be an empty string or consist of"));
  EXPECT_THAT(errs[0], HasSubstr("'MyValue',  or 'my_value',  or '12345'"));
}

TEST(Dns1123Label, AcceptsAndRejects) {
  EXPECT_TRUE(IsDns1123Label("my-name"));
  EXPECT_TRUE(IsDns1123Label("123-abc"));
  EXPECT_TRUE(IsDns1123Label(std::string(63, 'a')));
  EXPECT_FALSE(IsDns1123Label(""));
  EXPECT_FALSE(IsDns1123Label("My-name"));
  EXPECT_FALSE(IsDns1123Label("-a"));
  EXPECT_FALSE(IsDns1123Label("a_b"));
  EXPECT_FALSE(IsDns1123Label(std::string(64, 'a')));
}

TEST(Dns1123Label, MessagesUseKubernetesWording) {
  EXPECT_THAT(ValidateDns1123Label("my-name"), IsEmpty());
  EXPECT_THAT(ValidateDns1123Label("My-name"),
              ElementsAre("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                          "characters or '-', and must start and end with an alphanumeric "
                          "character (e.g. 'my-name',  or '123-abc', regex used for validation "
                          "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
  EXPECT_THAT(ValidateDns1123Label("a.b"), ElementsAre("must not contain dots"));
  EXPECT_THAT(ValidateDns1123Label(std::string(64, 'a')),
              ElementsAre("must be no more than 63 characters"));
}

TEST(Dns1123Subdomain, AcceptsAndRejects) {
  EXPECT_TRUE(IsDns1123Subdomain("example.com"));
  EXPECT_TRUE(IsDns1123Subdomain("web-0"));
  EXPECT_FALSE(IsDns1123Subdomain(""));
  EXPECT_FALSE(IsDns1123Subdomain("a..b"));
  EXPECT_FALSE(IsDns1123Subdomain(".a"));
  EXPECT_FALSE(IsDns1123Subdomain("a."));
  EXPECT_FALSE(IsDns1123Subdomain("Web"));
  std::string long_name(254, 'a');
  EXPECT_THAT(ValidateDns1123Subdomain(long_name),
              ElementsAre("must be no more than 253 characters"));
  auto errs = ValidateDns1123Subdomain("Web");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], HasSubstr("a lowercase RFC 1123 subdomain must consist of"));
  EXPECT_THAT(errs[0], HasSubstr("(e.g. 'example.com', regex used for validation is"));
}

TEST(Dns1035Label, MustStartWithLetter) {
  EXPECT_TRUE(IsDns1035Label("my-svc"));
  EXPECT_FALSE(IsDns1035Label("1svc"));
  EXPECT_FALSE(IsDns1035Label("svc-"));
  EXPECT_FALSE(IsDns1035Label(""));
  auto errs = ValidateDns1035Label("1svc");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], HasSubstr("a DNS-1035 label must consist of lower case alphanumeric"));
}

}  // namespace
}  // namespace kennel::api
