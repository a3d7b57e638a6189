// How the agent and `kennel shim` find each other.
#pragma once

namespace kennel::agent::internal {

// The descriptor on which the shim reports (one byte) that state.json holds
// either the started container or its start failure. Closed without a byte:
// the shim failed before that (see shim.log).
inline constexpr char kShimReportFdEnv[] = "KENNEL_SHIM_REPORT_FD";

// The program to run as `<binary> shim STATE_DIR`; default /proc/self/exe,
// which is right for the kennel binary and for test binaries whose main()
// dispatches "shim" to RunShim.
inline constexpr char kShimBinaryEnv[] = "KENNEL_SHIM_BINARY";

}  // namespace kennel::agent::internal
