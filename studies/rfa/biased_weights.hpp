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

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition biased_weights_study();

}  // namespace attnrate
