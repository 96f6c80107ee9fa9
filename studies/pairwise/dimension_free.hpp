#pragma once
// `attnrate study dimension-free`: A unknown (erm+refit, studies/pairwise/pairwise_series.hpp),
// composed L2(rho) error against M for several d, and for several N and r at a fixed d.
// Quantities:
//   slope      one per series: OLS slope of log error on log M (select activation, series,
//              d, N, r); details carry the rank condition of the series over its sweep.
//   slope-erm  the same with the ERM's own error (no trimmed refit of the phi-step).
//   spread     one per activation and varied factor with two or more series: the largest over
//              the smallest median error at the largest M (select activation, series).
//   below-knee-spread  the same over the members inside the rank condition
//              r d <= (M / log M)^(1/(2b+1)) at the largest M, when there are two or more: the
//              theorem's independence of d, N and r holds only there.

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition dimension_free_study();

}  // namespace attnrate
