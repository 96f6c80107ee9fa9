#pragma once
// `attnrate study smoothness`: the fitted slope of log error on log M against the smoothness b:
// bspline:P fitted with A unknown (erm+refit, the paper's b = P-1) and weierstrass:b fitted with
// A known (least squares, exact Hoelder b). Quantity:
//   slope  one per activation (select activation, A = known | unknown); details carry the
//          smoothness (Hoelder, claimed, convention) and the reference slope -2b/(2b+1).
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// Keys (with defaults) of the study; also its TOML keys.
std::vector<KeySpec> smoothness_keys();

/// Validates the options as run_smoothness does, without doing any work; throws InputError.
void check_smoothness(const Settings& settings);

/// Runs the sweep; writes summary.json (its "quantities"), cells.csv, slopes.png (slope vs b with
/// the reference curve -2b/(2b+1)), convergence.png and cells/ checkpoints into ctx.out; returns
/// the summary. Invalid settings throw InputError before any work.
nlohmann::json run_smoothness(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
