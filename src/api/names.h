// Syntax checks for the names Kubernetes puts in keys, labels and object names.
//
// Each Validate* function returns the list of reasons the value is invalid,
// worded as Kubernetes words them (so kubectl users see familiar errors), and
// an empty list when it is valid. They are pure, thread-safe and never throw.
// Callers build field errors from them, e.g. `metadata.name: Invalid value:
// "Foo": <message>`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kennel::api {

inline constexpr std::size_t kQualifiedNameMaxLength = 63;
inline constexpr std::size_t kLabelValueMaxLength = 63;
inline constexpr std::size_t kDns1123LabelMaxLength = 63;
inline constexpr std::size_t kDns1123SubdomainMaxLength = 253;
inline constexpr std::size_t kDns1035LabelMaxLength = 63;

// A label or annotation key: an optional DNS-1123 subdomain prefix and '/',
// then a name of at most 63 characters matching
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

// Boolean shorthands for the validators above.
inline bool IsQualifiedName(std::string_view v) { return ValidateQualifiedName(v).empty(); }
inline bool IsValidLabelValue(std::string_view v) { return ValidateLabelValue(v).empty(); }
inline bool IsDns1123Label(std::string_view v) { return ValidateDns1123Label(v).empty(); }
inline bool IsDns1123Subdomain(std::string_view v) { return ValidateDns1123Subdomain(v).empty(); }
inline bool IsDns1035Label(std::string_view v) { return ValidateDns1035Label(v).empty(); }

}  // namespace kennel::api
