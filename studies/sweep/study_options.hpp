#pragma once
// The options every kind of study means the same by: the base seed and the number of bootstrap
// resamples behind the intervals (docs/statistics.md).
#include "studies/io/settings.hpp"

namespace attnrate {

/// seed: the base seed of the study; every cell's seeds derive from it (estimators/common/random.hpp).
KeySpec base_seed_key();
/// bootstrap: the number of seed-bootstrap resamples (100..1000000).
KeySpec bootstrap_key();

}  // namespace attnrate
