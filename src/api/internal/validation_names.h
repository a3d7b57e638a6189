// Format checks for names, keys and small scalar values, worded as Kubernetes
// words them (k8s.io/apimachinery/pkg/util/validation).
//
// Each Is* function returns every reason the value is not valid, in the order
// Kubernetes reports them; an empty vector means the value is valid. The
// messages are the text after "Invalid value: <value>: " in an API error, so a
// caller turns each one into its own field error, as the API server does.
// Pure functions of their argument; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kennel::api::internal {

inline constexpr int kDns1123LabelMaxLength = 63;
inline constexpr int kDns1123SubdomainMaxLength = 253;
inline constexpr int kQualifiedNameMaxLength = 63;
inline constexpr int kLabelValueMaxLength = 63;

inline constexpr char kNonNegativeMessage[] = "must be greater than or equal to 0";
inline constexpr char kImmutableMessage[] = "field is immutable";

// "must be no more than N characters"
std::string MaxLenError(int length);
// "must be between LO and HI, inclusive"
std::string InclusiveRangeError(int64_t lo, int64_t hi);

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
std::vector<std::string> IsDns1123Label(std::string_view value);
// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
std::vector<std::string> IsDns1123Subdomain(std::string_view value);
// RFC 1035 label: like a 1123 label but starting with a letter (Service names).
std::vector<std::string> IsDns1035Label(std::string_view value);
// [prefix/]name where prefix is a DNS subdomain and name matches
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] within 63 characters: label and
// annotation keys, finalizers, taint keys.
std::vector<std::string> IsQualifiedName(std::string_view value);
// Empty, or a qualified name part of at most 63 characters.
std::vector<std::string> IsValidLabelValue(std::string_view value);
// ConfigMap and Secret keys: [-._a-zA-Z0-9]+, at most 253, not "." or "..*".
std::vector<std::string> IsConfigMapKey(std::string_view value);
// Environment variable names: [-._a-zA-Z][-._a-zA-Z0-9]*, not "." or "..*".
std::vector<std::string> IsEnvVarName(std::string_view value);
// IANA_SVC_NAME (container port names, named target ports): at most 15
// characters of [-a-z0-9], at least one letter, no "--", no leading or
// trailing '-'.
std::vector<std::string> IsValidPortName(std::string_view value);
// 1..65535.
std::vector<std::string> IsValidPortNum(int64_t port);
// A literal IPv4 or IPv6 address.
std::vector<std::string> IsValidIp(std::string_view value);
// An IPv4 or IPv6 CIDR such as 10.0.0.0/24.
std::vector<std::string> IsValidCidr(std::string_view value);
// [0-9]+%
std::vector<std::string> IsValidPercent(std::string_view value);

}  // namespace kennel::api::internal
