// Fuzz harness: the per-cell checkpoint reader of study coercivity (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "coercivity"
#define ATTNRATE_FUZZ_OPTIONS {{"token-laws", "uniform"}, {"M", "64,128"}, {"seeds", "2"}, {"gram-pairs", "1000"}, {"knots", "4"}}
#include "tests/fuzz/study_checkpoint.hpp"
