#pragma once
// The options that mean the same wherever the pairwise-interaction model is simulated or fitted
// (the pairwise studies, simulate pairwise, fit pairwise): one name, help text and valid range
// each, so that a study lists the option with its own default rather than restating it. The
// model is in theory/pairwise/pairwise_model.hpp.
#include <cstddef>
#include <string>
#include <vector>

#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "studies/io/settings.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

/// tokens: the token law, uniform | gaussian | exchangeable[:rho].
KeySpec token_law_key(const std::string& default_value = "uniform");
/// N: tokens per sample (2..100000). `detail`, when given, follows "tokens per sample", e.g.
/// "of the d and r series".
KeySpec tokens_per_sample_key(const std::string& default_value, const std::string& detail = "");
/// d: the token dimension (1..100000).
KeySpec token_dimension_key(const std::string& default_value, const std::string& detail = "");
/// r: the rank of A (1 <= r <= d).
KeySpec interaction_rank_key(const std::string& default_value, const std::string& detail = "");
/// activation: one phi, by name.
KeySpec activation_key(const std::string& default_value);
/// The test pairs a user may ask of the composed L2(rho) error (--test-pairs of the studies and
/// of `score --truth`, the Python estimators' composed_error): fewer than 1000 give a Monte Carlo
/// error too coarse to compare fits.
inline constexpr std::size_t kMinTestPairs = 1000, kMaxTestPairs = 1000000000;
/// test-pairs: fresh pairs for the composed L2(rho) error (kMinTestPairs..kMaxTestPairs).
KeySpec test_pairs_key(const std::string& default_value = "100000");

/// The options of the adaptive spline space (--schedule adaptive), in this order: select, folds,
/// max-degree, max-knots (estimators/pairwise_lse/adaptive_spline.hpp).
std::vector<KeySpec> adaptive_selection_keys();
/// Reads them into `options` (rule, folds, max_degree, max_pieces); throws InputError naming the
/// option.
void read_adaptive_selection(const Settings& s, AdaptiveSplineOptions& options);
/// Throws InputError naming the first adaptive selection option given (file or command line)
/// when the schedule is not adaptive, so that it is not silently ignored; `context` ends the
/// message (e.g. "(with --A)").
void refuse_adaptive_selection(const Settings& s, const std::string& context = "");

/// Reads N, d and r into `spec` with the ranges above (r at most d); throws InputError naming the
/// option.
void read_token_shape(const Settings& s, PairwiseModelSpec& spec);
/// The token law's name (--tokens), checked here so that a bad one is refused with the option's
/// source (a claims file's line, a config file's key), not later by the model without it.
std::string read_token_law_name(const Settings& s);

}  // namespace attnrate
