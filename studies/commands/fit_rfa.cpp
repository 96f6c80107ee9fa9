#include "studies/commands/fit_rfa.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/rfa/rfa_options.hpp"

namespace attnrate {

std::vector<KeySpec> fit_rfa_keys() {
  return with_resource_keys(
      {
          {"data", "", "attention data CSV (sample,key,x1..xd,y; key 0 is the query)", "PATH"},
          {"heads", "64", "number of heads M (1..1000000, within --max-memory)"},
          score_activation_key(),
          {"weights", "zero-mean", "law of the frozen W_m: zero-mean | biased"},
          {"mu", "1", "mean scale of the biased law (W_m = mu diag(I_d, 0) + noise; any finite number)", "FLOAT"},
          {"tau", "0.5", "standard deviation of the entries of W_m (>= 0)"},
          {"lambda", "gcv", "ridge lambda: a number > 0, or gcv, or kfold (chosen on the training data)", "gcv|kfold[:K]|FLOAT"},
          {"seed", "1", "seed of the frozen W_m (and of the k-fold split)"},
      },
      true);
}

CommandReport fit_rfa(const Settings& s, const std::filesystem::path& out, int threads) {
  if (s.raw("data").empty()) throw InputError("--data is required (the attention data CSV to fit)");
  const std::string data_path = s.raw("data");
  const MemoryBudget budget = memory_budget(s);
  const ReadLimits limits = read_limits(s);
  check_outputs({{"--out", out}}, {{"--data", data_path}});
  const LongTable t = read_long_csv(data_path, "key", limits);
  const int N = t.T - 1, d = t.d;
  RfaOptions opt;
  opt.heads = s.get_count("heads", 1, 1000000);
  opt.activation = parse_rfa_activation(s.get_string("sigma-act"));
  opt.law = parse_weight_law(s.get_string("weights"));
  opt.mu = s.get_double("mu", -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity());
  opt.tau = s.get_double("tau", 0.0, std::numeric_limits<double>::infinity());
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  RidgeFitOptions ridge;
  const std::string lambda = s.get_string("lambda");
  if (lambda == "gcv") ridge.rule = LambdaRule::gcv;
  else if (lambda == "kfold") {
    ridge.rule = LambdaRule::kfold;
    ridge.fold_seed = derive_seed(opt.seed, {hash_name("folds")});
  } else {
    ridge.rule = LambdaRule::fixed;
    ridge.lambda = s.get_double("lambda", 0.0, std::numeric_limits<double>::infinity(), false);
  }
  const double n = static_cast<double>(t.M), P = static_cast<double>(opt.heads) * (d + 1);
  MemoryEstimate need;
  need.add("data and inputs of n x (N + 1) = " + std::to_string(t.M) + " x " + std::to_string(t.T) +
               " tokens in d = " + std::to_string(d),
           8.0 * n * t.T * (2.0 * d + 1));
  need.add("frozen weights of " + std::to_string(opt.heads) + " heads", 16.0 * opt.heads * (d + 1.0) * (d + 1.0));
  need.add("features (n x M(d+1))", 8.0 * n * P);
  need.add("Gram matrix and its eigenvectors", 24.0 * std::min(n, P) * std::min(n, P));
  need.check(budget, "fit rfa", "lower --heads, or fit less data");

  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query.set_size(d, t.M);
  in.keys.set_size(d, t.M * N);
  arma::vec y(t.M);
  for (std::size_t m = 0; m < t.M; ++m) {
    in.query.col(m) = t.X.col(m * t.T);
    y[m] = t.Y[m * t.T];
    for (int i = 0; i < N; ++i) {
      in.keys.col(m * N + i) = t.X.col(m * t.T + 1 + i);
      if (t.Y[m * t.T + 1 + i] != y[m])
        throw InputError(data_path + ":" + std::to_string(2 + m * t.T + 1 + i) + ":" + std::to_string(d + 3) +
                         ": y must be the same on every row of a sample (one output per sample), got " +
                         format_double(t.Y[m * t.T + 1 + i]) + " after " + format_double(y[m]));
    }
  }
  RandomFeatureAttention model(d, opt);
  const RidgeFit fit = model.fit(in, y, ridge);
  nlohmann::json j;
  j["model"] = "random-feature attention";
  j["heads"] = opt.heads;
  j["sigma_act"] = s.get_string("sigma-act");
  j["weights"] = s.get_string("weights");
  j["mu"] = opt.mu;
  j["tau"] = opt.tau;
  j["seed"] = opt.seed;
  j["n"] = t.M;
  j["N"] = N;
  j["d"] = d;
  j["lambda_rule"] = to_string(ridge.rule);
  j["lambda"] = fit.solution.lambda;
  j["lambda_grid"] = std::vector<double>(fit.selection.grid.begin(), fit.selection.grid.end());
  j["lambda_scores"] = std::vector<double>(fit.selection.scores.begin(), fit.selection.scores.end());
  j["form"] = to_string(fit.solution.form);
  j["solver"] = fit.solution.solver;
  j["rcond"] = fit.solution.rcond;
  j["train_mse"] = fit.solution.train_mse;
  j["coefficients"] = std::vector<double>(fit.solution.w.begin(), fit.solution.w.end());
  j["coefficients_layout"] = "v_m = coefficients[m (d+1) .. m (d+1) + d]; the W_m are redrawn from seed";
  j["build"] = build_info();
  write_file_atomic(out, j.dump(2) + "\n");
  std::ostringstream m;
  m << "RFA fit: M = " << opt.heads << " heads, " << model.feature_count() << " features, lambda = "
    << fit.solution.lambda << " (" << to_string(ridge.rule) << "), " << to_string(fit.solution.form)
    << " form, train_mse = " << fit.solution.train_mse << "\nwrote " << out.string() << "\n";
  return {m.str(), {}};
}

}  // namespace attnrate
