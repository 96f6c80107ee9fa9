#pragma once
// The memory a study's largest arrays will need, from its options alone, checked against the
// memory budget (--max-memory) before the run starts: training samples (M x N x d tokens, n x N x d
// attention inputs), test pairs and test inputs, feature matrices (n x heads (d+1)), kernel and
// Gram matrices. A study whose sizes exceed the budget is refused with exit code 2 and a message
// that names the options and what they would need, instead of failing with std::bad_alloc (or
// driving the machine into swap) partway through. The estimate is for one cell at a time, the
// largest; it covers the big arrays, not every temporary. Estimates are in double, so products of
// hostile sizes cannot overflow.
#include <string>

#include "studies/io/settings.hpp"

namespace attnrate {

/// The option every study has for its budget ("max-memory", default "auto").
KeySpec study_memory_key();

/// Estimates the memory of study `study` from `s` (whose values the study's own check already
/// accepted) and throws InputError when it exceeds memory_budget(s), e.g. "study minimax-rate:
/// --test-pairs 1000000000 with --d 5 needs about 82 GiB of test token pairs (estimate for the
/// largest cell: ...); the memory budget is 11.6 GiB (--max-memory auto: ...); lower --test-pairs,
/// or raise --max-memory". A study without an estimate here passes.
void check_study_memory(const std::string& study, const Settings& s);

}  // namespace attnrate
