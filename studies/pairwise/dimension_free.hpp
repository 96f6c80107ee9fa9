#pragma once
// `attnrate study dimension-free`: A unknown (erm+refit, studies/pairwise/pairwise_series.hpp),
// composed L2(rho) error against M for several d, and for several N and r at a fixed d.
// Quantities:
//   slope      one per series: OLS slope of log error on log M (select activation, series,
//              d, N, r); details carry the rank condition of the series over its sweep.
//   slope-erm  the same with the ERM's own error (no trimmed refit of the phi-step).
//   spread     one per activation and varied factor with two or more series: the largest over
//              the smallest median error at the largest M (select activation, series).
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// Keys (with defaults) of the study; also its TOML keys.
std::vector<KeySpec> dimension_free_keys();

/// Validates the options as run_dimension_free does, without doing any work; throws InputError.
void check_dimension_free(const Settings& settings);

/// Runs the sweep; writes summary.json (its "quantities"), cells.csv, one convergence figure per
/// activation and varied factor (convergence-<activation>-<factor>.png) and cells/ checkpoints
/// into ctx.out; returns the summary. Invalid settings throw InputError before any work.
nlohmann::json run_dimension_free(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
