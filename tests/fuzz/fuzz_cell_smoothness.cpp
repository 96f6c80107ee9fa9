// Fuzz harness: the per-cell checkpoint reader of study smoothness (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "smoothness"
// No A-known series: their cells go through the same validator as the A-unknown ones, and the
// set-up run is shorter without them.
#define ATTNRATE_FUZZ_OPTIONS {{"erm-activations", "bspline:3"}, {"known-activations", ""}, {"M", "200,400"}, {"M-known", "200,400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}, {"restarts", "1"}, {"max-iterations", "5"}}
#include "tests/fuzz/study_checkpoint.hpp"
