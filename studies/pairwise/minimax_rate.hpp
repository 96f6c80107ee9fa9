#pragma once
// `attnrate study minimax-rate` A known, least squares over clamped
// B-splines with K from a schedule, composed L2(rho) error against M, slope vs -2b/(2b+1).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

/// The model options tokens, N, d, r, sigma, activation (validated, messages naming the option);
/// shared by `simulate pairwise` and the minimax-rate study.
PairwiseModelSpec read_pairwise_model_spec(const Settings& settings);

/// A rate study's activation (option `key`): its claimed smoothness must be > 0 (a rate exponent
/// to test) and, when fitted with A unknown (`joint`), its default spline degree >= 1 (the joint
/// fit's A-step needs phi'). Throws InputError naming the option.
void check_rate_activation(const Settings& settings, const std::string& key, const Activation& phi, bool joint);

/// Keys (with defaults) of the minimax-rate study; also the TOML keys.
std::vector<KeySpec> minimax_rate_keys();

/// Validates the options as run_minimax_rate does, without doing any work; throws InputError.
void check_minimax_rate(const Settings& settings);

/// Runs the sweep, writes summary.json, cells.csv, convergence.png/.svg and cells/ checkpoints
/// into ctx.out, and returns the summary. Invalid settings throw InputError before any work.
nlohmann::json run_minimax_rate(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
