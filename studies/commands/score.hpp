#pragma once
// `attnrate score`: how well a fit (fit.json from `attnrate fit`) does on data, and, for a
// pairwise fit, against the truth of a simulation (NAME.truth.json from `simulate pairwise`).
//
// Library entry points, on parsed objects (predict.hpp reads fits):
//   score_predictions       MSE and R^2 of predictions against outputs
//   read_truth / truth_model  NAME.truth.json -> the PairwiseModel that drew the data
//   composed_error          ||g_hat - g||^2_{L2(rho)} by Monte Carlo over fresh token pairs, the
//                           error the pairwise studies measure (studies/pairwise)
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "studies/commands/command.hpp"
#include "studies/commands/predict.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

/// MSE = (1/n) sum (y - y_hat)^2 and R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean y)^2 over the n
/// outputs (pairwise data: every token; attention data: every sample). r2 is NaN when y is
/// constant (no variance to explain).
struct PredictionScore {
  std::size_t n = 0;
  double mse = 0.0, r2 = 0.0, y_mean = 0.0, y_variance = 0.0;  ///< y_variance: (1/n) sum (y - mean y)^2
};
/// Sums in index order, so the result depends only on the two vectors. Throws InputError unless
/// both have the same n >= 1 entries.
PredictionScore score_predictions(const arma::vec& y, const arma::vec& y_hat);

/// A simulation's truth (docs/formats.md, section 3).
struct PairwiseTruth {
  PairwiseModelSpec spec;
  std::uint64_t activation_seed = 0;  ///< with the activation's name, fixes phi
  arma::mat A;                        ///< read from the A file the truth names
  std::filesystem::path a_path;
};

/// Reads NAME.truth.json within `limits`, and the A file it names (relative to the truth file's
/// folder), checked d x d. InputError "<file>: ..." for a missing or malformed key, a missing A
/// file, invalid JSON ("<file>:<line>:<column>: ...").
PairwiseTruth read_truth(const std::filesystem::path& path, const ReadLimits& limits = kDataReadLimits);

/// The model of a truth: phi = Activation::parse(activation, activation_seed), the token law and A.
PairwiseModel truth_model(const PairwiseTruth& truth);

/// Monte Carlo estimate of the composed error ||g_hat - g||^2_{L2(rho)} = E (g_hat(X_1, X_2) -
/// g(X_1, X_2))^2 over `pairs` fresh token pairs drawn by model.draw_token_pairs(seed, pairs) (the
/// law rho of the pairwise studies: the first two tokens of a sample), with g_hat = fitted_g and
/// g = model.g. `se` is the Monte Carlo standard error (pairwise_series mean_and_se); `clamped`
/// counts the pairs whose x^T A_hat y lies outside the fit's spline range (phi_hat clamped there).
/// Needs pairs >= 2 and the fit's d equal to the model's (InputError otherwise).
struct ComposedError {
  double error = 0.0, se = 0.0;
  std::size_t pairs = 0, clamped = 0;
};
ComposedError composed_error(const PairwiseFitModel& fit, const PairwiseModel& model, std::size_t pairs,
                             std::uint64_t seed, int threads = 0);

/// Its options: --fit, --data, --truth, --test-pairs, --seed and the resource limits.
std::vector<KeySpec> score_keys();

/// Validates the options (--fit and at least one of --data and --truth; --test-pairs and --seed only
/// with --truth, which needs a pairwise fit with the truth's d), checks the memory and `out` (when
/// given: a writable regular file that is none of the inputs) before any work, then scores: MSE
/// and R^2 on --data, the composed error against --truth. Prints them; with `out` non-empty also
/// writes them as JSON (docs/formats.md).
CommandReport score(const Settings& s, const std::filesystem::path& out, int threads);

}  // namespace attnrate
