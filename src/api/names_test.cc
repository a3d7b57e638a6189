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

TEST(Messages, MaxLenAndInclusiveRange) {
  EXPECT_EQ(MaxLenError(15), "must be no more than 15 characters");
  EXPECT_EQ(InclusiveRangeError(1, 65535), "must be between 1 and 65535, inclusive");
  EXPECT_EQ(InclusiveRangeError(-5, 2147483647), "must be between -5 and 2147483647, inclusive");
}

TEST(ConfigMapKey, AcceptsAndRejects) {
  for (const char* good : {"a", "good", "good-good", "still.good", ".so.is.this", "THIS_IS_GOOD",
                           "so_is_this_17", "1", "a..b"}) {
    EXPECT_TRUE(IsConfigMapKey(good)) << good;
  }
  EXPECT_TRUE(IsConfigMapKey(std::string(253, 'k')));
  for (const char* bad : {"", ".", "..", "..bad", "b*d", "bad!&bad", "a/b", "a b"}) {
    EXPECT_FALSE(IsConfigMapKey(bad)) << bad;
  }
  EXPECT_FALSE(IsConfigMapKey(std::string(254, 'k')));
}

TEST(ConfigMapKey, MessagesUseKubernetesWording) {
  const std::string regex_err =
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
      "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
      "'[-._a-zA-Z0-9]+')";
  EXPECT_THAT(ValidateConfigMapKey("b*d"), ElementsAre(regex_err));
  EXPECT_THAT(ValidateConfigMapKey(""), ElementsAre(regex_err));
  EXPECT_THAT(ValidateConfigMapKey("."), ElementsAre("must not be '.'"));
  EXPECT_THAT(ValidateConfigMapKey(".."), ElementsAre("must not be '..'"));
  EXPECT_THAT(ValidateConfigMapKey("..x"), ElementsAre("must not start with '..'"));
  EXPECT_THAT(ValidateConfigMapKey("..x*"), ElementsAre(regex_err, "must not start with '..'"));
  EXPECT_THAT(ValidateConfigMapKey(std::string(254, 'k')),
              ElementsAre("must be no more than 253 characters"));
}

TEST(EnvVarName, AcceptsAndRejects) {
  for (const char* good : {"a", "A", "ab", "aBc", "A1", "A_B", "a-b", "a.b", ".a", "_a", "-1-",
                           "my.env-name", "MY_ENV.NAME", "MyEnvName1"}) {
    EXPECT_TRUE(IsEnvVarName(good)) << good;
  }
  EXPECT_TRUE(IsEnvVarName(std::string(300, 'E')));  // No length limit.
  for (const char* bad : {"", "1", "123", "1a", "a,b", "a@b", "a b", ".", "..", "..a"}) {
    EXPECT_FALSE(IsEnvVarName(bad)) << bad;
  }
}

TEST(EnvVarName, MessagesUseKubernetesWording) {
  const std::string regex_err =
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
      "or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or "
      "'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
  EXPECT_THAT(ValidateEnvVarName("1a"), ElementsAre(regex_err));
  EXPECT_THAT(ValidateEnvVarName(""), ElementsAre(regex_err));
  EXPECT_THAT(ValidateEnvVarName("."), ElementsAre("must not be '.'"));
  EXPECT_THAT(ValidateEnvVarName(".."), ElementsAre("must not be '..'"));
  EXPECT_THAT(ValidateEnvVarName("..a"), ElementsAre("must not start with '..'"));
  EXPECT_THAT(ValidateEnvVarName("..a b"), ElementsAre(regex_err, "must not start with '..'"));
}

TEST(PortName, AcceptsAndRejects) {
  for (const char* good :
       {"telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2-c-3", "fifteen-chars-x"}) {
    EXPECT_TRUE(IsValidPortName(good)) << good;
  }
  for (const char* bad :
       {"", "-", "-a", "a-", "a--b", "a b", "a.b", "1", "123", "ABC", "Http", "sixteen-chars-xx"}) {
    EXPECT_FALSE(IsValidPortName(bad)) << bad;
  }
}

TEST(PortName, MessagesUseKubernetesWording) {
  EXPECT_THAT(ValidatePortName("sixteen-chars-xx"),
              ElementsAre("must be no more than 15 characters"));
  EXPECT_THAT(
      ValidatePortName("Http"),
      ElementsAre("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"));
  EXPECT_THAT(ValidatePortName("123"), ElementsAre("must contain at least one letter (a-z)"));
  EXPECT_THAT(ValidatePortName("a--b"), ElementsAre("must not contain consecutive hyphens"));
  EXPECT_THAT(ValidatePortName("a-"), ElementsAre("must not begin or end with a hyphen"));
  EXPECT_THAT(ValidatePortName(""),
              ElementsAre("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                          "must contain at least one letter (a-z)"));
  EXPECT_THAT(ValidatePortName("--"), ElementsAre("must contain at least one letter (a-z)",
                                                  "must not contain consecutive hyphens",
                                                  "must not begin or end with a hyphen"));
}

TEST(PortNum, AcceptsOneTo65535) {
  EXPECT_TRUE(IsValidPortNum(1));
  EXPECT_TRUE(IsValidPortNum(80));
  EXPECT_TRUE(IsValidPortNum(65535));
  EXPECT_FALSE(IsValidPortNum(0));
  EXPECT_FALSE(IsValidPortNum(-1));
  EXPECT_FALSE(IsValidPortNum(65536));
  EXPECT_THAT(ValidatePortNum(65536), ElementsAre("must be between 1 and 65535, inclusive"));
  EXPECT_THAT(ValidatePortNum(443), IsEmpty());
}

TEST(Ip, AcceptsIpv4AndIpv6) {
  for (const char* good : {"1.2.3.4", "0.0.0.0", "255.255.255.255", "::", "::1", "2001:db8::ffff",
                           "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(IsValidIp(good)) << good;
  }
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "a.b.c.d", "1.2.3.4/24",
                          " 1.2.3.4", "2001:db8:::1", "localhost"}) {
    EXPECT_FALSE(IsValidIp(bad)) << bad;
  }
  EXPECT_THAT(ValidateIp("1.2.3"),
              ElementsAre("must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
}

TEST(Cidr, AcceptsIpv4AndIpv6Prefixes) {
  for (const char* good :
       {"10.0.0.0/8", "1.2.3.4/32", "0.0.0.0/0", "2001:db8::/64", "::/0", "::1/128"}) {
    EXPECT_TRUE(IsValidCidr(good)) << good;
  }
  for (const char* bad : {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/a",
                          "10.0.0.0/-1", "10.0.0.0/0008", "/24", "foo/24", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(IsValidCidr(bad)) << bad;
  }
  EXPECT_THAT(ValidateCidr("10.0.0.0/33"),
              ElementsAre("must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
}

TEST(Percent, AcceptsDigitsThenPercentSign) {
  for (const char* good : {"0%", "1%", "93%", "100%", "250%"}) {
    EXPECT_TRUE(IsValidPercent(good)) << good;
  }
  for (const char* bad : {"", "%", "1", "1.5%", "-1%", "a%", " 1%", "1% ", "1%%"}) {
    EXPECT_FALSE(IsValidPercent(bad)) << bad;
  }
  EXPECT_THAT(ValidatePercent("x"),
              ElementsAre("a valid percent string must be a numeric string followed by an ending "
                          "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
}

}  // namespace
}  // namespace kennel::api
