#pragma once
// `attnrate fit pairwise`: least squares over B-splines for the pairwise-interaction model, with
// A known (--A, estimators/pairwise_lse) or learned jointly (--rank, estimators/pairwise_erm).
#include <filesystem>
#include <vector>

#include "studies/commands/command.hpp"

namespace attnrate {

/// Its options: --data, --A or --rank (with the joint fit's options), --degree, --knots or
/// --beta, --range, --ridge, and the resource limits (--max-memory, --max-input-size,
/// --max-line-length).
std::vector<KeySpec> fit_pairwise_keys();

/// Largest --knots: the basis size K + degree must fit an int.
int max_pieces();

/// Reads the data (and A) within the read limits, checks the memory the fit needs (data, the
/// normal equations of the K + degree basis functions, per-thread blocks) against --max-memory,
/// fits, and writes fit.json to `out` and phi_hat on 1001 points to `<stem>.phi.csv` beside it.
/// `threads`: 0 = all cores. Refuses (InputError), before any work, bad options, an output that
/// is not a regular file or is one of the inputs, and fits beyond the memory budget.
CommandReport fit_pairwise(const Settings& s, const std::filesystem::path& out, int threads);

}  // namespace attnrate
