#pragma once
// `attnrate study rank-condition`: A unknown (erm+refit), composed error against r d at one M,
// around the knee (M / log M)^(1/(2b+1)) of the rank condition, b = min(claimed b, degree + 1).
// Quantities (one measurement each, no select keys):
//   below-knee-spread  the largest over the smallest median error across the r d <= knee
//                      (spread_measurement; width scale log); needs two such r d.
//   above-knee-slope   OLS slope of log error on log(r d) over the ok cells with r d > knee; the
//                      parametric term r d log M / M, when it dominates, gives slope 1.

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition rank_condition_study();

}  // namespace attnrate
