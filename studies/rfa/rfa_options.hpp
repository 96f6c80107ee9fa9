#pragma once
// The options that mean the same in the RFA studies (rfa-vs-mlp, biased-weights,
// target-complexity, kernel-limit, heads): one name, default and help text each, so that a study
// lists the option rather than restating it. Conventions in studies/rfa/rfa_common.hpp.
#include <string>
#include <vector>

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
/// inputs, N and d, one value each (heads, biased-weights): the input law, the keys per sample
/// (1..1000000) and the token dimension (1..10000); throws InputError naming the option.
void read_attention_shape(const Settings& s, AttentionLaw& law, int& N, int& d);
/// eps: the error level that defines n_eps, in (0, 1); throws InputError naming the option.
double read_eps(const Settings& s);

}  // namespace attnrate
