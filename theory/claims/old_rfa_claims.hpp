#pragma once
// Claims of the random-feature attention studies (issue 4) for the registry of theory/claims.hpp:
// the sample-complexity advantage of RFA over the RF-MLP, the non-invariant control, the biased
// query-key law on inner-product targets, and the 1/M convergence of the heads to the kernel
// limit. Each gives the study settings of its quick profile (seconds, run by the test suite;
// chosen so the verdict is robust) and of its full profile (the study defaults, quoted in README).
#include <vector>

#include "theory/claims/old_claims.hpp"

namespace attnrate {

/// Appends the RFA claims to `claims` (ids as written by the studies' summary.json).
void append_rfa_claims(std::vector<ClaimSpec>& claims);

}  // namespace attnrate
