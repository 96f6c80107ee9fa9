// Fuzz harness: the per-cell checkpoint reader of study dimension-free (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "dimension-free"
#define ATTNRATE_FUZZ_OPTIONS {{"activations", "bspline:3"}, {"d", "2"}, {"N", "4"}, {"d-values", "1,2"}, {"N-values", "4"}, {"r-values", "1"}, {"M", "200,400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}, {"restarts", "1"}, {"max-iterations", "5"}}
#include "tests/fuzz/study_checkpoint.hpp"
