#pragma once
// `attnrate study kernel-limit`: random-feature attention against the random-feature MLP in the
// infinite-width limit, where neither model has a width floor.
//
// At matched finite width the RF-MLP's error levels off (near 0.19 on key-poly:2 at N = 2), so a
// sample complexity n_eps read off finite-width curves marks where a floor is crossed. Here both
// models are kernel ridge regressions with their infinite-width kernels (theory/rfa/rfa_kernel.hpp,
// zero-mean ReLU RFA; theory/rfa/mlp_kernel.hpp), on the same training and test inputs of each
// repetition. For each n of the grid, lambda is chosen on a validation split of the n training
// samples (the last `validation` fraction; never the test set), then the model is refitted on all
// n. A curve stops once it reaches eps (n_eps is its first crossing, interpolated log-log;
// a curve that never crosses inside the grid is censored). Quantities, per N (and pair of N):
// the MLP/RFA ratio of n_eps and its growth between two N, with t and seed-bootstrap intervals of
// the mean log over repetitions, reported on the ratio scale (log width); censored values are
// flagged on the side where the truth may lie.

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition kernel_limit_study();

}  // namespace attnrate
