#include "studies/commands/score.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <tuple>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/io/input_file.hpp"
#include "studies/io/json_file.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/pairwise/pairwise_series.hpp"

namespace attnrate {

PredictionScore score_predictions(const arma::vec& y, const arma::vec& y_hat) {
  if (y.n_elem == 0 || y.n_elem != y_hat.n_elem)
    throw InputError("score: need as many predictions as outputs (and at least one), got " +
                     std::to_string(y_hat.n_elem) + " and " + std::to_string(y.n_elem));
  PredictionScore r;
  r.n = y.n_elem;
  const double n = static_cast<double>(r.n);
  double sum = 0.0;
  for (double v : y) sum += v;
  r.y_mean = sum / n;
  double sse = 0.0, sst = 0.0;
  for (arma::uword k = 0; k < y.n_elem; ++k) {
    const double e = y[k] - y_hat[k], c = y[k] - r.y_mean;
    sse += e * e;
    sst += c * c;
  }
  r.mse = sse / n;
  r.y_variance = sst / n;
  r.r2 = sst > 0 ? 1.0 - sse / sst : std::numeric_limits<double>::quiet_NaN();
  return r;
}

namespace {

[[noreturn]] void truth_fail(const std::filesystem::path& path, const std::string& what) {
  throw InputError(path.string() + ": " + what);
}

const nlohmann::json& truth_key(const nlohmann::json& j, const std::filesystem::path& path, const char* key) {
  if (!j.contains(key))
    truth_fail(path,
               std::string("missing key '") + key + "' (a truth file written by attnrate simulate pairwise has it)");
  return j.at(key);
}

int truth_int(const nlohmann::json& j, const std::filesystem::path& path, const char* key, int lo, int hi) {
  const nlohmann::json& v = truth_key(j, path, key);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
    truth_fail(path, std::string("'") + key + "' must be an integer in " + std::to_string(lo) + ".." +
                         std::to_string(hi) + ", got " + v.dump());
  return static_cast<int>(v.get<long long>());
}

std::string truth_text(const nlohmann::json& j, const std::filesystem::path& path, const char* key) {
  const nlohmann::json& v = truth_key(j, path, key);
  if (!v.is_string()) truth_fail(path, std::string("'") + key + "' must be a string, got " + v.dump());
  return v.get<std::string>();
}

}  // namespace

PairwiseTruth read_truth(const std::filesystem::path& path, const ReadLimits& limits) {
  const nlohmann::json j =
      read_json_file(path, limits, "give a NAME.truth.json written by attnrate simulate pairwise");
  if (!j.is_object()) truth_fail(path, "not a truth file (a JSON object written by attnrate simulate pairwise)");
  if (j.contains("kind") && j.at("kind") != "pairwise-truth")
    truth_fail(path, "'kind' is " + j.at("kind").dump() +
                         ", not \"pairwise-truth\"; give a NAME.truth.json written by "
                         "attnrate simulate pairwise");
  PairwiseTruth t;
  t.spec.activation = truth_text(j, path, "activation");
  t.spec.tokens = truth_text(j, path, "tokens");
  t.spec.N = truth_int(j, path, "N", 2, 100000);
  t.spec.d = truth_int(j, path, "d", 1, 100000);
  t.spec.r = truth_int(j, path, "r", 1, t.spec.d);
  const nlohmann::json& sigma = truth_key(j, path, "sigma");
  if (!sigma.is_number() || !(sigma.get<double>() >= 0))
    truth_fail(path, "'sigma' must be a number >= 0, got " + sigma.dump());
  t.spec.sigma = sigma.get<double>();
  const nlohmann::json& seed = truth_key(j, path, "activation_seed");
  if (!seed.is_number_unsigned())
    truth_fail(path, "'activation_seed' must be an integer in 0..2^64-1, got " + seed.dump());
  t.activation_seed = seed.get<std::uint64_t>();
  try {
    validate(t.spec);
  } catch (const InputError& e) {
    truth_fail(path, e.what());
  }
  const std::filesystem::path a_name = truth_text(j, path, "A");
  t.a_path = a_name.is_absolute() ? a_name : path.parent_path() / a_name;
  if (!std::filesystem::exists(t.a_path))
    truth_fail(path, "names the A file " + t.a_path.string() +
                         ", which does not exist; keep NAME.A.csv beside NAME.truth.json as simulate wrote them");
  t.A = read_matrix_csv(t.a_path, t.spec.d, limits);
  return t;
}

PairwiseModel truth_model(const PairwiseTruth& truth) {
  return PairwiseModel(truth.spec, truth.activation_seed, truth.A);
}

ComposedError composed_error(const PairwiseFitModel& fit, const PairwiseModel& model, std::size_t pairs,
                             std::uint64_t seed, int threads) {
  if (static_cast<int>(fit.A.n_rows) != model.d())
    throw InputError("the fit has d = " + std::to_string(fit.A.n_rows) +
                     " but the truth has d = " + std::to_string(model.d()));
  if (pairs < 2) throw InputError("the composed error needs at least 2 test pairs");
  const arma::mat P = model.draw_token_pairs(seed, pairs);
  std::vector<double> sq(pairs);
  std::size_t clamped = 0, overflow = 0;
  const int T = threads > 0 ? threads : omp_get_max_threads();
  const int d = model.d();
#pragma omp parallel for schedule(static) num_threads(T) reduction(+ : clamped, overflow)
  for (std::size_t t = 0; t < pairs; ++t) {
    const double* x = P.colptr(2 * t);
    const double* y = P.colptr(2 * t + 1);
    const double u = bilinear_form(fit.A, x, y, d);  // as fitted_g forms it
    clamped += !fit.phi.contains(u);
    overflow += !std::isfinite(u);
    const double e = fit.phi.value(u) - model.g(x, y);
    sq[t] = e * e;
  }
  if (overflow > 0)
    throw InputError("the fit's A gives non-finite interactions x^T A_hat y on " + std::to_string(overflow) + " of " +
                     std::to_string(pairs) + " test pairs (its entries are too large); check the fit");
  ComposedError r;
  std::tie(r.error, r.se) = mean_and_se(sq);
  r.pairs = pairs;
  r.clamped = clamped;
  return r;
}

std::vector<KeySpec> score_keys() {
  return with_resource_keys(
      {
          {"fit", "", "fit.json written by attnrate fit pairwise|rfa", "PATH"},
          {"data", "", "data CSV with outputs y, in the fit's format: MSE and R^2 of the predictions", "PATH"},
          {"truth", "", "NAME.truth.json of simulate pairwise (pairwise fits): the composed L2(rho) error of g_hat", "PATH"},
          {"test-pairs", "100000", "--truth: fresh token pairs of the Monte Carlo error (1000..10^9)"},
          {"seed", "1", "--truth: seed of the test pairs"},
      },
      true);
}

namespace {

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string short_text(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

}  // namespace

CommandReport score(const Settings& s, const std::filesystem::path& out, int threads) {
  const std::string fit_path = s.raw("fit"), data_path = s.raw("data"), truth_path = s.raw("truth");
  if (fit_path.empty()) throw InputError("--fit is required (a fit.json written by attnrate fit)");
  if (data_path.empty() && truth_path.empty())
    throw InputError(
        "give --data (MSE and R^2 on a data file) or --truth (the composed error against a simulation), or both");
  if (truth_path.empty())
    for (const char* key : {"test-pairs", "seed"})
      if (s.given(key))
        throw InputError(s.source(key) + " is used with --truth only (the composed error's test pairs)");
  const std::size_t test_pairs = s.get_size("test-pairs", kMinTestPairs, kMaxTestPairs);
  const std::uint64_t seed = s.get_seed("seed");
  const MemoryBudget budget = memory_budget(s);
  const ReadLimits limits = read_limits(s);
  std::vector<NamedPath> inputs{{"--fit", fit_path}};
  if (!data_path.empty()) inputs.push_back({"--data", data_path});
  if (!truth_path.empty()) inputs.push_back({"--truth", truth_path});
  if (!out.empty()) check_outputs({{"--out", out}}, inputs);

  const FittedModel fit = read_fit(fit_path, limits);
  model_memory(fit, threads).check(budget, "score", "score a smaller fit");
  std::optional<PairwiseTruth> truth;
  if (!truth_path.empty()) {
    if (fit.kind != FitKind::pairwise)
      throw InputError("--truth is for pairwise fits; --fit " + fit_path + " is a " + to_string(fit.kind) +
                       " fit (score it with --data)");
    truth = read_truth(truth_path, limits);
    if (!out.empty()) check_outputs({{"--out", out}}, {{"--truth (its A file)", truth->a_path}});
    if (truth->spec.d != fit.d)
      throw InputError("--truth " + truth_path + " has d = " + std::to_string(truth->spec.d) + " but --fit " +
                       fit_path + " was fitted on d = " + std::to_string(fit.d));
    MemoryEstimate need;
    need.add("test pairs (--test-pairs " + std::to_string(test_pairs) + " in d = " + std::to_string(fit.d) + ")",
             8.0 * static_cast<double>(test_pairs) * (2.0 * fit.d + 1.0));
    need.check(budget, "score", "lower --test-pairs");
  }

  nlohmann::json j;
  j["command"] = "score";
  j["fit"] = fit_path;
  j["kind"] = to_string(fit.kind);
  j["model"] = fit.describe();
  std::ostringstream m;
  m << "score of " << fit_path << " (" << fit.describe() << ")\n";
  j["data"] = nullptr;
  if (!data_path.empty()) {
    arma::vec y, y_hat;
    std::string unit;
    if (fit.kind == FitKind::pairwise) {
      const PairwiseData data = read_pairwise_csv(data_path, limits);
      if (data.d != fit.d)
        throw InputError("--data " + data_path + " has d = " + std::to_string(data.d) + " but --fit " + fit_path +
                         " was fitted on d = " + std::to_string(fit.d));
      check_prediction_memory(fit, data, threads, budget, "score");
      y_hat = on_data_file(data_path, [&] { return predict_pairwise(*fit.pairwise, data, threads); });
      y = data.Y;
      unit = "token outputs";
    } else {
      const AttentionData data = read_attention_data(data_path, limits);
      if (data.inputs.d != fit.d)
        throw InputError("--data " + data_path + " has d = " + std::to_string(data.inputs.d) + " but --fit " +
                         fit_path + " was fitted on d = " + std::to_string(fit.d));
      if (fit.kind == FitKind::rf_mlp && data.inputs.N != fit.N)
        throw InputError("--data " + data_path + " has N = " + std::to_string(data.inputs.N) +
                         " keys per sample but the RF-MLP --fit " + fit_path +
                         " was fitted on N = " + std::to_string(fit.N));
      check_prediction_memory(fit, data, threads, budget, "score");
      y_hat = on_data_file(data_path, [&] { return predict_attention(fit, data.inputs, threads); });
      y = data.y;
      unit = "samples";
    }
    const PredictionScore sc = score_predictions(y, y_hat);
    j["data"] = {{"path", data_path},           {"outputs", sc.n},     {"mse", sc.mse},
                 {"r2", finite_or_null(sc.r2)}, {"y_mean", sc.y_mean}, {"y_variance", sc.y_variance}};
    // The predictions are finite (predict refuses others) and so is y (the reader does).
    m << "on " << data_path << " (" << sc.n << " " << unit << "): MSE = " << short_text(sc.mse) << ", R^2 = "
      << (std::isfinite(sc.r2) ? short_text(sc.r2)
          : sc.y_variance == 0.0
              ? std::string("undefined (y is constant)")
          : !std::isfinite(sc.y_variance)
              ? "undefined (the squared deviations of y overflow: largest |y| = " + short_text(arma::abs(y).max()) +
                    "; scale y down)"
              : std::string("undefined (the squared errors overflow: the predictions are far beyond y; inputs far "
                            "outside the training data, or the fit's coefficients)"))
      << "\n";
  }
  j["truth"] = nullptr;
  if (truth) {
    const PairwiseModel model = truth_model(*truth);
    const std::uint64_t pair_seed = derive_seed(seed, {hash_name("test")});
    const ComposedError e = composed_error(*fit.pairwise, model, test_pairs, pair_seed, threads);
    j["truth"] = {{"path", truth_path},
                  {"activation", model.phi().name()},
                  {"composed_error", e.error},
                  {"composed_error_se", e.se},
                  {"test_pairs", e.pairs},
                  {"seed", seed},
                  {"test_clamped", e.clamped},
                  {"definition",
                   "mean over fresh token pairs (X_1, X_2) from the token law of "
                   "(phi_hat(X_1^T A_hat X_2) - phi(X_1^T A X_2))^2; pairs from "
                   "Rng(derive_seed(seed, \"test\"))"}};
    m << "composed L2(rho) error ||g_hat - g||^2 = " << short_text(e.error);
    if (std::isfinite(e.error))
      m << " (Monte Carlo SE " << short_text(e.se) << ", " << e.pairs << " token pairs, seed " << seed << "; "
        << e.clamped << " outside the spline range)\n";
    else
      m << " (not finite: phi_hat overflows or is not finite on some of the " << e.pairs
        << " token pairs; check the fit's coefficients)\n";
  }
  std::vector<std::string> warnings;
  // A fit with A known was fitted with some A: scoring it against a truth with another is almost
  // surely a mixed-up file (the error is then that of the wrong model).
  // (1e-9 relative: an A written out and read back, or rounded by hand, is still the same A.)
  if (truth && fit.pairwise->a_known && fit.pairwise->A.n_rows == truth->A.n_rows &&
      !arma::approx_equal(fit.pairwise->A, truth->A, "reldiff", 1e-9)) {
    const double diff = arma::abs(fit.pairwise->A - truth->A).max();
    std::ostringstream w;
    w << "the fit's A (known, in --fit) is not the truth's A (--truth; largest difference " << short_text(diff)
      << ", relative to the largest entry " << short_text(diff / std::max(arma::abs(truth->A).max(), 1e-300))
      << "): the fit is scored against a model it was not fitted with; check that --fit and --truth belong "
         "together";
    warnings.push_back(w.str());
  }
  if (truth) j["truth"]["warnings"] = warnings;
  j["build"] = build_info();
  if (!out.empty()) {
    write_file_atomic(out, j.dump(2) + "\n");
    m << "wrote " << out.string() << "\n";
  }
  return {m.str(), warnings};
}

}  // namespace attnrate
