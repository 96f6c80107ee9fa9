#pragma once
// `attnrate study rfa-vs-mlp`: sample complexity of random-feature attention (RFA) against a
// random-feature MLP with the same number of trainable parameters, for several targets and key
// counts N (conventions in studies/rfa/rfa_common.hpp). Writes summary.json (the measurements
// below and the n_eps table), cells.csv, one figure per target and cells/ checkpoints into
// ctx.out. For every target:
//   n-ratio       n_eps(RF-MLP) / n_eps(RFA) at each N               select: target, N
//   ratio-growth  n-ratio at to-N / n-ratio at from-N, consecutive N select: target, from-N, to-N
//   rfa-n-spread  max / min over N of RFA's geometric-mean n_eps     select: target
//   rfa-error     RFA's mean normalised test error at the largest n  select: target, N
//   mlp-error     the same for the RF-MLP                            select: target, N
// Ratios are geometric means over repetitions (paired by repetition); the errors' details carry
// the best permutation-invariant error (invariant_floor) of the non-invariant targets.
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// Keys (with defaults) of the study; also its TOML keys.
std::vector<KeySpec> rfa_vs_mlp_keys();
/// Validates the options as run_rfa_vs_mlp does, without doing any work; throws InputError.
void check_rfa_vs_mlp(const Settings& settings);
/// Runs the sweep and returns the summary. Invalid settings throw InputError before any work.
nlohmann::json run_rfa_vs_mlp(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
