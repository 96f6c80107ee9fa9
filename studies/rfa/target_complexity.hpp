#pragma once
// `attnrate study target-complexity`: error against n and the sample complexity n_eps of RFA on
// key-poly:p and inner-poly:p, p in a list, for several token dimensions d (conventions in
// studies/rfa/rfa_common.hpp). Writes summary.json (the measurement below and the n_eps table),
// cells.csv, the figures n-eps-vs-p and one error figure per d, and cells/ checkpoints into
// ctx.out. For every family, d and consecutive pair of degrees p < p':
//   n-eps-ratio  n_eps(p') / n_eps(p), geometric mean over repetitions  select: family, d, p
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// Keys (with defaults) of the study; also its TOML keys.
std::vector<KeySpec> target_complexity_keys();
/// Validates the options as run_target_complexity does, without doing any work; throws InputError.
void check_target_complexity(const Settings& settings);
/// Runs the sweep and returns the summary. Invalid settings throw InputError before any work.
nlohmann::json run_target_complexity(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
