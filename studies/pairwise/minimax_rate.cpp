#include "studies/pairwise/minimax_rate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/random.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

PairwiseModelSpec read_pairwise_model_spec(const Settings& s) {
  PairwiseModelSpec spec;
  spec.tokens = s.get_string("tokens");
  spec.N = static_cast<int>(s.get_int("N", 2, 100000));
  spec.d = static_cast<int>(s.get_int("d", 1, 100000));
  spec.r = static_cast<int>(s.get_int("r", 1, spec.d));
  spec.sigma = s.get_double("sigma", 0.0, std::numeric_limits<double>::infinity());
  spec.activation = s.get_string("activation");
  validate(spec);
  return spec;
}

void check_rate_activation(const Settings& s, const std::string& key, const Activation& phi, bool joint) {
  if (!(phi.claimed_smoothness() > 0)) {
    std::ostringstream m;
    m << s.source(key) << ": " << phi.name() << " has claimed smoothness b = " << phi.claimed_smoothness() << " ("
      << phi.smoothness_convention() << "): no rate to measure; use e.g. bspline:P with P >= 2 or weierstrass:b";
    throw InputError(m.str());
  }
  if (joint && phi.default_degree() < 1)
    throw InputError(s.source(key) + ": " + phi.name() + " is fitted with spline degree floor(b) = " +
                     std::to_string(phi.default_degree()) +
                     ", but the joint fit (A unknown) needs degree >= 1 (its A-step uses phi'); use b >= 1");
}

namespace {

std::vector<KeySpec> minimax_rate_keys() {
  return {
      {"tokens", "uniform", "token law: uniform | gaussian | exchangeable[:rho]"},
      {"N", "8", "tokens per sample (>= 2)"},
      {"d", "5", "token dimension (>= 1)"},
      {"r", "2", "rank of A (1 <= r <= d)"},
      {"sigma", "2", "noise standard deviation (>= 0)"},
      {"activation", "weierstrass:1", "phi: bspline:P | weierstrass:b | kink:b | tanh | softplus | gelu | exp"},
      {"degree", "auto", "spline degree 0..10 (auto: floor(b), P for bspline:P, 3 if smooth)"},
      {"schedule", "plain", "K_M schedule: plain (c_K M^(1/(2b+1))) | paper (c_K (M/log M)^(1/(2b+1)))"},
      {"cK", "4", "schedule constant c_K (> 0)"},
      {"knots", "auto", "explicit number of pieces K (>= 1), overrides the schedule"},
      {"range", "auto", "spline interval a,b (auto: 1e-4 and 1-1e-4 quantiles of u over 10^6 model pairs)"},
      {"ridge", "0", "ridge lambda (>= 0)"},
      {"M", "500:64000:x2", "sample sizes: list 500,1000 or log grid FIRST:LAST:xFACTOR (each >= 2)"},
      {"seeds", "8", "repetitions per M (>= 1)"},
      {"seed", "1", "base seed of the study (model, data, test pairs)"},
      {"test-pairs", "100000", "fresh pairs for the composed L2(rho) error (>= 1000)"},
      {"bootstrap", "2000", "seed-bootstrap resamples (>= 100)"},
  };
}

struct Config {
  PairwiseModelSpec model;
  int degree = 0;
  Schedule schedule = Schedule::plain;
  double cK = 1.0;
  int knots = 0;  // 0 = schedule
  bool fixed_range = false;
  double a = 0, b = 0;
  double ridge = 0;
  std::vector<std::size_t> M;
  int seeds = 8;
  std::uint64_t seed = 1;
  std::size_t test_pairs = 100000;
  int bootstrap = 2000;
};

Config read_config(const Settings& s) {
  Config c;
  c.model = read_pairwise_model_spec(s);
  const Activation phi = Activation::parse(c.model.activation);
  c.degree = s.raw("degree") == "auto" ? phi.default_degree() : static_cast<int>(s.get_int("degree", 0, 10));
  c.schedule = parse_schedule(s.get_string("schedule"));
  c.cK = s.get_double("cK", 0.0, std::numeric_limits<double>::infinity(), false);
  c.knots = s.raw("knots") == "auto" ? 0 : s.get_count("knots", 1, 2147483637);
  // The K_M schedule (knots auto) needs a positive smoothness; a fixed --knots K does not.
  if (c.knots == 0) check_rate_activation(s, "activation", phi, false);
  c.fixed_range = s.get_range("range", c.a, c.b);
  c.ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  c.M = s.get_sizes("M", 2);
  c.seeds = s.get_count("seeds", 1, 100000);
  c.seed = s.get_seed("seed");
  c.test_pairs = static_cast<std::size_t>(s.get_int("test-pairs", 1000, 1000000000));
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  if (c.M.size() < 2) throw InputError(s.source("M") + " needs at least two distinct sample sizes to fit a rate");
  return c;
}

struct CellResult {
  std::size_t M = 0;
  int rep = 0, K = 0;
  double error = 0, error_se = 0, train_mse = 0, rcond = 0, seconds = 0;
  std::string solver, status;
  std::size_t clamped = 0, interactions = 0, test_clamped = 0;
};

nlohmann::json to_json(const CellResult& c) {
  return {{"M", c.M},         {"rep", c.rep},          {"K", c.K},
          {"error", c.error}, {"error_se", c.error_se}, {"train_mse", c.train_mse},
          {"rcond", c.rcond}, {"seconds", c.seconds},   {"solver", c.solver},
          {"status", c.status}, {"clamped", c.clamped}, {"interactions", c.interactions},
          {"test_clamped", c.test_clamped}};
}

CellResult from_json(const nlohmann::json& j) {
  CellResult c;
  read_checkpoint_field(j, "M", c.M);
  read_checkpoint_field(j, "rep", c.rep);
  read_checkpoint_field(j, "K", c.K);
  read_checkpoint_field(j, "error", c.error);
  read_checkpoint_field(j, "error_se", c.error_se);
  read_checkpoint_field(j, "train_mse", c.train_mse);
  read_checkpoint_field(j, "rcond", c.rcond);
  read_checkpoint_field(j, "seconds", c.seconds);
  read_checkpoint_field(j, "solver", c.solver);
  read_checkpoint_field(j, "status", c.status);
  read_checkpoint_field(j, "clamped", c.clamped);
  read_checkpoint_field(j, "interactions", c.interactions);
  read_checkpoint_field(j, "test_clamped", c.test_clamped);
  return c;
}

CellResult run_cell(const Config& c, const PairwiseModel& model, double a, double b, std::size_t M, int rep,
                    int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  CellResult r;
  r.M = M;
  r.rep = rep;
  const double beta_eff = std::min(model.phi().claimed_smoothness(), c.degree + 1.0);
  r.K = c.knots > 0 ? c.knots : schedule_pieces(c.schedule, beta_eff, c.cK, M);
  const BSplineBasis basis(a, b, r.K, c.degree);
  const std::uint64_t data_seed = derive_seed(c.seed, {hash_name("data"), M, static_cast<std::uint64_t>(rep)});
  SampleBlockSource source = [&model, data_seed](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(data_seed, first, count, X, Y);
  };
  LseOptions opt;
  opt.ridge = c.ridge;
  opt.threads = threads;
  const PairwiseLseFit fit = fit_pairwise_lse(basis, model.A(), model.N(), model.d(), M, source, opt);
  r.solver = fit.solution.solver;
  r.rcond = fit.solution.rcond;
  r.train_mse = fit.solution.train_mse;
  r.clamped = fit.normal_equations.clamped;
  r.interactions = fit.normal_equations.interactions;

  // Composed error ||g_hat - g||^2_{L2(rho)} on fresh pairs; with A known,
  // g_hat(x, y) - g(x, y) = phi_hat(u) - phi(u) at u = x^T A y.
  const std::uint64_t test_seed = derive_seed(c.seed, {hash_name("test"), M, static_cast<std::uint64_t>(rep)});
  const arma::vec u = model.draw_pair_interactions(test_seed, c.test_pairs);
  arma::vec sq(u.n_elem);
  constexpr arma::uword block = 512;  // phi over blocks (SIMD); values independent of the split
#pragma omp parallel for schedule(static) num_threads(threads)
  for (arma::uword t0 = 0; t0 < u.n_elem; t0 += block) {
    const arma::uword n = std::min(block, u.n_elem - t0);
    model.phi().evaluate({u.memptr() + t0, n}, {sq.memptr() + t0, n});
    for (arma::uword t = t0; t < t0 + n; ++t) {
      const double e = fit.phi_hat(u[t]) - sq[t];
      sq[t] = e * e;
    }
  }
  for (double v : u) r.test_clamped += !basis.contains(v);
  const double T = static_cast<double>(u.n_elem);
  double sum = 0.0;
  for (double v : sq) sum += v;  // fixed order
  r.error = sum / T;
  double ss = 0.0;
  for (double v : sq) ss += (v - r.error) * (v - r.error);
  r.error_se = std::sqrt(ss / (T - 1.0) / T);
  // A zero error cannot enter a log-log fit either; it is excluded under its own name.
  r.status = !std::isfinite(r.error)    ? "non-finite"
             : !(r.error > 0)           ? "zero-error"
             : fit.solution.fallback    ? "rank-deficient"
                                        : "ok";
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// A checkpointed cell must be a result this study could have produced.
void validate_cell(const nlohmann::json& j) {
  const CellResult r = from_json(j);
  if (r.status != "ok" && r.status != "rank-deficient" && r.status != "non-finite" && r.status != "zero-error")
    throw InputError("unknown status '" + r.status + "'");
  if (r.status == "ok" && !(std::isfinite(r.error) && r.error > 0)) throw InputError("error must be finite and > 0");
  if (!(r.K >= 1) || !(r.M >= 2)) throw InputError("K and M out of range");
}

void check_minimax_rate(const Settings& settings) { (void)read_config(settings); }

nlohmann::json run_minimax_rate(const Settings& settings, const StudyContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const Config c = read_config(settings);
  const std::uint64_t model_seed = derive_seed(c.seed, {hash_name("model")});
  const PairwiseModel model(c.model, model_seed);
  double a = c.a, b = c.b;
  if (!c.fixed_range) std::tie(a, b) = interaction_range(model, derive_seed(c.seed, {hash_name("range")}), 1000000, 1e-4);

  nlohmann::json params = parameters_json(settings);
  params["degree_used"] = c.degree;
  params["range_used"] = {a, b};
  params["A"] = nlohmann::json::array();
  for (arma::uword i = 0; i < model.A().n_rows; ++i) {
    std::vector<double> row(model.A().n_cols);
    for (arma::uword j = 0; j < model.A().n_cols; ++j) row[j] = model.A()(i, j);
    params["A"].push_back(row);
  }

  // Cells in (M, rep) order, one after another, each with every thread (the accumulation of
  // the normal equations is parallel and its result does not depend on the thread count).
  SweepSpec sweep = sweep_spec("minimax-rate", params, "minimax-rate " + model.phi().name());
  sweep.parallelism = CellParallelism::within_cells;
  const auto coords =
      add_repeated_cells(sweep, c.M, c.seeds, [](std::size_t M) { return std::string("M").append(std::to_string(M)); });
  const auto values = run_sweep(
      ctx, sweep,
      [&](std::size_t i, int threads) { return to_json(run_cell(c, model, a, b, coords[i].first, coords[i].second, threads)); },
      validate_cell);
  std::vector<CellResult> cells;
  for (const auto& j : values) cells.push_back(from_json(j));

  // cells.csv
  CsvTable table;
  table.columns = {"activation", "tokens", "N",  "d",       "r",        "sigma",     "degree",  "schedule",
                   "cK",         "a",      "b",  "ridge",   "M",        "rep",       "seed",    "K",
                   "error",      "error_se", "train_mse", "solver", "rcond", "clamped", "interactions",
                   "test_clamped", "status", "seconds"};
  for (const auto& r : cells)
    table.rows.push_back({model.phi().name(), model.tokens().name(), std::to_string(c.model.N),
                          std::to_string(c.model.d), std::to_string(c.model.r), format_double(c.model.sigma),
                          std::to_string(c.degree), to_string(c.schedule), format_double(c.cK), format_double(a),
                          format_double(b), format_double(c.ridge), std::to_string(r.M), std::to_string(r.rep),
                          std::to_string(c.seed), std::to_string(r.K), format_finite(r.error),
                          format_finite(r.error_se), format_finite(r.train_mse), r.solver, format_finite(r.rcond),
                          std::to_string(r.clamped), std::to_string(r.interactions), std::to_string(r.test_clamped),
                          r.status, format_double(r.seconds)});
  write_cells_csv(table, ctx);

  // Slope over the cells that are usable; the others are counted, never silently dropped.
  std::vector<double> x, y, xM;
  std::size_t excluded = 0;
  for (const auto& r : cells) {
    if (r.status != "ok") {
      ++excluded;
      continue;
    }
    x.push_back(rate_abscissa(c.schedule, r.M));
    xM.push_back(std::log(static_cast<double>(r.M)));
    y.push_back(std::log(r.error));
  }
  const double beta = model.phi().claimed_smoothness();
  // The reference line of the figure; claims state their own theory value.
  const double reference = -minimax_exponent(beta, c.degree);
  nlohmann::json summary = start_summary("minimax-rate", params);
  summary["smoothness"] = {{"activation", model.phi().name()},
                           {"holder", std::isinf(model.phi().holder_smoothness())
                                          ? nlohmann::json("infinity")
                                          : nlohmann::json(model.phi().holder_smoothness())},
                           {"claimed", std::isinf(beta) ? nlohmann::json("infinity") : nlohmann::json(beta)},
                           {"convention", model.phi().smoothness_convention()}};
  summary["cells_total"] = cells.size();
  summary["cells_excluded"] = excluded;
  std::vector<double> xs = x;
  std::sort(xs.begin(), xs.end());
  if (x.size() >= 3 && std::unique(xs.begin(), xs.end()) - xs.begin() >= 2) {
    const SlopeFit fit = fit_slope(x, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
    Measurement m = slope_measurement(fit, "slope");
    m.details["abscissa"] = c.schedule == Schedule::plain ? "log M" : "log(M / log M)";
    m.details["cells_excluded"] = excluded;
    m.details["reference_slope"] = reference;
    if (c.schedule == Schedule::paper) {
      const SlopeFit f2 = fit_slope(xM, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
      m.details["slope_vs_log_M"] = f2.slope;
    } else {
      std::vector<double> xl;
      for (const auto& r : cells)
        if (r.status == "ok") xl.push_back(rate_abscissa(Schedule::paper, r.M));
      const SlopeFit f2 = fit_slope(xl, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
      m.details["slope_vs_log_M_over_log_M"] = f2.slope;
    }
    summary["quantities"].push_back(to_json(m));

    ConvergenceFigure fig;
    fig.title = "minimax-rate: " + model.phi().name() + ", A known, N=" + std::to_string(c.model.N) +
                ", d=" + std::to_string(c.model.d) + ", r=" + std::to_string(c.model.r);
    std::ostringstream note;
    note.precision(3);
    note << "slope " << fit.slope << ", 95% CI [" << m.lo() << ", " << m.hi() << "]; dashed: -2b/(2b+1) = "
         << reference << "; " << excluded << " cells excluded";
    fig.note = note.str();
    if (c.schedule == Schedule::paper) fig.x_label = "M (slope fitted against log(M / log M))";
    ConvergenceSeries series;
    series.label = model.phi().name();
    for (const auto& r : cells)
      if (r.status == "ok") {
        series.x.push_back(static_cast<double>(r.M));
        series.y.push_back(r.error);
      }
    const SlopeFit fm = c.schedule == Schedule::plain ? fit : fit_slope(xM, y, 0.95, 100, 1);
    series.fit_slope = fm.slope;
    series.fit_intercept = fm.intercept;
    series.theory_slope = reference;
    fig.series.push_back(series);
    if (ctx.share.root()) write_convergence_figure(fig, ctx.out / "convergence");
    summary["figure"] = "convergence.png";
  } else {
    summary["error"] = "fewer than 3 usable cells at two or more sizes (" + std::to_string(excluded) +
                       " of " + std::to_string(cells.size()) + " excluded): no slope fitted";
  }
  return finish_summary(std::move(summary), t0, ctx);
}

}  // namespace

StudyDefinition minimax_rate_study() {
  return {"minimax-rate",
          "A known: composed L2(rho) error vs M and its slope",
          minimax_rate_keys,
          {{"slope", "slope of log error on log M (on log(M / log M) with --schedule paper)", {}}},
          check_minimax_rate,
          run_minimax_rate};
}

}  // namespace attnrate
