#include "studies/commands/fit_rfa.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "estimators/ridge/ridge.hpp"
#include "studies/commands/predict.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_options.hpp"

namespace attnrate {

std::vector<KeySpec> fit_rfa_keys() {
  return with_resource_keys(
      {
          {"data", "", "attention data CSV (sample,key,x1..xd,y; key 0 is the query)", "PATH"},
          {"model", "rfa", "rfa (random-feature attention) | mlp (the random-feature MLP with heads (d+1) features)"},
          {"heads", "64", "number of heads M (1..1000000, within --max-memory); --model mlp: width M (d+1)"},
          score_activation_key(),
          {"weights", "zero-mean", "law of the frozen W_m: zero-mean | biased"},
          {"mu", "1", "mean scale of the biased law (W_m = mu diag(I_d, 0) + noise; any finite number)", "FLOAT"},
          {"tau", "0.5", "standard deviation of the entries of W_m (>= 0; > 0 with --weights zero-mean)"},
          {"mlp-act", "relu", "--model mlp: activation relu | exp"},
          {"lambda", "gcv", "ridge lambda: a number > 0, or gcv, or kfold[:K] (K folds, 2..100, default 5; chosen on the training data)",
           "gcv|kfold[:K]|FLOAT"},
          {"seed", "1", "seed of the frozen weights (and of the k-fold split)"},
      },
      true);
}

RidgeFitOptions read_fit_lambda(const Settings& s, std::uint64_t seed) {
  // The studies' rule (gcv, kfold, kfold:K or a number), with a fixed lambda > 0 here.
  RidgeFitOptions ridge = parse_lambda(s, "lambda", true);
  if (ridge.rule == LambdaRule::kfold) ridge.fold_seed = derive_seed(seed, {hash_name("folds")});
  return ridge;
}

RfaOptions read_fit_rfa_options(const Settings& s, int threads) {
  RfaOptions opt;
  opt.heads = s.get_count("heads", 1, 1000000);
  opt.activation = s.get_parsed("sigma-act", parse_rfa_activation);
  opt.law = s.get_parsed("weights", parse_weight_law);
  refuse_mu_unless_biased(s, opt.law);
  opt.mu = s.get_double("mu", -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity());
  opt.tau = s.get_double("tau", 0.0, std::numeric_limits<double>::infinity());
  refuse_zero_weights(s, opt.law, opt.tau);
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  return opt;
}

void check_fit_folds(const Settings& s, const RidgeFitOptions& ridge, std::size_t n) {
  refuse_folds_above_samples(s, "lambda", ridge, n, "the data hold n = " + std::to_string(n));
}

std::vector<std::string> ridge_fit_warnings(const RidgeFit& fit, LambdaRule rule) {
  if (rule == LambdaRule::fixed || !fit.selection.at_edge) return {};
  std::ostringstream w;
  w << "the chosen lambda = " << fit.solution.lambda << " is an end of the " << to_string(rule)
    << " search's grid, extended by 4 decades (" << fit.selection.grid.front() << " .. " << fit.selection.grid.back()
    << "); the best penalty may lie beyond it"
    << (fit.solution.lambda == fit.selection.grid.back()
            ? ": the fit is near the zero function, so the features may not learn this target at this n "
              "(a fixed --lambda sets the penalty, e.g. to compare fits)"
            : ": the fit is near the minimum-norm interpolant (a fixed --lambda below the grid goes further)");
  return {w.str()};
}

MemoryEstimate fit_rfa_memory(std::size_t samples, int N, int d, double P, int heads, int threads,
                              std::size_t block_samples) {
  const double n = static_cast<double>(samples);
  MemoryEstimate need;
  need.add("data and inputs of n x (N + 1) = " + std::to_string(samples) + " x " + std::to_string(N + 1) +
               " tokens in d = " + std::to_string(d),
           8.0 * n * (N + 1) * (2.0 * d + 1));
  add_feature_model_memory(need, heads, P, N, d, threads, std::min(n, static_cast<double>(block_samples)));
  need.add("features (n x P = " + std::to_string(static_cast<long long>(P)) + ")", 8.0 * n * P);
  need.add("Gram matrix and its eigenvectors", 24.0 * std::min(n, P) * std::min(n, P));
  return need;
}

CommandReport fit_rfa(const Settings& s, const std::filesystem::path& out, int threads) {
  if (s.raw("data").empty()) throw InputError("--data is required (the attention data CSV to fit)");
  const std::string data_path = s.raw("data");
  const std::string model_name = s.get_string("model");
  if (model_name != "rfa" && model_name != "mlp")
    throw InputError(s.source("model") + " must be rfa or mlp, got '" + model_name + "'");
  const bool mlp = model_name == "mlp";
  for (const char* key : mlp ? std::vector<const char*>{"sigma-act", "weights", "mu", "tau"}
                             : std::vector<const char*>{"mlp-act"})
    if (s.given(key))
      throw InputError(s.source(key) + " is an option of --model " + (mlp ? "rfa" : "mlp") + ", not --model " +
                       model_name);
  const MemoryBudget budget = memory_budget(s);
  const ReadLimits limits = read_limits(s);
  check_outputs({{"--out", out}}, {{"--data", data_path}});
  // --model mlp refused the attention's options above: their defaults pass these checks.
  const RfaOptions opt = read_fit_rfa_options(s, threads);
  RfMlpOptions mopt;
  mopt.activation = s.get_parsed("mlp-act", parse_mlp_activation);
  mopt.match_heads = opt.heads;
  mopt.seed = opt.seed;
  mopt.threads = threads;
  const RidgeFitOptions ridge = read_fit_lambda(s, opt.seed);
  const AttentionData data = read_attention_data(data_path, limits);
  const AttentionInputs& in = data.inputs;
  check_fit_folds(s, ridge, in.n());
  const int N = in.N, d = in.d;
  const double P = static_cast<double>(opt.heads) * (d + 1);  // the MLP's width matches the heads
  const MemoryEstimate need = fit_rfa_memory(in.n(), N, d, P, mlp ? 0 : opt.heads, threads,
                                             mlp ? mopt.block_samples : opt.block_samples);
  need.check(budget, "fit rfa", "lower --heads, or fit less data");

  nlohmann::json j;
  RidgeFit fit;
  std::size_t features = 0;
  if (mlp) {
    RandomFeatureMlp model(d, N, mopt);
    fit = on_data_file(data_path, [&] { return model.fit(in, data.y, ridge); });
    features = model.feature_count();
    j["kind"] = "rf-mlp";
    j["model"] = "random-feature MLP";
    j["heads"] = opt.heads;
    j["width"] = features;
    j["mlp_act"] = to_string(mopt.activation);
  } else {
    RandomFeatureAttention model(d, opt);
    fit = on_data_file(data_path, [&] { return model.fit(in, data.y, ridge); });
    features = model.feature_count();
    j["kind"] = "rfa";
    j["model"] = "random-feature attention";
    j["heads"] = opt.heads;
    j["sigma_act"] = s.get_string("sigma-act");
    j["weights"] = s.get_string("weights");
    if (opt.law == WeightLaw::biased) j["mu"] = opt.mu;  // the zero-mean law has no mean scale
    j["tau"] = opt.tau;
  }
  j["seed"] = opt.seed;
  j["n"] = in.n();
  j["N"] = N;
  j["d"] = d;
  j["lambda_rule"] = to_string(ridge.rule);
  j["lambda"] = fit.solution.lambda;
  j["lambda_grid"] = std::vector<double>(fit.selection.grid.begin(), fit.selection.grid.end());
  j["lambda_scores"] = std::vector<double>(fit.selection.scores.begin(), fit.selection.scores.end());
  j["lambda_at_edge"] = ridge.rule != LambdaRule::fixed && fit.selection.at_edge;
  j["form"] = to_string(fit.solution.form);
  j["solver"] = fit.solution.solver;
  j["rcond"] = fit.solution.rcond;
  j["train_mse"] = fit.solution.train_mse;
  j["coefficients"] = std::vector<double>(fit.solution.w.begin(), fit.solution.w.end());
  if (mlp) {
    j["coefficients_layout"] = "a_k = coefficients[k], k = 0..width-1, the second layer";
    j["frozen_weights"] =
        "not stored: attnrate predict redraws the first layer from seed (Rng(seed), neuron by neuron, "
        "N(0, 1/((N+1)d)) entries), as the fit did";
  } else {
    j["coefficients_layout"] = "v_m = coefficients[m (d+1) .. m (d+1) + d]; the W_m are redrawn from seed";
    j["frozen_weights"] =
        "not stored: attnrate predict redraws W_m from seed (Rng(seed), heads in order, each W_m column by "
        "column), as the fit did";
  }
  const std::vector<std::string> warnings = ridge_fit_warnings(fit, ridge.rule);
  j["warnings"] = warnings;
  j["build"] = build_info();
  write_file_atomic(out, j.dump(2) + "\n");
  std::ostringstream m;
  if (mlp) m << "RF-MLP fit: width " << features;
  else m << "RFA fit: " << opt.heads << " heads, " << features << " features";
  m << ", lambda = " << fit.solution.lambda << " (" << to_string(ridge.rule) << "), " << to_string(fit.solution.form)
    << " form, train_mse = " << fit.solution.train_mse << "\nwrote " << out.string() << "\n";
  return {m.str(), warnings};
}

}  // namespace attnrate
