// Fuzz harness: the per-cell checkpoint reader of study rfa-vs-mlp (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "rfa-vs-mlp"
#define ATTNRATE_FUZZ_OPTIONS {{"N", "2,4"}, {"heads", "4"}, {"target", "key-poly:2"}, {"n", "20,40"}, {"seeds", "2"}, {"test-n", "10000"}, {"bootstrap", "100"}, {"lambda", "0.01"}}
#include "tests/fuzz/study_checkpoint.hpp"
