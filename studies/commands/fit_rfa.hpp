#pragma once
// `attnrate fit rfa`: random-feature attention (frozen random W_m, ridge on the value vectors).
#include <filesystem>
#include <vector>

#include "studies/commands/command.hpp"

namespace attnrate {

/// Its options: --data, heads, sigma-act, weights, mu, tau, lambda, seed and the resource limits.
std::vector<KeySpec> fit_rfa_keys();

/// Reads the attention data within the read limits, checks the memory the fit needs (data, the
/// n x M(d+1) feature matrix and the Gram matrix of the smaller side) against --max-memory, fits
/// and writes fit.json to `out`. `threads`: 0 = all cores. Refuses (InputError), before any work,
/// bad options, an output that is not a regular file or is the data, and fits beyond the budget.
CommandReport fit_rfa(const Settings& s, const std::filesystem::path& out, int threads);

}  // namespace attnrate
