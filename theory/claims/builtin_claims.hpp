#pragma once
// The built-in claims files (theory/claims/*.toml), compiled into the program so that
// `attnrate verify` runs them from any directory. Their text is embedded by
// cmake/EmbedClaims.cmake at build time; editing a file and rebuilding updates it.
#include <string_view>
#include <vector>

namespace attnrate {

struct ClaimsText {
  std::string_view file;  ///< path relative to the repository, e.g. "theory/claims/minimax.toml"
  std::string_view text;
};

/// Every built-in claims file, sorted by path.
const std::vector<ClaimsText>& builtin_claims_files();

}  // namespace attnrate
