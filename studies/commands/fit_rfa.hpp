#pragma once
// `attnrate fit rfa`: random-feature attention (frozen random W_m, ridge on the value vectors), or
// with --model mlp the random-feature MLP with as many parameters (frozen first layer, ridge on the
// second). fit.json holds the coefficients and the seed of the frozen weights, not the weights:
// attnrate predict redraws them (studies/commands/predict.hpp).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "studies/commands/command.hpp"
#include "studies/io/memory_budget.hpp"

namespace attnrate {

/// Its options: --data, model, heads, sigma-act, weights, mu, tau (rfa), mlp-act (mlp), lambda, seed
/// and the resource limits.
std::vector<KeySpec> fit_rfa_keys();

/// The ridge step's options from --lambda: gcv, kfold or kfold:K (K folds, 2..100; the folds from
/// derive_seed(seed, "folds")) or a fixed lambda > 0. InputError naming --lambda otherwise.
RidgeFitOptions read_fit_lambda(const Settings& s, std::uint64_t seed);

/// The attention model's options (--heads, --sigma-act, --weights, --mu only with biased weights,
/// --tau, not 0 with zero-mean weights, --seed) for `fit rfa` and the Python estimator; InputError
/// naming the option.
RfaOptions read_fit_rfa_options(const Settings& s, int threads);

/// Refuses k-fold selection with fewer samples than folds, naming --lambda.
void check_fit_folds(const Settings& s, const RidgeFitOptions& ridge, std::size_t n);

/// fit.json's `warnings` of a ridge fit (sentences; the Python estimators issue each as a
/// UserWarning): a data-driven lambda at an end of the extended grid, and which end.
std::vector<std::string> ridge_fit_warnings(const RidgeFit& fit, LambdaRule rule);

/// The memory a fit of either model needs beyond the program: its data, the frozen weights (`heads`
/// of the attention model, or 0 for the RF-MLP), the n x P features, the ridge's Gram matrix and
/// the per-thread feature blocks of `block_samples` samples. `fit rfa` and the Python estimators
/// check it against the budget before anything is allocated.
MemoryEstimate fit_rfa_memory(std::size_t samples, int N, int d, double P, int heads, int threads,
                              std::size_t block_samples);

/// Validates the options, reads the attention data within the read limits, checks the memory the
/// fit needs (fit_rfa_memory) against --max-memory, fits and writes fit.json to `out`. `threads`:
/// 0 = all cores. Refuses (InputError), before any work, bad options, an output that is not a
/// regular file or is the data, and fits beyond the budget.
CommandReport fit_rfa(const Settings& s, const std::filesystem::path& out, int threads);

}  // namespace attnrate
