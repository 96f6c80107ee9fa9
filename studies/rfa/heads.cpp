#include "studies/rfa/heads.hpp"

// With features not scaled by 1/sqrt(M), sum_m <phi_m, phi_m'> ~ M K,
// so RFA ridge with penalty lambda has the predictor K_M (K_M + n lambda I)^{-1} y ->
// K (K + n (lambda/M) I)^{-1} y: RFA with lambda = M lambda_K tends to kernel ridge with lambda_K.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"
#include "theory/rfa/rfa_kernel.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> heads_keys() {
  std::vector<KeySpec> k = attention_shape_keys("4");
  k.insert(k.end(), {
      {"heads", "256:2048:x2", "numbers of heads M: list or log grid FIRST:LAST:xFACTOR (each 1..10^6)"},
      {"sigma-act", "relu", "score activation (the kernel limit is implemented for relu only)"},
      {"weights", "zero-mean", "query-key weight law: zero-mean | biased (the biased kernel is ~30x slower)"},
      bias_scale_key(),
      weight_noise_key(),
      {"target", "key-poly:2", "target: inner-poly:p | key-poly:p | mixed:p | cos-inner[:w] | first-key | first-key-poly:p"},
      target_noise_key(),
      {"n", "1000", "training sample size (10..10^6)"},
      {"lambda", "gcv", "kernel ridge penalty lambda_K: gcv (on the training kernel matrix) | number > 0; "
                        "RFA with M heads uses M lambda_K", "gcv|FLOAT"},
      {"seeds", "5", "repetitions (2..100000)"},
      base_seed_key(),
      {"test-n", "10000", "fresh test inputs (10000..10^8)"},
      bootstrap_key(),
  });
  return k;
}

struct Config {
  AttentionLaw law;
  int N = 4, d = 8;
  std::vector<std::size_t> heads;
  WeightLaw weights = WeightLaw::zero_mean;
  double mu = 1, tau = 0.5, sigma = 0.1, lambda = 0;
  bool gcv = true;
  std::string target;
  std::size_t n = 1000, test_n = 10000;
  int seeds = 5, bootstrap = 2000;
  std::uint64_t seed = 1;
};

Config read_config(const Settings& s) {
  Config c;
  read_attention_shape(s, c.law, c.N, c.d);
  c.heads = s.get_sizes("heads", 1, 1000000);
  std::sort(c.heads.begin(), c.heads.end());
  c.heads.erase(std::unique(c.heads.begin(), c.heads.end()), c.heads.end());
  if (c.heads.size() < 2) throw InputError(s.source("heads") + " needs at least two distinct head counts to fit a rate");
  if (s.get_parsed("sigma-act", parse_rfa_activation) != RfaActivation::relu)
    throw InputError(s.source("sigma-act") + " = " + s.raw("sigma-act") +
                     ": the infinite-width kernel is implemented for relu only");
  c.weights = s.get_parsed("weights", parse_weight_law);
  refuse_mu_unless_biased(s, c.weights);
  c.mu = s.get_double("mu", 0.0, 1e6);
  c.tau = s.get_double("tau", 0.0, 1e6, false);
  c.target = s.get_string("target");
  c.sigma = s.get_double("sigma", 0.0, 1e6);
  c.n = static_cast<std::size_t>(s.get_int("n", 10, 1000000));
  if (s.raw("lambda") == "gcv") {
    c.gcv = true;
  } else {
    c.gcv = false;
    // Checked here rather than by get_double, whose message would not say that gcv is offered.
    if (!parse_double(s.raw("lambda"), c.lambda) || !std::isfinite(c.lambda) || !(c.lambda > 0) || c.lambda > 1e12)
      throw InputError(s.source("lambda") + " must be gcv or a number in (0, 1e12] (heads offers no k-fold search), got '" +
                       s.raw("lambda") + "'");
  }
  c.seeds = static_cast<int>(s.get_int("seeds", 2, 100000));
  c.seed = s.get_seed("seed");
  c.test_n = static_cast<std::size_t>(s.get_int("test-n", 10000, 100000000));
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  check_study_targets(s, "target", {c.target}, c.d, c.law);
  return c;
}

// The kernel GCV's penalties: 45 points from 1e-10 to 10.
arma::vec kernel_gcv_grid() { return log_lambda_grid(1e-10, 10.0, 45); }

}  // namespace

LambdaSelection kernel_gcv_lambda(const arma::mat& K, const arma::vec& y, const arma::vec& grid) {
  arma::vec s;
  arma::mat U;
  if (!arma::eig_sym(s, U, K)) throw std::runtime_error("kernel_gcv_lambda: eigendecomposition failed");
  s.transform([](double v) { return v > 0 ? v : 0.0; });
  const arma::vec c = U.t() * y;
  const double n = static_cast<double>(y.n_elem);
  const auto gcv = [&](double lambda) {
    const double nl = n * lambda;
    double rss = 0, resid_trace = 0;  // resid_trace = n - tr(H), summed without cancellation
    for (arma::uword j = 0; j < s.n_elem; ++j) {
      const double r = nl / (s[j] + nl);
      rss += r * r * c[j] * c[j];
      resid_trace += r;
    }
    return (rss / n) / std::pow(resid_trace / n, 2);
  };
  return lambda_selection(LambdaRule::gcv, minimise_on_grid(grid, gcv));
}

namespace {

nlohmann::json run_group(const Config& c, const StudyTarget& target, int rep) {
  const auto urep = static_cast<std::uint64_t>(rep);
  const AttentionInputs train = c.law.sample(c.d, c.N, c.n, derive_seed(c.seed, {hash_name("train"), urep}));
  const AttentionInputs test = c.law.sample(c.d, c.N, c.test_n, derive_seed(c.seed, {hash_name("test"), urep}));
  arma::vec y = target.evaluate(train);
  add_noise(y, c.sigma, derive_seed(c.seed, {hash_name("noise"), urep}));
  const arma::vec truth = target.evaluate(test);

  auto t0 = std::chrono::steady_clock::now();
  const RfaKernel kernel(c.tau, c.weights == WeightLaw::biased ? c.mu : 0.0);
  const arma::mat K = kernel.gram(train);
  double lambda_K = c.lambda;
  bool lambda_K_at_edge = false;
  if (c.gcv) {
    const LambdaSelection choice = kernel_gcv_lambda(K, y, kernel_gcv_grid());
    lambda_K = choice.lambda;
    lambda_K_at_edge = choice.at_edge;
  }
  std::string solver;
  const arma::vec alpha = kernel_ridge_coefficients(K, y, lambda_K, &solver);
  const arma::vec f_inf = kernel.gram(test, train) * alpha;
  const TestError kernel_error = normalised_test_error(f_inf, truth);
  const double kernel_seconds = seconds_since(t0);
  double var = arma::var(truth);

  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t M : c.heads) {
    t0 = std::chrono::steady_clock::now();
    RandomFeatureAttention rfa(c.d, cell_layer(static_cast<int>(M), RfaActivation::relu, c.weights, c.mu, c.tau,
                                               derive_seed(c.seed, {hash_name("rfa-weights"), M, urep})));
    RidgeFitOptions ridge;
    ridge.rule = LambdaRule::fixed;
    ridge.lambda = static_cast<double>(M) * lambda_K;
    const RidgeFit fit = rfa.fit(train, y, ridge);
    const arma::vec pred = rfa.predict(test);
    const TestError e = normalised_test_error(pred, truth);
    const TestError gap = normalised_test_error(pred, f_inf);  // normalised by Var f_inf; rescale below
    const double gap_value = gap.error * arma::var(f_inf) / var;
    const double gap_se = gap.se * arma::var(f_inf) / var;
    rows.push_back({{"rep", rep},
                    {"M", M},
                    {"lambda_K", lambda_K},
                    {"lambda_K_at_edge", lambda_K_at_edge},
                    {"lambda", ridge.lambda},
                    {"error", e.error},
                    {"error_se", e.se},
                    {"kernel_error", kernel_error.error},
                    {"kernel_error_se", kernel_error.se},
                    {"gap", gap_value},
                    {"gap_se", gap_se},
                    {"solver", fit.solution.solver},
                    {"form", to_string(fit.solution.form)},
                    {"kernel_solver", solver},
                    {"kernel_seconds", kernel_seconds},
                    {"seconds", seconds_since(t0)}});
  }
  return rows;
}

// A checkpointed cell must be the rows run_group writes, one per M in order, with finite errors.
void validate_group(const Config& c, const nlohmann::json& value) {
  check_rows(value, c.heads.size());
  int rep = 0;
  read_checkpoint_field(value[0], "rep", rep);
  if (rep < 0 || rep >= c.seeds) throw InputError("rep of a cell out of range");
  for (std::size_t k = 0; k < c.heads.size(); ++k) {
    const nlohmann::json& row = value[k];
    int row_rep = 0;
    std::size_t M = 0;
    read_checkpoint_field(row, "rep", row_rep);
    read_checkpoint_field(row, "M", M);
    if (row_rep != rep || M != c.heads[k])
      throw InputError("row " + std::to_string(k + 1) + " of a cell is not the expected (rep, M)");
    for (const char* field : {"lambda_K", "lambda", "error", "error_se", "kernel_error", "kernel_error_se", "gap", "gap_se",
                              "kernel_seconds", "seconds"}) {
      double v = 0;
      read_checkpoint_field(row, field, v);
      check_nonnegative(v, field);
    }
    for (const char* field : {"solver", "form", "kernel_solver"}) (void)row.at(field).get<std::string>();
    bool at_edge = false;
    read_checkpoint_field(row, "lambda_K_at_edge", at_edge);
  }
}

nlohmann::json run_heads(const Config& c, const Settings& settings, const StudyContext& ctx) {
  const StudyTarget target(c.target, c.d, c.law, derive_seed(c.seed, {hash_name("target")}));

  std::filesystem::create_directories(ctx.out);
  nlohmann::json params = parameters_json(settings);
  params["noise"] = "y = f* + sigma * N(0, 1), f* of unit variance";
  params["gap"] = "mean over test inputs of (f_M - f_inf)^2 / Var f*, f_inf = kernel ridge with lambda_K, f_M = RFA "
                  "ridge with M heads and lambda = M lambda_K on the same training data";
  SweepSpec sweep = sweep_spec("heads", params);
  for (int rep = 0; rep < c.seeds; ++rep) sweep.names.push_back("rep" + std::to_string(rep));
  const auto results = run_sweep(
      ctx, sweep, [&](std::size_t g, int) { return run_group(c, target, static_cast<int>(g)); },
      [&](const nlohmann::json& value) { validate_group(c, value); });

  CsvTable table;
  table.columns = {"target", "inputs", "N", "d", "weights", "mu", "tau", "sigma", "n", "M", "rep", "seed", "test_n",
                   "lambda_K", "lambda_K_at_edge", "lambda", "error", "error_se", "kernel_error", "kernel_error_se", "gap", "gap_se",
                   "solver", "form", "kernel_solver", "kernel_seconds", "seconds"};
  std::vector<double> x, y;
  std::size_t excluded = 0, cells = 0;
  // One kernel GCV choice per repetition, shared by its rows; flagged in lambda_K_at_edge (heads'
  // own GCV penalty is lambda).
  LambdaEdgeCount edges(kernel_gcv_grid(), "lambda_K_at_edge");
  for (const auto& group : results)
    if (!group.empty())
      edges.add(c.gcv, group.front().at("lambda_K_at_edge").get<bool>(), group.front().at("lambda_K").get<double>());
  ConvergenceSeries gap_series, err_series;
  for (const auto& group : results)
    for (const auto& r : group) {
      ++cells;
      const std::size_t M = r.at("M");
      const double gap = r.at("gap");
      table.rows.push_back({target.name(), c.law.name(), std::to_string(c.N), std::to_string(c.d),
                            to_string(c.weights), format_double(c.mu), format_double(c.tau), format_double(c.sigma),
                            std::to_string(c.n), std::to_string(M), std::to_string(r.at("rep").get<int>()),
                            std::to_string(c.seed), std::to_string(c.test_n), format_double(r.at("lambda_K")),
                            r.at("lambda_K_at_edge").get<bool>() ? "1" : "0", format_double(r.at("lambda")), format_double(r.at("error")),
                            format_double(r.at("error_se")), format_double(r.at("kernel_error")),
                            format_double(r.at("kernel_error_se")), format_double(gap), format_double(r.at("gap_se")),
                            r.at("solver"), r.at("form"), r.at("kernel_solver"), format_double(r.at("kernel_seconds")),
                            format_double(r.at("seconds"))});
      if (!(gap > 0) || !std::isfinite(gap)) {
        ++excluded;
        continue;
      }
      x.push_back(std::log(static_cast<double>(M)));
      y.push_back(std::log(gap));
      gap_series.x.push_back(static_cast<double>(M));
      gap_series.y.push_back(gap);
      err_series.x.push_back(static_cast<double>(M));
      err_series.y.push_back(r.at("error"));
    }
  write_cells_csv(table, ctx);

  nlohmann::json summary = start_summary("heads", params);
  summary["cells_total"] = cells;
  summary["cells_excluded"] = excluded;
  nlohmann::json kernel_errors = nlohmann::json::array();
  for (const auto& group : results) kernel_errors.push_back(group.at(0).at("kernel_error"));
  summary["kernel_error_per_rep"] = kernel_errors;
  if (x.size() >= 3) {
    const SlopeFit fit = fit_slope(x, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
    Measurement m = slope_measurement(fit, "gap-slope");
    m.details["abscissa"] = "log M";
    m.details["cells_excluded"] = excluded;
    m.details["target"] = target.name();
    m.details["reference_slope"] = -1.0;
    m.details["figure"] = "heads.png";
    summary["quantities"].push_back(to_json(m));

    ConvergenceFigure fig;
    fig.title = "heads: RFA -> kernel ridge, " + target.name() + ", n = " + std::to_string(c.n) + ", N = " +
                std::to_string(c.N) + ", d = " + std::to_string(c.d) + ", " + to_string(c.weights);
    fig.x_label = "M (heads)";
    fig.y_label = "||f_M - f_inf||^2 / Var f*  (and test error)";
    std::ostringstream note;
    note.precision(3);
    note << "gap slope " << fit.slope << ", 95% CI [" << m.lo() << ", " << m.hi()
         << "]; dashed: reference slope -1 (random-features variance); mean kernel-ridge test error "
         << arma::mean(arma::vec(kernel_errors.get<std::vector<double>>()));
    fig.note = note.str();
    gap_series.label = "gap to kernel limit";
    gap_series.fit_slope = fit.slope;
    gap_series.fit_intercept = fit.intercept;
    gap_series.theory_slope = -1.0;
    fig.series.push_back(gap_series);
    std::vector<double> lx, ly;
    for (std::size_t i = 0; i < err_series.x.size(); ++i) {
      lx.push_back(std::log(err_series.x[i]));
      ly.push_back(std::log(err_series.y[i]));
    }
    const SlopeFit ef = fit_slope(lx, ly, 0.95, 100, 1);
    err_series.label = "RFA test error";
    err_series.fit_slope = ef.slope;
    err_series.fit_intercept = ef.intercept;
    err_series.draw_theory = false;
    fig.series.push_back(err_series);
    summary["figure"] = write_study_figure(fig, "heads", ctx);
  } else {
    summary["error"] = "fewer than 3 usable cells: no slope fitted";
  }
  summary["lambda_at_grid_edge"] = edges.to_json();
  return summary;
}

}  // namespace

StudyDefinition heads_study() {
  return define_study("heads", "RFA error vs heads M -> infinite-width kernel ridge; slope of the gap against M",
                      heads_keys, {{"gap-slope", "slope of log(||f_M - f_inf||^2 / Var f*) on log M", {}}}, read_config,
                      run_heads);
}

}  // namespace attnrate
