#pragma once
// `attnrate study target-complexity`: error against n and the sample complexity n_eps of RFA on
// key-poly:p and inner-poly:p, p in a list, for several token dimensions d (conventions in
// studies/rfa/rfa_common.hpp). Writes summary.json (the measurement below and the n_eps table),
// cells.csv, the figures n-eps-vs-p and one error figure per d, and cells/ checkpoints into
// ctx.out. For every family, d and consecutive pair of degrees p < p':
//   n-eps-ratio  n_eps(p') / n_eps(p), geometric mean over repetitions  select: family, d, p

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition target_complexity_study();

}  // namespace attnrate
