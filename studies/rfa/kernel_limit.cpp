#include "studies/rfa/kernel_limit.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/stats/sample_complexity.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/mlp_kernel.hpp"
#include "theory/rfa/rfa_kernel.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> kernel_limit_keys() {
  return {
      inputs_key(),
      {"N", "2,4,8,16", "numbers of keys (list, each 1..10^6)"},
      dimension_key(),
      {"tau", "0.5", "RFA query-key weight standard deviation (> 0; zero-mean law)"},
      {"target", "key-poly:2", "target: inner-poly:p | key-poly:p | mixed:p | cos-inner[:w] | first-key | first-key-poly:p"},
      {"sigma", "0.1", "noise standard deviation (targets have unit variance; >= 0)"},
      {"n", "64:4096:x2", "training sample sizes, increasing: list or log grid FIRST:LAST:xFACTOR (each >= 20)"},
      {"validation", "0.25", "fraction of the n training samples that chooses lambda (in (0, 0.5])"},
      {"lambda-grid", "1e-7:1:x10", "penalties tried (log grid FIRST:LAST:xFACTOR or an increasing list; each > 0)"},
      {"seeds", "5", "repetitions (2..10000)"},
      base_seed_key(),
      {"test-n", "2000", "fresh test inputs for the normalised error (500..10^6)"},
      {"eps", "0.2", "error level defining the sample complexity n_eps (in (0, 1))"},
      bootstrap_key(),
  };
}

struct Config {
  AttentionLaw law;
  std::vector<std::size_t> N, n;
  int d = 8;
  double tau = 0.5, sigma = 0.1, validation = 0.25, eps = 0.2;
  std::vector<double> lambdas;
  std::string target;
  int seeds = 5;
  std::uint64_t seed = 1;
  std::size_t test_n = 2000;
  int bootstrap = 2000;
};

std::vector<double> read_lambda_grid(const Settings& s) {
  const std::string& v = s.raw("lambda-grid");
  std::vector<double> out;
  const auto colon = v.find(':');
  if (colon != std::string::npos) {
    const auto second = v.find(":x", colon + 1);
    double first = 0, last = 0, factor = 0;
    const bool numbers = second != std::string::npos && parse_double(v.substr(0, colon), first) &&
                         parse_double(v.substr(colon + 1, second - colon - 1), last) &&
                         parse_double(v.substr(second + 2), factor);
    if (!numbers || !(first > 0) || !(last >= first) || !(factor > 1) || !std::isfinite(last))
      throw InputError(s.source("lambda-grid") + " must be FIRST:LAST:xFACTOR with 0 < FIRST <= LAST and FACTOR > 1, got '" + v + "'");
    for (double l = first; l <= last * (1 + 1e-9) && out.size() < 200; l *= factor) out.push_back(l);
  } else {
    out = get_double_list(s, "lambda-grid", std::numeric_limits<double>::min(), std::numeric_limits<double>::max());
  }
  if (out.empty() || out.size() >= 200) throw InputError(s.source("lambda-grid") + " must give 1 to 199 penalties");
  for (std::size_t i = 1; i < out.size(); ++i)
    if (!(out[i] > out[i - 1]))
      throw InputError(s.source("lambda-grid") + " must list penalties in increasing order, got '" + v + "'");
  return out;
}

Config read_config(const Settings& s) {
  Config c;
  c.law = s.get_parsed("inputs", AttentionLaw::parse);
  c.N = s.get_sizes("N", 1, 1000000);
  c.d = static_cast<int>(s.get_int("d", 1, 10000));
  c.tau = s.get_double("tau", 0.0, 1e6, false);
  c.target = s.get_string("target");
  c.sigma = s.get_double("sigma", 0.0, 1e6);
  c.n = s.get_sizes("n", 20);
  if (c.n.size() < 2) throw InputError(s.source("n") + " needs at least two training sizes");
  // Each curve grows one training set and stops at the first size that reaches eps.
  if (!std::is_sorted(c.n.begin(), c.n.end()))
    throw InputError(s.source("n") + " must list training sizes in increasing order, got '" + s.raw("n") + "'");
  c.validation = s.get_double("validation", 0.0, 0.5, false);
  c.lambdas = read_lambda_grid(s);
  c.seeds = static_cast<int>(s.get_int("seeds", 2, 10000));
  c.seed = s.get_seed("seed");
  c.test_n = static_cast<std::size_t>(s.get_int("test-n", 500, 1000000));
  c.eps = read_eps(s);
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  // The target must parse for every N (checked once with the smallest).
  check_study_targets(s, "target", {c.target}, c.d, c.law);
  return c;
}

// One model's error curve over the n grid, stopping after the first n with error <= eps. Each
// lambda search also scores penalties on the sweep's idle threads, at most one (one more
// factorisation buffer): the cells left at the end of the sweep use the cores the finished ones
// freed, with the same bits.
template <class Kernel>
nlohmann::json error_curve(const Kernel& kernel, const Config& c, const AttentionInputs& train, const arma::vec& y,
                           const AttentionInputs& test, const arma::vec& truth) {
  nlohmann::json curve = {{"n", nlohmann::json::array()}, {"error", nlohmann::json::array()},
                          {"lambda", nlohmann::json::array()}, {"lambda_at_edge", nlohmann::json::array()}};
  // The training sets are nested (the first n samples), so each Gram matrix extends the last
  // one, and the test-by-training matrix gains the new samples' columns: the same entries as
  // computed afresh, each once.
  arma::mat K, K_test;
  for (std::size_t n : c.n) {
    const std::size_t m = K.n_rows;
    const AttentionInputs tr = train.samples(0, n);
    const arma::vec yn = y.head(n);
    K = kernel.gram(tr, K);
    K_test = arma::join_rows(K_test, kernel.gram(test, train.samples(m, n)));
    // lambda on the validation split: fit on the first n_fit, score on the rest.
    const std::size_t n_val = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(c.validation * n)));
    const std::size_t n_fit = n - n_val;
    const arma::mat K_fit = K.submat(0, 0, n_fit - 1, n_fit - 1);
    const arma::mat K_val = K.submat(n_fit, 0, n - 1, n_fit - 1);
    const int lambda_threads = 1 + std::min(1, idle_sweep_threads());
    std::vector<KernelRidgeSolver> solvers;
    for (int t = 0; t < lambda_threads; ++t) solvers.emplace_back(K_fit);
    const arma::vec y_fit = yn.head(n_fit);
    const auto validation_mse = [&](double l, int slot) {
      const arma::vec a = solvers[static_cast<std::size_t>(slot)].solve(y_fit, l);
      const arma::vec r = kernel_predict(K_val, a) - yn.tail(n_val);
      return arma::dot(r, r) / static_cast<double>(n_val);
    };
    const GridMinimum choice = minimise_on_grid(arma::vec(c.lambdas), validation_mse, 4.0, lambda_threads);
    const double lambda = choice.lambda;
    const arma::vec alpha = kernel_ridge_coefficients(K, yn, lambda);
    const double error = normalised_test_error(kernel_predict(K_test, alpha), truth).error;
    curve["n"].push_back(n);
    curve["error"].push_back(error);
    curve["lambda"].push_back(lambda);
    curve["lambda_at_edge"].push_back(choice.at_edge);
    if (error <= c.eps) break;
  }
  return curve;
}

Crossing curve_crossing(const nlohmann::json& curve, double eps) {
  std::vector<double> n, e;
  for (const auto& v : curve.at("n")) n.push_back(v.get<double>());
  for (const auto& v : curve.at("error")) e.push_back(v.get<double>());
  return crossing_n(n, e, eps);
}

void validate_curve(const nlohmann::json& curve) {
  const auto& n = curve.at("n");
  const auto& e = curve.at("error");
  if (!n.is_array() || !e.is_array() || n.size() != e.size() || n.empty())
    throw InputError("a curve needs as many errors as sizes");
  for (const auto& v : e)
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
      throw InputError("errors must be finite and >= 0");
  const auto& edge = curve.at("lambda_at_edge");
  if (!edge.is_array() || edge.size() != n.size()) throw InputError("a curve needs a lambda_at_edge flag per size");
  for (const auto& v : edge)
    if (!v.is_boolean()) throw InputError("lambda_at_edge flags must be true or false");
}

// A mean of logs as a ratio measurement: exp of the mean and of both interval ends.
Measurement ratio_measurement(const std::string& quantity, std::map<std::string, std::string> select,
                              const std::vector<double>& logs, const Config& c, std::uint64_t boot_seed) {
  Measurement r = exp_mean_measurement(mean_ci(logs, 0.95, c.bootstrap, boot_seed), quantity, std::move(select));
  r.details["repetitions"] = logs.size();
  r.details["per_repetition"] = nlohmann::json::array();
  for (double v : logs) r.details["per_repetition"].push_back(std::exp(v));
  r.details["figure"] = "kernel-limit.png";
  return r;
}

nlohmann::json run_kernel_limit(const Config& c, const Settings& settings, const StudyContext& ctx) {
  pin_blas_to_one_thread();
  nlohmann::json params = parameters_json(settings);
  SweepSpec sweep = sweep_spec("kernel-limit", params, "kernel-limit " + c.target);
  const auto coords =
      add_repeated_cells(sweep, c.N, c.seeds, [](std::size_t N) { return std::string("N").append(std::to_string(N)); });
  const RfaKernel rfa(c.tau, 0.0);
  const MlpKernel mlp;
  const auto cells = run_sweep(
      ctx, sweep,
      [&](std::size_t i, int) {
        const auto [N, rep] = coords[i];
        const auto urep = static_cast<std::uint64_t>(rep), uN = static_cast<std::uint64_t>(N);
        const int n_keys = static_cast<int>(N);
        const StudyTarget target(c.target, c.d, c.law, derive_seed(c.seed, {hash_name("target"), uN, urep}));
        const AttentionInputs train = c.law.sample(c.d, n_keys, c.n.back(), derive_seed(c.seed, {hash_name("train"), uN, urep}));
        const AttentionInputs test = c.law.sample(c.d, n_keys, c.test_n, derive_seed(c.seed, {hash_name("test"), uN, urep}));
        arma::vec y = target.evaluate(train);
        add_noise(y, c.sigma, derive_seed(c.seed, {hash_name("noise"), uN, urep}));
        const arma::vec truth = target.evaluate(test);
        return nlohmann::json{{"N", N},
                              {"rep", rep},
                              {"rfa", error_curve(rfa, c, train, y, test, truth)},
                              {"mlp", error_curve(mlp, c, train, y, test, truth)}};
      },
      [](const nlohmann::json& j) {
        validate_curve(j.at("rfa"));
        validate_curve(j.at("mlp"));
      });

  // cells.csv: one row per (N, rep, model, n).
  CsvTable table;
  table.columns = {"target", "N", "rep", "model", "n", "error", "lambda", "lambda_at_edge"};
  LambdaEdgeCount edges(arma::vec(c.lambdas));  // the validation-split penalties
  SampleComplexityFigure fig;
  fig.title = "kernel-limit: infinite-width RFA and RF-MLP kernel ridge, " + c.target;
  fig.note = "dotted: eps = " + format_short(c.eps) +
             "; n_eps is the first crossing of this error level (open markers: geometric mean over repetitions)";
  fig.marks_y = {c.eps};
  fig.eps = c.eps;
  std::map<std::size_t, std::vector<Crossing>> rfa_n, mlp_n;
  for (const auto& cell : cells) {
    const auto N = cell.at("N").get<std::size_t>();
    for (const char* model : {"rfa", "mlp"}) {
      const auto& curve = cell.at(model);
      for (std::size_t k = 0; k < curve.at("n").size(); ++k)
        table.rows.push_back({c.target, std::to_string(N), std::to_string(cell.at("rep").get<int>()), model,
                              std::to_string(curve.at("n")[k].get<std::size_t>()),
                              format_double(curve.at("error")[k].get<double>()),
                              format_double(curve.at("lambda")[k].get<double>()),
                              curve.at("lambda_at_edge")[k].get<bool>() ? "1" : "0"});
      for (std::size_t k = 0; k < curve.at("lambda").size(); ++k)
        edges.add(true, curve.at("lambda_at_edge")[k].get<bool>(), curve.at("lambda")[k].get<double>());
      (std::string(model) == "rfa" ? rfa_n : mlp_n)[N].push_back(curve_crossing(curve, c.eps));
    }
  }
  for (std::size_t N : c.N)
    for (const char* model : {"rfa", "mlp"}) {
      SampleComplexityCurve sc;
      sc.label = std::string(model) == "rfa" ? "RFA kernel, N = " + std::to_string(N) : "MLP kernel, N = " + std::to_string(N);
      for (const auto& cell : cells)
        if (cell.at("N").get<std::size_t>() == N)
          for (std::size_t k = 0; k < cell.at(model).at("n").size(); ++k) {
            sc.n.push_back(cell.at(model).at("n")[k].get<double>());
            sc.error.push_back(std::max(cell.at(model).at("error")[k].get<double>(), 1e-300));
          }
      mark_n_eps(sc, (std::string(model) == "rfa" ? rfa_n : mlp_n).at(N));
      fig.curves.push_back(sc);
    }

  nlohmann::json summary = start_summary("kernel-limit", params);
  std::map<std::size_t, std::vector<double>> log_ratio;
  for (std::size_t N : c.N) {
    std::vector<double> logs, rfa_logs, mlp_logs;
    for (std::size_t r = 0; r < rfa_n[N].size(); ++r) {
      logs.push_back(std::log(mlp_n[N][r].n / rfa_n[N][r].n));
      rfa_logs.push_back(std::log(rfa_n[N][r].n));
      mlp_logs.push_back(std::log(mlp_n[N][r].n));
    }
    log_ratio[N] = logs;
    const std::string sN = std::to_string(N);
    Measurement m = ratio_measurement("n-ratio", {{"N", sN}}, logs, c, derive_seed(c.seed, {hash_name("boot-ratio"), N}));
    Measurement e_rfa = ratio_measurement("n-eps", {{"model", "rfa"}, {"N", sN}}, rfa_logs, c,
                                          derive_seed(c.seed, {hash_name("boot-n"), hash_name("rfa"), N}));
    Measurement e_mlp = ratio_measurement("n-eps", {{"model", "mlp"}, {"N", sN}}, mlp_logs, c,
                                          derive_seed(c.seed, {hash_name("boot-n"), hash_name("mlp"), N}));
    for (std::size_t r = 0; r < rfa_n[N].size(); ++r) {
      add_censoring(m, mlp_n[N][r].censoring, +1);
      add_censoring(m, rfa_n[N][r].censoring, -1);
      add_censoring(e_rfa, rfa_n[N][r].censoring, +1);
      add_censoring(e_mlp, mlp_n[N][r].censoring, +1);
    }
    for (const Measurement* q : {&m, &e_rfa, &e_mlp}) summary["quantities"].push_back(to_json(*q));
  }
  // Growth of the ratio between every pair of N (repetitions paired by index):
  // growth = (mlp(Nb) / rfa(Nb)) / (mlp(Na) / rfa(Na)).
  for (std::size_t a = 0; a < c.N.size(); ++a)
    for (std::size_t b = a + 1; b < c.N.size(); ++b) {
      const std::size_t Na = c.N[a], Nb = c.N[b];
      std::vector<double> logs;
      for (std::size_t r = 0; r < log_ratio[Na].size(); ++r) logs.push_back(log_ratio[Nb][r] - log_ratio[Na][r]);
      Measurement g = ratio_measurement("ratio-growth", {{"from-N", std::to_string(Na)}, {"to-N", std::to_string(Nb)}},
                                        logs, c, derive_seed(c.seed, {hash_name("boot-growth"), Na, Nb}));
      for (std::size_t r = 0; r < log_ratio[Na].size(); ++r) {
        add_censoring(g, mlp_n[Nb][r].censoring, +1);
        add_censoring(g, rfa_n[Nb][r].censoring, -1);
        add_censoring(g, mlp_n[Na][r].censoring, -1);
        add_censoring(g, rfa_n[Na][r].censoring, +1);
      }
      summary["quantities"].push_back(to_json(g));
    }
  write_cells_csv(table, ctx);
  summary["figure"] = write_study_figure(fig, "kernel-limit", ctx);
  summary["lambda_at_grid_edge"] = edges.to_json();
  return summary;
}

}  // namespace

StudyDefinition kernel_limit_study() {
  return define_study(
      "kernel-limit",
      "RFA vs RF-MLP as kernel ridge with their infinite-width kernels: n_eps ratio per N and its growth",
      kernel_limit_keys,
      {{"n-ratio", "MLP/RFA ratio of n_eps (geometric mean over repetitions)", {"N"}},
       {"ratio-growth", "n-ratio at to-N over n-ratio at from-N (paired repetitions)", {"from-N", "to-N"}},
       {"n-eps", "n_eps of one model (geometric mean over repetitions)", {"model", "N"}}},
      read_config, run_kernel_limit);
}

}  // namespace attnrate
