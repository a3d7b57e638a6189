#include "api/quantity.h"

#include <gtest/gtest.h>

#include <string>

namespace kennel::api {
namespace {

int64_t Milli(std::string_view s) {
  StatusOr<int64_t> v = ParseQuantityMilli(s);
  EXPECT_TRUE(v.ok()) << s << ": " << v.status().ToString();
  return v.ok() ? *v : -999;
}

int64_t Units(std::string_view s) {
  StatusOr<int64_t> v = ParseQuantity(s);
  EXPECT_TRUE(v.ok()) << s << ": " << v.status().ToString();
  return v.ok() ? *v : -999;
}

TEST(Quantity, PlainNumbers) {
  EXPECT_EQ(Milli("1"), 1000);
  EXPECT_EQ(Milli("0"), 0);
  EXPECT_EQ(Milli("1.5"), 1500);
  EXPECT_EQ(Milli(".5"), 500);
  EXPECT_EQ(Milli("1."), 1000);
  EXPECT_EQ(Milli("+2"), 2000);
  EXPECT_EQ(Milli("007"), 7000);
  EXPECT_EQ(Units("42"), 42);
}

TEST(Quantity, DecimalSuffixes) {
  EXPECT_EQ(Milli("100m"), 100);
  EXPECT_EQ(Milli("250m"), 250);
  EXPECT_EQ(Milli("5k"), 5000000);
  EXPECT_EQ(Units("5k"), 5000);
  EXPECT_EQ(Units("3M"), 3000000);
  EXPECT_EQ(Units("2G"), 2000000000);
  EXPECT_EQ(Units("1T"), 1000000000000);
  EXPECT_EQ(Units("1P"), 1000000000000000);
  EXPECT_EQ(Units("1E"), 1000000000000000000);
  EXPECT_EQ(Milli("1u"), 1);  // 0.001 milli rounds up
  EXPECT_EQ(Milli("1000000n"), 1);
}

TEST(Quantity, BinarySuffixes) {
  EXPECT_EQ(Units("1Ki"), 1024);
  EXPECT_EQ(Units("128Mi"), 134217728);
  EXPECT_EQ(Units("1Gi"), 1073741824);
  EXPECT_EQ(Units("1.5Gi"), 1610612736);
  EXPECT_EQ(Units("2Ti"), 2199023255552);
  EXPECT_EQ(Units("1Pi"), 1125899906842624);
  EXPECT_EQ(Units("1Ei"), 1152921504606846976);
  EXPECT_EQ(Milli("1Ki"), 1024000);
}

TEST(Quantity, Exponents) {
  EXPECT_EQ(Units("1e3"), 1000);
  EXPECT_EQ(Units("1E3"), 1000);
  EXPECT_EQ(Units("12e+2"), 1200);
  EXPECT_EQ(Milli("5e-3"), 5);
  EXPECT_EQ(Milli("1e-05"), 1);  // 0.01 milli rounds up
}

TEST(Quantity, RoundsAwayFromZero) {
  EXPECT_EQ(Units("100m"), 1);
  EXPECT_EQ(Units("1.5"), 2);
  EXPECT_EQ(Units("1001m"), 2);
  EXPECT_EQ(Units("1000m"), 1);
  EXPECT_EQ(Milli("0.1m"), 1);
  EXPECT_EQ(Milli("0.0000000000000000000000000000000000000000001"), 1);
  EXPECT_EQ(Units("-1.5"), -2);
  EXPECT_EQ(Milli("-1"), -1000);
  EXPECT_EQ(Milli("-0"), 0);
}

TEST(Quantity, ManyDigitsKeepPrecision) {
  EXPECT_EQ(Units("1234567890123456789"), 1234567890123456789);
  EXPECT_EQ(Units("1234567890123456789.5"), 1234567890123456790);
  EXPECT_EQ(Milli("1.0000000000000000000000001"), 1001);
  EXPECT_EQ(Units("0.0000000000000000000001e22"), 1);
}

TEST(Quantity, RejectsMalformedText) {
  for (std::string_view bad : {"", "abc", "m", "1.2.3", ".", "-", "1Zi", "1Ki5", "1e", "1 Gi", "1g",
                               "1mi", "1e3.5", "++1", "0x10"}) {
    StatusOr<int64_t> v = ParseQuantity(bad);
    EXPECT_FALSE(v.ok()) << "'" << bad << "'";
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), Code::kBadRequest);
    }
  }
  EXPECT_EQ(ParseQuantity("abc").status().message(),
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  EXPECT_EQ(ParseQuantity("1.2.3").status().message(), "unable to parse quantity's numeric part");
  EXPECT_EQ(ParseQuantity("1Zi").status().message(), "unable to parse quantity's suffix");
}

TEST(Quantity, ReportsOverflow) {
  EXPECT_EQ(Units("9223372036854775807"), 9223372036854775807);
  EXPECT_FALSE(ParseQuantity("9223372036854775808").ok());
  EXPECT_FALSE(ParseQuantity("99999999999999999999999").ok());
  EXPECT_FALSE(ParseQuantityMilli("8Ei").ok());
  EXPECT_FALSE(ParseQuantity("1e999999").ok());
  EXPECT_EQ(ParseQuantity("1e40").status().message(), "quantity is too large");
}

TEST(Quantity, FromJsonTakesStringsAndNumbers) {
  EXPECT_EQ(QuantityFromJson(nlohmann::json("1Gi")), 1073741824);
  EXPECT_EQ(QuantityFromJson(nlohmann::json(3)), 3);
  EXPECT_EQ(QuantityMilliFromJson(nlohmann::json("250m")), 250);
  EXPECT_EQ(QuantityMilliFromJson(nlohmann::json(2)), 2000);
  EXPECT_EQ(QuantityFromJson(nlohmann::json("lots")), std::nullopt);
  EXPECT_EQ(QuantityFromJson(nlohmann::json()), std::nullopt);
  EXPECT_EQ(QuantityFromJson(nlohmann::json::object()), std::nullopt);
}

}  // namespace
}  // namespace kennel::api
