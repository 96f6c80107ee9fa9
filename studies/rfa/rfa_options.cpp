#include "studies/rfa/rfa_options.hpp"

#include <algorithm>
#include <limits>

#include "estimators/common/input_error.hpp"
#include "studies/rfa/rfa_common.hpp"

namespace attnrate {

KeySpec inputs_key() { return {"inputs", "sphere", "input law of query and keys: sphere (uniform on S^(d-1)) | gaussian (N(0, I/d))"}; }

KeySpec dimension_key() { return {"d", "8", "token dimension (1..10000)"}; }

KeySpec score_activation_key() { return {"sigma-act", "relu", "RFA score activation: relu | exp | softmax"}; }

KeySpec bias_scale_key() { return {"mu", "1", "mean scale of the biased law (>= 0)", "FLOAT"}; }

KeySpec weight_noise_key() { return {"tau", "0.5", "query-key weight noise standard deviation (> 0)"}; }

KeySpec target_noise_key() {
  return {"sigma", "0.1", "noise standard deviation sigma_eps (targets have unit variance; >= 0)"};
}

std::vector<KeySpec> attention_layer_keys(const std::string& heads_default, const std::string& heads_detail) {
  return {
      {"heads", heads_default, "RFA heads M (1..10^6)" + (heads_detail.empty() ? "" : "; " + heads_detail)},
      score_activation_key(),
      {"weights", "zero-mean", "RFA query-key weight law: zero-mean | biased"},
      bias_scale_key(),
      weight_noise_key(),
  };
}

std::vector<KeySpec> ridge_training_keys(const std::string& n_default) {
  return {
      target_noise_key(),
      {"lambda", "gcv", "ridge penalty: gcv | kfold[:K] | number >= 0 (chosen on training data only)", "gcv|kfold[:K]|FLOAT"},
      {"n", n_default, "training sample sizes: list or log grid FIRST:LAST:xFACTOR (each >= 10)"},
  };
}

std::vector<KeySpec> ridge_repetition_keys(const std::string& seeds_default) {
  return {
      {"seeds", seeds_default, "repetitions (2..100000)"},
      base_seed_key(),
      {"test-n", "10000", "fresh test inputs for the normalised error (10000..10^8)"},
  };
}

std::vector<KeySpec> sample_complexity_keys(const std::string& n_default, const std::string& seeds_default,
                                            const std::string& eps_default) {
  std::vector<KeySpec> k = ridge_training_keys(n_default);
  for (auto& e : ridge_repetition_keys(seeds_default)) k.push_back(e);
  k.push_back({"eps", eps_default, "error level defining the sample complexity n_eps (in (0, 1))"});
  k.push_back(bootstrap_key());
  return k;
}

std::vector<KeySpec> sample_complexity_study_keys(const std::vector<KeySpec>& own,
                                                  const SampleComplexityDefaults& defaults) {
  std::vector<KeySpec> k = {inputs_key(), own.at(0), own.at(1)};
  for (auto& e : attention_layer_keys(defaults.heads, defaults.heads_detail)) k.push_back(e);
  k.insert(k.end(), own.begin() + 2, own.end());
  for (auto& e : sample_complexity_keys(defaults.n, defaults.seeds, defaults.eps)) k.push_back(e);
  return k;
}

void refuse_mu_unless_biased(const Settings& s, WeightLaw law) {
  if (law != WeightLaw::biased && s.given("mu"))
    throw InputError(s.source("mu") + " is the mean scale of --weights biased; with --weights " + to_string(law) +
                     " it would be ignored");
}

void refuse_zero_weights(const Settings& s, WeightLaw law, double tau) {
  if (law == WeightLaw::zero_mean && tau == 0.0)
    throw InputError(s.source("tau") + " 0 with zero-mean weights draws every query-key weight as 0, so every "
                     "feature is the same; it must be > 0 unless the weights are biased");
}

AttentionLayerOptions read_attention_layer(const Settings& s) {
  AttentionLayerOptions o;
  o.heads = static_cast<int>(s.get_int("heads", 1, 1000000));
  o.act = s.get_parsed("sigma-act", parse_rfa_activation);
  o.weights = s.get_parsed("weights", parse_weight_law);
  refuse_mu_unless_biased(s, o.weights);
  o.mu = s.get_double("mu", 0.0, 1e6);
  o.tau = s.get_double("tau", 0.0, 1e6, false);
  return o;
}

RidgeRunOptions read_ridge_runs(const Settings& s) {
  RidgeRunOptions o;
  o.sigma = s.get_double("sigma", 0.0, 1e6);
  o.ridge = parse_lambda(s, "lambda");
  o.n = s.get_sizes("n", 10);
  std::sort(o.n.begin(), o.n.end());
  o.n.erase(std::unique(o.n.begin(), o.n.end()), o.n.end());
  refuse_folds_above_samples(s, "lambda", o.ridge, o.n.front(),
                             s.source("n") + " starts at " + std::to_string(o.n.front()));
  o.seeds = static_cast<int>(s.get_int("seeds", 2, 100000));
  o.seed = s.get_seed("seed");
  o.test_n = static_cast<std::size_t>(s.get_int("test-n", 10000, 100000000));
  o.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  return o;
}

SampleComplexityOptions read_sample_complexity(const Settings& s) {
  SampleComplexityOptions o;
  static_cast<RidgeRunOptions&>(o) = read_ridge_runs(s);
  if (o.n.size() < 2) throw InputError(s.source("n") + " needs at least two distinct sample sizes, got '" + s.raw("n") + "'");
  o.eps = read_eps(s);
  return o;
}

std::vector<KeySpec> attention_shape_keys(const std::string& N_default) {
  return {inputs_key(), {"N", N_default, "keys per sample (1..10^6)"}, dimension_key()};
}

void read_attention_shape(const Settings& s, AttentionLaw& law, int& N, int& d) {
  law = s.get_parsed("inputs", AttentionLaw::parse);
  N = static_cast<int>(s.get_int("N", 1, 1000000));
  d = static_cast<int>(s.get_int("d", 1, 10000));
}

double read_eps(const Settings& s) {
  // get_double's own message for eps <= 0 would say "> 0 and <= 1"; the level is open at both ends.
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double eps = s.get_double("eps", -inf, inf);
  if (!(eps > 0.0 && eps < 1.0)) throw InputError(s.source("eps") + " must be in (0, 1), got " + s.raw("eps"));
  return eps;
}

}  // namespace attnrate
