// Syntax checks for the names and small formatted values Kubernetes puts in
// objects: keys, labels, object names, environment variable names, ports, IP
// addresses, percentages (k8s.io/apimachinery/pkg/util/validation).
//
// Each Validate* function returns every reason the value is invalid, in the
// order Kubernetes reports them and worded as Kubernetes words them (so kubectl
// users see familiar errors), and an empty list when it is valid. The messages
// are the text after "Invalid value: <value>: " in an API error, so a caller
// turns each one into its own field error, e.g. `metadata.name: Invalid value:
// "Foo": <message>`. All are pure, thread-safe and never throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kennel::api {

inline constexpr std::size_t kQualifiedNameMaxLength = 63;
inline constexpr std::size_t kLabelValueMaxLength = 63;
inline constexpr std::size_t kDns1123LabelMaxLength = 63;
inline constexpr std::size_t kDns1123SubdomainMaxLength = 253;
inline constexpr std::size_t kDns1035LabelMaxLength = 63;
inline constexpr std::size_t kConfigMapKeyMaxLength = kDns1123SubdomainMaxLength;
inline constexpr std::size_t kPortNameMaxLength = 15;

// "must be no more than N characters"
std::string MaxLenError(std::size_t length);
// "must be between LO and HI, inclusive"
std::string InclusiveRangeError(int64_t lo, int64_t hi);

// A label or annotation key (also finalizers, taint keys): an optional DNS-1123
// subdomain prefix and '/', then a name of at most 63 characters matching
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9].
std::vector<std::string> ValidateQualifiedName(std::string_view value);

// A label value: empty, or at most 63 characters matching the qualified-name
// pattern above.
std::vector<std::string> ValidateLabelValue(std::string_view value);

// A DNS-1123 label: at most 63 characters of [a-z0-9]([-a-z0-9]*[a-z0-9])?
// (namespace names, container names, port names...).
std::vector<std::string> ValidateDns1123Label(std::string_view value);

// A DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels
// (most object names).
std::vector<std::string> ValidateDns1123Subdomain(std::string_view value);

// A DNS-1035 label: at most 63 characters of [a-z]([-a-z0-9]*[a-z0-9])?
// (Service names).
std::vector<std::string> ValidateDns1035Label(std::string_view value);

// A ConfigMap or Secret key: at most 253 characters of [-._a-zA-Z0-9]+, and
// not ".", ".." or anything starting with "..".
std::vector<std::string> ValidateConfigMapKey(std::string_view value);

// An environment variable name: [-._a-zA-Z][-._a-zA-Z0-9]*, and not ".", ".."
// or anything starting with "..".
std::vector<std::string> ValidateEnvVarName(std::string_view value);

// An IANA_SVC_NAME (container port names, named target ports): at most 15
// characters of [-a-z0-9] with at least one letter, no "--", and no leading or
// trailing '-'.
std::vector<std::string> ValidatePortName(std::string_view value);

// A port number: 1 to 65535.
std::vector<std::string> ValidatePortNum(int64_t port);

// A literal IPv4 or IPv6 address.
std::vector<std::string> ValidateIp(std::string_view value);

// An IPv4 or IPv6 CIDR such as 10.0.0.0/24 or 2001:db8::/64.
std::vector<std::string> ValidateCidr(std::string_view value);

// A percentage: [0-9]+% ("25%").
std::vector<std::string> ValidatePercent(std::string_view value);

// Boolean shorthands for the validators above.
inline bool IsQualifiedName(std::string_view v) { return ValidateQualifiedName(v).empty(); }
inline bool IsValidLabelValue(std::string_view v) { return ValidateLabelValue(v).empty(); }
inline bool IsDns1123Label(std::string_view v) { return ValidateDns1123Label(v).empty(); }
inline bool IsDns1123Subdomain(std::string_view v) { return ValidateDns1123Subdomain(v).empty(); }
inline bool IsDns1035Label(std::string_view v) { return ValidateDns1035Label(v).empty(); }
inline bool IsConfigMapKey(std::string_view v) { return ValidateConfigMapKey(v).empty(); }
inline bool IsEnvVarName(std::string_view v) { return ValidateEnvVarName(v).empty(); }
inline bool IsValidPortName(std::string_view v) { return ValidatePortName(v).empty(); }
inline bool IsValidPortNum(int64_t port) { return ValidatePortNum(port).empty(); }
inline bool IsValidIp(std::string_view v) { return ValidateIp(v).empty(); }
inline bool IsValidCidr(std::string_view v) { return ValidateCidr(v).empty(); }
inline bool IsValidPercent(std::string_view v) { return ValidatePercent(v).empty(); }

}  // namespace kennel::api
