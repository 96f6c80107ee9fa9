#pragma once
// The options that mean the same in the RFA studies (rfa-vs-mlp, biased-weights,
// target-complexity, kernel-limit, heads): one name, default and help text each, so that a study
// lists the option rather than restating it, and one reader for each group several studies
// share. Conventions in studies/rfa/rfa_common.hpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "studies/io/settings.hpp"
#include "studies/sweep/study_options.hpp"
#include "theory/rfa/attention_law.hpp"

namespace attnrate {

/// inputs: the law of query and keys (sphere | gaussian).
KeySpec inputs_key();
/// d: the token dimension, one value.
KeySpec dimension_key();
/// sigma-act: the RFA score activation.
KeySpec score_activation_key();
/// mu: the mean scale of the biased weight law.
KeySpec bias_scale_key();
/// tau: the standard deviation of the query-key weight noise.
KeySpec weight_noise_key();

/// Refuses a given --mu with a weight law other than biased, where it would be ignored.
void refuse_mu_unless_biased(const Settings& s, WeightLaw law);
/// Refuses tau = 0 with zero-mean weights: every query-key weight would be 0, every feature equal.
void refuse_zero_weights(const Settings& s, WeightLaw law, double tau);
/// sigma: the noise of the unit-variance training targets.
KeySpec target_noise_key();

/// The options of the attention layer with heads `heads_default` (rfa-vs-mlp, target-complexity),
/// in this order: heads, sigma-act, weights, mu, tau. `heads_detail` follows "RFA heads M (>= 1)".
std::vector<KeySpec> attention_layer_keys(const std::string& heads_default, const std::string& heads_detail = "");

/// The training options of the ridge-fitted studies (rfa-vs-mlp, biased-weights,
/// target-complexity), in this order: sigma, lambda, n (default `n_default`).
std::vector<KeySpec> ridge_training_keys(const std::string& n_default);
/// Their repetition options, in this order: seeds (default `seeds_default`), seed, test-n.
std::vector<KeySpec> ridge_repetition_keys(const std::string& seeds_default);
/// The options that end a sample-complexity study (rfa-vs-mlp, target-complexity): the training
/// and repetition options above, then eps (default `eps_default`) and bootstrap.
std::vector<KeySpec> sample_complexity_keys(const std::string& n_default, const std::string& seeds_default,
                                            const std::string& eps_default);
/// The defaults a sample-complexity study gives its shared options.
struct SampleComplexityDefaults {
  std::string heads, heads_detail;  ///< attention_layer_keys
  std::string n, seeds, eps;        ///< sample_complexity_keys
};
/// A sample-complexity study's options (rfa-vs-mlp, target-complexity): inputs, then the first
/// two of `own` (N and d), the attention layer's options, the rest of `own` and
/// sample_complexity_keys.
std::vector<KeySpec> sample_complexity_study_keys(const std::vector<KeySpec>& own,
                                                  const SampleComplexityDefaults& defaults);

/// The attention layer's options (attention_layer_keys) as read.
struct AttentionLayerOptions {
  int heads = 64;
  RfaActivation act = RfaActivation::relu;
  WeightLaw weights = WeightLaw::zero_mean;
  double mu = 1, tau = 0.5;
};
AttentionLayerOptions read_attention_layer(const Settings& s);

/// The ridge training and repetition options (ridge_training_keys, ridge_repetition_keys) and
/// bootstrap as read; n sorted, without repeats.
struct RidgeRunOptions {
  double sigma = 0.1;
  RidgeFitOptions ridge;
  std::vector<std::size_t> n;
  int seeds = 5, bootstrap = 2000;
  std::uint64_t seed = 1;
  std::size_t test_n = 10000;
};
RidgeRunOptions read_ridge_runs(const Settings& s);

/// sample_complexity_keys as read: the ridge runs (at least two distinct n) and eps.
struct SampleComplexityOptions : RidgeRunOptions {
  double eps = 0.2;
};
SampleComplexityOptions read_sample_complexity(const Settings& s);

/// inputs, N (default `N_default`) and d, one value each (heads, biased-weights): the options
/// read_attention_shape reads.
std::vector<KeySpec> attention_shape_keys(const std::string& N_default);
/// inputs, N and d, one value each (heads, biased-weights): the input law, the keys per sample
/// (1..1000000) and the token dimension (1..10000); throws InputError naming the option.
void read_attention_shape(const Settings& s, AttentionLaw& law, int& N, int& d);
/// eps: the error level that defines n_eps, in (0, 1); throws InputError naming the option.
double read_eps(const Settings& s);

}  // namespace attnrate
