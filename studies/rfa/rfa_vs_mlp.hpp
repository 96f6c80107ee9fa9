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

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition rfa_vs_mlp_study();

}  // namespace attnrate
