#include "studies/sweep/study_options.hpp"

namespace attnrate {

KeySpec base_seed_key() { return {"seed", "1", "base seed of the study (every cell's seeds derive from it)"}; }

KeySpec bootstrap_key() { return {"bootstrap", "2000", "seed-bootstrap resamples (100..1000000)"}; }

}  // namespace attnrate
