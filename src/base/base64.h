// Standard base64 with padding (RFC 4648 section 4): what Kubernetes uses for
// Secret data, kubeconfig certificate data and continue tokens.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace kennel {

std::string Base64Encode(std::string_view bytes);
// Accepts the standard and the URL-safe alphabet, with or without padding.
// Errors: kBadRequest for any other character or a truncated final group.
StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace kennel
