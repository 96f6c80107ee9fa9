#include "studies/pairwise/approximation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_options.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/lazy_value.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/sweep.hpp"
#include "studies/sweep/cell_fields.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> approximation_keys() {
  return {
      {"activations", "weierstrass:1,weierstrass:1.5,weierstrass:2,kink:1.5,bspline:3",
       "comma list of phi: bspline:P | weierstrass:b | kink:b | tanh | softplus | gelu | exp"},
      {"degree", "auto", "spline degree 0..10 (auto: max(3, ceil of phi's Hoelder smoothness), at most 10)", "INT|auto"},
      {"knots", "32:256:x2", "numbers of pieces K: list or log grid FIRST:LAST:xFACTOR (each >= 2, at least two)"},
      token_law_key(),
      tokens_per_sample_key("4"),
      token_dimension_key("2"),
      interaction_rank_key("1"),
      {"M", "20000", "samples per fit (>= 2); large, so the finite-sample deviation is negligible"},
      {"seeds", "8", "repetitions per K, each with its own A (1..1000)"},
      base_seed_key(),
      {"test-pairs", "100000", "fresh pairs for the L2(rho) error of phi (1000..10^8)"},
      bootstrap_key(),
  };
}

// Relative squared error below which a fit is at the precision of the solve (the Gram matrix of
// the pairwise features squares the basis' condition number), not at its approximation error.
constexpr double kPrecisionFloor = 1e-10;

struct Config {
  std::vector<std::string> activations;
  std::vector<int> degrees;  // per activation
  std::vector<std::size_t> K;
  PairwiseModelSpec model;
  std::size_t M = 0;
  int seeds = 8;
  std::uint64_t seed = 1;
  std::size_t test_pairs = 100000;
  int bootstrap = 2000;
};

Config read_config(const Settings& s) {
  Config c;
  c.activations = s.get_list("activations");
  if (c.activations.empty()) throw InputError(s.source("activations") + " must name at least one activation");
  const bool auto_degree = s.raw("degree") == "auto";
  const int fixed_degree = auto_degree ? 0 : static_cast<int>(s.get_int("degree", 0, 10));
  std::vector<std::string> names;  // canonical, so `weierstrass:1` and `weierstrass:1.0` are one
  for (const auto& a : c.activations) {
    Activation phi = s.with_source("activations", [&] { return Activation::parse(a); });
    if (std::find(names.begin(), names.end(), phi.name()) != names.end())
      throw InputError(s.source("activations") + ": " + phi.name() + " is listed twice");
    names.push_back(phi.name());
    const double holder = phi.holder_smoothness();
    c.degrees.push_back(auto_degree ? (std::isinf(holder) ? 3 : std::clamp(static_cast<int>(std::ceil(holder)), 3, 10))
                                    : fixed_degree);
  }
  c.K = s.get_sizes("knots", 2);
  if (c.K.size() < 2) throw InputError(s.source("knots") + " needs at least two numbers of pieces to fit an exponent");
  c.model.tokens = read_token_law_name(s);
  read_token_shape(s, c.model);
  c.model.sigma = 0.0;
  c.model.activation = c.activations.front();
  validate(c.model);
  const auto M = s.get_sizes("M", 2);
  if (M.size() != 1) throw InputError(s.source("M") + " takes one sample size, got '" + s.raw("M") + "'");
  c.M = M.front();
  c.seeds = static_cast<int>(s.get_int("seeds", 1, 1000));
  c.seed = s.get_seed("seed");
  c.test_pairs = static_cast<std::size_t>(s.get_int("test-pairs", 1000, 100000000));
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  for (std::size_t K : c.K)
    if (K > c.M) throw InputError(s.source("knots") + ": K = " + std::to_string(K) + " pieces exceed M = " + std::to_string(c.M) + " samples");
  return c;
}

struct Cell {
  std::size_t activation = 0, K = 0;
  int rep = 0;
  double error = 0, seconds = 0;
  std::string status;
};

template <class C>  // Cell or const Cell
auto fields_of(C& c) {
  return std::make_tuple(field("activation", c.activation), field("K", c.K), field("rep", c.rep),
                         field("error", c.error), field("seconds", c.seconds), field("status", c.status));
}

nlohmann::json to_json(const Cell& c) { return fields_to_json(fields_of(c)); }

Cell from_json(const nlohmann::json& j) {
  Cell c;
  fields_from_json(j, fields_of(c));
  if (c.status != "ok" && c.status != "rank-deficient" && c.status != "zero-error" && c.status != "non-finite" &&
      c.status != "precision-floor")
    throw InputError("unknown status '" + c.status + "'");
  if (c.status == "ok" && !(std::isfinite(c.error) && c.error > 0)) throw InputError("error must be finite and > 0");
  return c;
}

nlohmann::json run_approximation(const Config& c, const Settings& settings, const StudyContext& ctx) {
  // Each repetition draws its own A (phi stays the same: its seed does not depend on the
  // repetition, which matters for bspline:P, whose coefficients are drawn): the constant of the
  // power law depends on the law of u = x^T A y, and with one A for all repetitions that
  // dependence was invisible to the interval (a Weierstrass exponent 0.13 low at one seed, with a
  // t-interval 0.05 wide). Across A the interval covers it. Everything is drawn by the first cell
  // that needs it.
  struct Repetition {
    std::unique_ptr<LazyValue<arma::mat>> A;
    // The spline's interval (1e-5 tail quantiles) and the central one of the error (1%), from one
    // draw of 10^6 interactions: they depend on A and the token law, not on phi.
    std::unique_ptr<LazyValue<std::vector<std::pair<double, double>>>> ranges;
  };
  std::vector<std::unique_ptr<LazyValue<PairwiseModel>>> models;  // [activation * seeds + rep]
  std::vector<Repetition> reps(static_cast<std::size_t>(c.seeds));
  for (int rep = 0; rep < c.seeds; ++rep) {
    const auto r = static_cast<std::uint64_t>(rep);
    reps[r].A = std::make_unique<LazyValue<arma::mat>>([&c, r] {
      Rng rng(derive_seed(c.seed, {hash_name("model"), r, hash_name("A")}));
      return draw_low_rank_A(TokenLaw::parse(c.model.tokens), c.model.d, c.model.r, rng);
    });
  }
  for (const auto& a : c.activations)
    for (int rep = 0; rep < c.seeds; ++rep) {
      PairwiseModelSpec spec = c.model;
      spec.activation = a;
      const LazyValue<arma::mat>& A = *reps[static_cast<std::size_t>(rep)].A;
      models.push_back(std::make_unique<LazyValue<PairwiseModel>>(
          [spec, &c, &A] { return PairwiseModel(spec, derive_seed(c.seed, {hash_name("model")}), A.get()); }));
    }
  for (int rep = 0; rep < c.seeds; ++rep) {
    const auto r = static_cast<std::uint64_t>(rep);
    const LazyValue<PairwiseModel>& model = *models[r];  // the first activation's: any has this A
    reps[r].ranges = std::make_unique<LazyValue<std::vector<std::pair<double, double>>>>([&model, &c, r] {
      return interaction_ranges(model.get(), derive_seed(c.seed, {hash_name("range"), r}), 1000000, {1e-5, 0.01});
    });
  }
  nlohmann::json params = parameters_json(settings);
  params["degrees_used"] = c.degrees;
  SweepSpec sweep = sweep_spec("approximation", params);
  std::vector<Cell> coords;
  for (std::size_t a = 0; a < c.activations.size(); ++a) {
    const auto stem = [a](std::size_t K) {
      return std::string("a").append(std::to_string(a)).append("-K").append(std::to_string(K));
    };
    for (const auto& [K, rep] : add_repeated_cells(sweep, c.K, c.seeds, stem)) coords.push_back({a, K, rep, 0.0, 0.0, ""});
  }
  const auto values = run_sweep(
      ctx, sweep,
      [&](std::size_t i, int threads) {
        const auto t0 = std::chrono::steady_clock::now();
        Cell cell = coords[i];
        const PairwiseModel& model =
            models[cell.activation * static_cast<std::size_t>(c.seeds) + static_cast<std::size_t>(cell.rep)]->get();
        const std::vector<std::pair<double, double>>& ranges = reps[static_cast<std::size_t>(cell.rep)].ranges->get();
        const auto [a, b] = ranges[0];
        const BSplineBasis basis(a, b, static_cast<int>(cell.K), c.degrees[cell.activation]);
        // A, data and test pairs depend on the repetition only: the K of one repetition are paired.
        const std::uint64_t data_seed = derive_seed(c.seed, {hash_name("data"), static_cast<std::uint64_t>(cell.rep)});
        const SampleBlockSource source = model.sample_source(data_seed);
        LseOptions opt;
        opt.threads = threads;
        const PairwiseLseFit fit = fit_pairwise_lse(basis, model.A(), model.N(), model.d(), c.M, source, opt);
        const arma::vec u =
            model.draw_pair_interactions(derive_seed(c.seed, {hash_name("test"), static_cast<std::uint64_t>(cell.rep)}),
                                         c.test_pairs);
        // The error on the central interval of u: beyond the spline's interval the fit is the
        // clamped end value, and its outermost pieces see few interactions; neither says
        // anything about approximation by K pieces.
        const auto [lo, hi] = ranges[1];
        double sum = 0.0, power = 0.0;
        std::size_t inside = 0;
        arma::vec phi_u(u.n_elem);
        model.phi().evaluate(u, phi_u);  // one block (SIMD); same values as phi(v) one by one
        for (arma::uword k = 0; k < u.n_elem; ++k) {
          const double v = u[k];
          if (v < lo || v > hi) continue;
          const double f = phi_u[k], e = fit.phi_hat(v) - f;
          sum += e * e;
          power += f * f;
          ++inside;
        }
        cell.error = inside ? sum / static_cast<double>(inside) : std::numeric_limits<double>::quiet_NaN();
        // Below this the normal equations' rounding, not the approximation, sets the error.
        const double floor = kPrecisionFloor * power / static_cast<double>(std::max<std::size_t>(inside, 1));
        cell.status = !std::isfinite(cell.error) ? "non-finite"
                      : !(cell.error > 0)        ? "zero-error"
                      : cell.error < floor       ? "precision-floor"
                      : fit.solution.fallback    ? "rank-deficient"
                                                 : "ok";
        cell.seconds = seconds_since(t0);
        return to_json(cell);
      },
      [](const nlohmann::json& j) { (void)from_json(j); });
  std::vector<Cell> cells;
  for (const auto& j : values) cells.push_back(from_json(j));

  CsvTable table;
  table.columns = {"activation", "degree", "K", "rep", "seed", "M", "error", "status", "seconds"};
  std::size_t excluded_total = 0;
  for (const auto& r : cells) {
    table.rows.push_back({c.activations[r.activation], std::to_string(c.degrees[r.activation]), std::to_string(r.K),
                          std::to_string(r.rep), std::to_string(c.seed), std::to_string(c.M), format_finite(r.error),
                          r.status, format_double(r.seconds)});
    excluded_total += r.status != "ok";
  }
  write_cells_csv(table, ctx);

  nlohmann::json summary = start_summary("approximation", params);
  summary["cells_total"] = cells.size();
  summary["cells_excluded"] = excluded_total;
  summary["notes"] = nlohmann::json::array();
  // Each repetition's law of u, through its two intervals (drawn here if every cell was resumed).
  nlohmann::json repetitions = nlohmann::json::array();
  for (int rep = 0; rep < c.seeds; ++rep) {
    const auto& ranges = reps[static_cast<std::size_t>(rep)].ranges->get();
    repetitions.push_back({{"rep", rep},
                           {"spline_interval", {ranges[0].first, ranges[0].second}},
                           {"error_interval", {ranges[1].first, ranges[1].second}}});
  }
  summary["repetitions"] = repetitions;
  ConvergenceFigure fig;
  fig.title = "approximation: noiseless, A known, M = " + std::to_string(c.M);
  fig.x_label = "K (pieces)";
  fig.note = "dashed: K^(-2b) with b the Hoelder exponent (reference)";
  for (std::size_t a = 0; a < c.activations.size(); ++a) {
    std::vector<double> x, y;
    std::size_t excluded = 0;
    ConvergenceSeries series;
    series.label = c.activations[a] + ", degree " + std::to_string(c.degrees[a]);
    for (const auto& r : cells) {
      if (r.activation != a) continue;
      if (r.status != "ok") {
        ++excluded;
        continue;
      }
      x.push_back(std::log(static_cast<double>(r.K)));
      y.push_back(std::log(r.error));
      series.x.push_back(static_cast<double>(r.K));
      series.y.push_back(r.error);
    }
    std::vector<double> xs = x;
    std::sort(xs.begin(), xs.end());
    if (x.size() < 3 || std::unique(xs.begin(), xs.end()) - xs.begin() < 2) {
      summary["notes"].push_back("no smoothness for " + c.activations[a] + ": it needs 3 usable cells at 2 or more K; " +
                                 std::to_string(excluded) + " of its cells were excluded (cells.csv: status)");
      continue;
    }
    const SlopeFit f = fit_slope(x, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap"), a}));
    // b_approx = -slope / 2: the intervals map endpoint by endpoint (decreasing map).
    Measurement m = slope_measurement(f, "smoothness", {{"activation", c.activations[a]}});
    m.value = -f.slope / 2;
    m.ci_t_lo = -f.ci_t_hi / 2;
    m.ci_t_hi = -f.ci_t_lo / 2;
    m.ci_boot_lo = -f.ci_boot_hi / 2;
    m.ci_boot_hi = -f.ci_boot_lo / 2;
    const Activation phi = Activation::parse(c.activations[a]);
    m.details["slope_vs_log_K"] = f.slope;
    m.details["degree"] = c.degrees[a];
    m.details["holder"] = std::isinf(phi.holder_smoothness()) ? nlohmann::json("infinity") : nlohmann::json(phi.holder_smoothness());
    m.details["cells_excluded"] = excluded;
    summary["quantities"].push_back(to_json(m));
    series.fit_slope = f.slope;
    series.fit_intercept = f.intercept;
    series.theory_slope = std::isinf(phi.holder_smoothness()) ? f.slope : -2.0 * phi.holder_smoothness();
    fig.series.push_back(series);
  }
  if (summary["notes"].empty()) summary.erase("notes");
  if (!fig.series.empty()) {
    summary["figure"] = write_study_figure(fig, "approximation", ctx);
  } else {
    summary["error"] = "no activation had usable cells at two or more K";
  }
  return summary;
}

}  // namespace

StudyDefinition approximation_study() {
  return define_study("approximation",
                      "noiseless, A known: spline approximation error vs K, the L2 smoothness of phi measured",
                      approximation_keys,
                      {{"smoothness",
                        "b_approx = -slope/2 of log error on log K (squared L2 error ~ K^(-2 b_approx))",
                        {"activation"}}},
                      read_config, run_approximation);
}

}  // namespace attnrate
