#pragma once
// Claims of the minimax paper beyond A known (issue 3), measured by the studies dimension-free
// and coercivity (studies/pairwise_studies.hpp). Appended to the registry by claim_registry().
#include <vector>

#include "theory/claims/old_claims.hpp"

namespace attnrate {

/// Appends the dimension-free slope and spread claims (bspline:3, A unknown, d in {1, 5}; the
/// full profile adds d = 30 to the spread) and the coercivity claims (uniform, gaussian,
/// exchangeable tokens) with their quick and full settings.
void append_pairwise_claims(std::vector<ClaimSpec>& claims);

}  // namespace attnrate
