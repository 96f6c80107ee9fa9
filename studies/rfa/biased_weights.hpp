#pragma once
// `attnrate study biased-weights`: RFA with zero-mean against biased query-key weights
// W = mu diag(I_d, 0) + noise (mu in a list) on inner-product and key-only targets, every law
// on the same data (conventions in studies/rfa/rfa_common.hpp). Writes summary.json,
// cells.csv, one figure per target and cells/ checkpoints into ctx.out. For every target and mu,
// with ratio = error(biased) / error(zero-mean), a geometric mean over repetitions:
//   error-ratio      the ratio at one grid n                           select: target, mu, n
//   error-ratio-max  the ratio at the n >= from-n whose interval reaches highest (the first such
//                    n on ties): the least favourable n for "lower at every n"  select: target, mu
//   error-ratio-min  the ratio at the n >= from-n whose interval reaches lowest: the least
//                    favourable n for "not lower at any n"                select: target, mu
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// Keys (with defaults) of the study; also its TOML keys.
std::vector<KeySpec> biased_weights_keys();
/// Validates the options as run_biased_weights does, without doing any work; throws InputError.
void check_biased_weights(const Settings& settings);
/// Runs the sweep and returns the summary. Invalid settings throw InputError before any work.
nlohmann::json run_biased_weights(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
