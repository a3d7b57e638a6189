// Kubernetes resource quantities ("100m", "1.5", "1Gi", "1e3") as integers.
//
// The grammar is Kubernetes' resource.Quantity: an optional sign, a decimal
// number ("1", "1.5", ".5", "1."), then at most one suffix:
//   decimal SI  n u m "" k M G T P E   (10^-9 … 10^18)
//   binary SI   Ki Mi Gi Ti Pi Ei      (2^10 … 2^60)
//   exponent    e<int> or E<int>       ("1e3", "5E-2"; a bare "E" is exa)
// Anything else fails with kBadRequest and Kubernetes' parse message, e.g.
// "quantities must match the regular expression
// '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".
//
// Results are exact: the value is scaled and then rounded away from zero to
// an integer (Kubernetes' Value() and MilliValue() round the same way), so
// "0.1m" is 1 milli-unit and "-1.5" is -2 units. A result outside int64 fails
// with kBadRequest "quantity is too large". Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "base/status.h"

namespace kennel::api {

// The quantity in thousandths of a unit: "100m" → 100, "1" → 1000, "1Ki" → 1024000.
StatusOr<int64_t> ParseQuantityMilli(std::string_view s);

// The quantity in whole units: "1Gi" → 1073741824, "100m" → 1, "1.5" → 2.
StatusOr<int64_t> ParseQuantity(std::string_view s);

// A quantity as an object holds it: a string, or a JSON number (what a
// client writes for "1"). nullopt for any other JSON or a bad quantity:
// callers reading stored, validated objects treat that as absent.
std::optional<int64_t> QuantityFromJson(const nlohmann::json& v);       // whole units
std::optional<int64_t> QuantityMilliFromJson(const nlohmann::json& v);  // thousandths

}  // namespace kennel::api
