// Server-side table printing: the columns and cells of the meta.k8s.io/v1 Table
// that `kubectl get` asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).
//
// The columns, their order, priorities and cell formats follow Kubernetes 1.32
// (pkg/printers/internalversion/printers.go), so kubectl's output against Kennel
// reads exactly as against a real cluster. Like the upstream API server, cells
// are always generated "wide": priority-1 columns carry values too, and kubectl
// hides them unless run with -o wide.
//
// Objects are the stored JSON (nlohmann::json). Missing or mistyped fields never
// fail: they print as upstream prints an unset field ("<none>", "<unknown>",
// "<unset>", "" or 0). Fields that the upstream API server always defaults
// (replicas 1, Service type ClusterIP, port protocol TCP, Secret type Opaque,
// Namespace phase Active, PV reclaim policy Retain) print their default when
// absent. No function here throws.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/registry.h"

namespace kennel::api {

// The meta.k8s.io/v1 TableColumnDefinition list for the kind of `info`:
// [{"name","type","format","description","priority"}], exactly the columns
// kubectl shows against Kubernetes 1.32. priority 1 = only with -o wide. The
// Name column has format "name". A kind without a dedicated printer gets
// Name and Age.
nlohmann::json TableColumns(const ResourceInfo& info);

// The cells of one row for `obj` (a JSON object of the kind of `info`), in the
// order of TableColumns(info): strings, integers or booleans as upstream. `now`
// is the current time, used for Age and other "ago" values.
nlohmann::json TableCells(const ResourceInfo& info, const nlohmann::json& obj,
                          std::chrono::system_clock::time_point now);

// The elapsed time from `from` to `now` as Kubernetes' duration.HumanDuration
// prints it: "5s", "3m2s", "10m", "5h3m", "2d3h", "400d", "2y30d"; "0s" for up
// to 2 s in the future (clock skew), "<invalid>" beyond that.
std::string HumanDuration(std::chrono::system_clock::duration elapsed);

// HumanDuration of now - t for an RFC 3339 timestamp such as
// "2026-11-22T09:05:00Z" (fractional seconds and +hh:mm offsets accepted), as
// kubectl's AGE column shows it. "<unknown>" when `rfc3339` is empty or not a
// timestamp.
std::string HumanAge(std::string_view rfc3339, std::chrono::system_clock::time_point now);

}  // namespace kennel::api
