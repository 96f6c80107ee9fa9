#pragma once
// `attnrate study rank-condition`: A unknown (erm+refit), composed error against r d at one M,
// around the knee (M / log M)^(1/(2b+1)) of the rank condition, b = min(claimed b, degree + 1).
// Quantities (one measurement each, no select keys):
//   below-knee-spread  the largest over the smallest median error across the r d <= knee
//                      (spread_measurement; width scale log); needs two such r d.
//   above-knee-slope   OLS slope of log error on log(r d) over the ok cells with r d > knee; the
//                      parametric term r d log M / M, when it dominates, gives slope 1.
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// Keys (with defaults) of the study; also its TOML keys.
std::vector<KeySpec> rank_condition_keys();

/// Validates the options as run_rank_condition does, without doing any work; throws InputError.
void check_rank_condition(const Settings& settings);

/// Runs the sweep; writes summary.json (its "quantities"), cells.csv, rank.png and cells/
/// checkpoints into ctx.out; returns the summary. Invalid settings throw InputError before any work.
nlohmann::json run_rank_condition(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
