#include "studies/pairwise/minimax_rate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/random.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "studies/stats/interval_measurement.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/stats/smoothness_estimate.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_options.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/sweep.hpp"
#include "studies/sweep/cell_fields.hpp"
#include "studies/sweep/lazy_value.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

PairwiseModelSpec read_pairwise_model_spec(const Settings& s) {
  PairwiseModelSpec spec;
  spec.tokens = read_token_law_name(s);
  read_token_shape(s, spec);
  spec.sigma = s.get_double("sigma", 0.0, std::numeric_limits<double>::infinity());
  spec.activation = s.get_parsed("activation", [](const std::string& t) {
    (void)Activation::parse(t);  // refused here, with the option's source, not later without it
    return t;
  });
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
  std::vector<KeySpec> k = {
      token_law_key(),
      tokens_per_sample_key("8"),
      token_dimension_key("5"),
      interaction_rank_key("2"),
      {"sigma", "2", "noise standard deviation (>= 0)", "FLOAT"},
      activation_key("weierstrass:1"),
      {"degree", "auto", "spline degree 0..10 (auto: floor(b), P for bspline:P, 3 if smooth); must be auto with --schedule adaptive", "INT|auto"},
      {"schedule", "plain",
       "K_M schedule: plain (c_K M^(1/(2b+1))) | paper (c_K (M/log M)^(1/(2b+1))) | adaptive (degree and K selected from the data, b unused)"},
      {"cK", "4", "schedule constant c_K (> 0); with --schedule adaptive, of the known-b comparison (plain)", "FLOAT"},
      {"knots", "auto", "explicit number of pieces K (>= 1), overrides the schedule", "INT|auto"},
      {"range", "auto", "spline interval a,b (auto: 1e-4 and 1-1e-4 quantiles of u over 10^6 model pairs)", "A,B|auto"},
      {"ridge", "0", "ridge lambda (>= 0)", "FLOAT"},
      {"M", "500:64000:x2", "sample sizes: list 500,1000 or log grid FIRST:LAST:xFACTOR (each >= 2)"},
      {"seeds", "8", "repetitions per M (1..100000)"},
      base_seed_key(),
      test_pairs_key(),
      bootstrap_key(),
  };
  for (auto& e : adaptive_selection_keys()) k.push_back(e);
  return k;
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
  bool adaptive = false;
  AdaptiveSplineOptions adapt;  // the adaptive schedule's options (its lse part is set per cell)
  bool known_b = false;         // adaptive: also fit the plain known-b schedule (phi has a smoothness)
};

Config read_config(const Settings& s) {
  Config c;
  c.model = read_pairwise_model_spec(s);
  const Activation phi = Activation::parse(c.model.activation);
  c.schedule = s.get_parsed("schedule", parse_schedule);
  c.adaptive = c.schedule == Schedule::adaptive;
  c.cK = s.get_double("cK", 0.0, std::numeric_limits<double>::infinity(), false);
  if (c.adaptive) {
    // The adaptive estimator selects degree and K itself: a fixed one would silently be ignored.
    if (s.raw("degree") != "auto")
      throw InputError(s.source("degree") + ": --degree " + s.raw("degree") +
                       " has no effect with --schedule adaptive (the degree is selected from the data, 0.."
                       "--max-degree); leave it auto");
    if (s.raw("knots") != "auto")
      throw InputError(s.source("knots") + ": --knots " + s.raw("knots") +
                       " has no effect with --schedule adaptive (K is selected from the data, up to --max-knots); "
                       "leave it auto");
    read_adaptive_selection(s, c.adapt);
    // The comparison with the known-b schedule needs a smoothness; the adaptive fit does not.
    c.known_b = phi.claimed_smoothness() > 0;
    c.degree = c.known_b ? phi.default_degree() : 0;
  } else {
    refuse_adaptive_selection(s);
    c.degree = s.raw("degree") == "auto" ? phi.default_degree() : static_cast<int>(s.get_int("degree", 0, 10));
    c.knots = s.raw("knots") == "auto" ? 0 : s.get_count("knots", 1, 2147483637);
    // A fixed K leaves the schedule nothing to set: its constant and its abscissa would be
    // ignored or chosen for a K that is not used.
    if (c.knots > 0 && s.given("cK"))
      throw InputError(s.source("cK") + " has no effect with --knots " + s.raw("knots") +
                       " (c_K scales the schedule's K_M; the pieces are fixed): give one of them");
    if (c.knots > 0 && c.schedule == Schedule::paper)
      throw InputError(s.source("schedule") + " paper has no effect on K with --knots " + s.raw("knots") +
                       " and would only fit the slope against log(M / log M), the paper schedule's abscissa: "
                       "leave --schedule plain or --knots auto");
    // The K_M schedule (knots auto) needs a positive smoothness; a fixed --knots K does not.
    if (c.knots == 0) check_rate_activation(s, "activation", phi, false);
  }
  c.fixed_range = s.get_range("range", c.a, c.b);
  c.ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  c.M = s.get_sizes("M", 2);
  c.seeds = s.get_count("seeds", 1, 100000);
  c.seed = s.get_seed("seed");
  c.test_pairs = static_cast<std::size_t>(s.get_int("test-pairs", kMinTestPairs, kMaxTestPairs));
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  if (c.M.size() < 2) throw InputError(s.source("M") + " needs at least two distinct sample sizes to fit a rate");
  if (c.M.size() * static_cast<std::size_t>(c.seeds) < 3)
    throw InputError(s.source("M") + " and " + s.label("seeds") + " give " + std::to_string(c.M.size() * c.seeds) +
                     " cells; the rate fit needs at least 3: add a sample size or a seed");
  if (c.adaptive)
    for (std::size_t M : c.M)
      if (M < static_cast<std::size_t>(c.adapt.folds))
        throw InputError(s.source("M") + ": M = " + std::to_string(M) + " is smaller than --folds " +
                         std::to_string(c.adapt.folds) + " (every cross-validation fold needs a sample)");
  return c;
}

struct CellResult {
  std::size_t M = 0;
  int rep = 0, K = 0;
  double error = 0, error_se = 0, train_mse = 0, rcond = 0, seconds = 0;
  std::string solver, status;
  std::size_t clamped = 0, interactions = 0, test_clamped = 0;
  // Adaptive schedule only: K and `degree` are the selected space, `error` phi_hat's test error.
  int degree = 0, candidates = 0;
  bool flagged = false;  // a space phi_hat uses had a min-norm fallback (full or fold solve)
  double oracle_error = 0, sigma2_hat = 0;
  int oracle_degree = 0, oracle_K = 0;
  // Every candidate's space and test error, in the fit's candidate order.
  std::vector<int> candidate_degrees, candidate_K;
  std::vector<double> candidate_errors;
  double known_error = 0;  // NaN when phi has no smoothness (no known-b fit)
  int known_degree = 0, known_K = 0;
};

// Every schedule's fields, and the adaptive schedule's own.
template <class C>  // CellResult or const CellResult
auto fields_of(C& c) {
  return std::make_tuple(field("M", c.M), field("rep", c.rep), field("K", c.K), field("error", c.error),
                         field("error_se", c.error_se), field("train_mse", c.train_mse), field("rcond", c.rcond),
                         field("seconds", c.seconds), field("solver", c.solver), field("status", c.status),
                         field("clamped", c.clamped), field("interactions", c.interactions),
                         field("test_clamped", c.test_clamped));
}
template <class C>
auto adaptive_fields_of(C& c) {
  return std::make_tuple(field("degree", c.degree), field("candidates", c.candidates), field("flagged", c.flagged),
                         field("oracle_error", c.oracle_error), field("sigma2_hat", c.sigma2_hat),
                         field("oracle_degree", c.oracle_degree), field("oracle_K", c.oracle_K),
                         field("known_error", c.known_error), field("known_degree", c.known_degree),
                         field("known_K", c.known_K), field("candidate_degrees", c.candidate_degrees),
                         field("candidate_K", c.candidate_K), field("candidate_errors", c.candidate_errors));
}

// Largest training sample an adaptive cell keeps in memory across its passes (256 MiB).
constexpr double kMaxDrawnOnceBytes = 256.0 * 1024 * 1024;

constexpr auto kFields = [](auto& c) { return fields_of(c); };
constexpr auto kAdaptiveFields = [](auto& c) { return adaptive_fields_of(c); };

nlohmann::json to_json(const CellResult& c, bool adaptive) {
  return grouped_fields_to_json(c, kFields, kAdaptiveFields, adaptive);
}

CellResult from_json(const nlohmann::json& j, bool adaptive) {
  return grouped_fields_from_json<CellResult>(j, kFields, kAdaptiveFields, adaptive);
}

// K of a known-b fit at M: --knots when given, else `schedule` at the smoothness the degree can
// use, min(b, degree + 1).
int known_b_pieces(const Config& c, Schedule schedule, double smoothness, std::size_t M) {
  return c.knots > 0 ? c.knots : schedule_pieces(schedule, std::min(smoothness, c.degree + 1.0), c.cK, M);
}

// phi at the test interactions, over blocks of 512 (SIMD; values independent of the split).
arma::vec phi_at(const PairwiseModel& model, const arma::vec& u, int threads) {
  arma::vec v(u.n_elem);
  constexpr arma::uword block = 512;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (arma::uword t0 = 0; t0 < u.n_elem; t0 += block) {
    const arma::uword n = std::min(block, u.n_elem - t0);
    model.phi().evaluate({u.memptr() + t0, n}, {v.memptr() + t0, n});
  }
  return v;
}

// Mean of (phi_hat(u) - phi(u))^2 over the test pairs (summed in a fixed order) and its
// standard error.
template <class PhiHat>
std::pair<double, double> test_error(const arma::vec& u, const arma::vec& phi_u, const PhiHat& phi_hat, int threads) {
  arma::vec sq(u.n_elem);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (arma::uword t = 0; t < u.n_elem; ++t) {
    const double e = phi_hat(u[t]) - phi_u[t];
    sq[t] = e * e;
  }
  const double T = static_cast<double>(u.n_elem);
  double sum = 0.0;
  for (double v : sq) sum += v;
  const double error = sum / T;
  double ss = 0.0;
  for (double v : sq) ss += (v - error) * (v - error);
  return {error, std::sqrt(ss / (T - 1.0) / T)};
}

std::string cell_status(double error, bool fallback) {
  // A zero error cannot enter a log-log fit either; it is excluded under its own name.
  return !std::isfinite(error) ? "non-finite" : !(error > 0) ? "zero-error" : fallback ? "rank-deficient" : "ok";
}

// The adaptive schedule's cell: every candidate space fitted on the same data as the plain
// schedule's cell (same seeds), the error of phi_hat (the mixture, or the selected candidate),
// the selected candidate's degree and K, the oracle (the candidate with the
// smallest test error: it uses the test pairs, so it is reported, never selected) and, when phi
// has a smoothness, the plain known-b schedule's fit on the same data.
CellResult run_adaptive_cell(const Config& c, const PairwiseModel& model, double a, double b, std::size_t M,
                             int rep, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  CellResult r;
  r.M = M;
  r.rep = rep;
  const std::uint64_t data_seed = derive_seed(c.seed, {hash_name("data"), M, static_cast<std::uint64_t>(rep)});
  // The fit passes over the data once per degree (and once more for the training risk of a
  // mixture over several degrees), the known-b comparison once more, and drawing a
  // sample is mostly phi at its N (N - 1) pairs: samples that fit in kMaxDrawnOnceBytes are drawn
  // once and read back; larger ones are drawn again on every pass (memory flat in M). The values
  // are the same either way (a sample's draws do not depend on its block).
  const int N = model.N(), d = model.d();
  const bool drawn_once = static_cast<double>(M) * N * (d + 1) * sizeof(double) <= kMaxDrawnOnceBytes;
  arma::mat X;
  arma::vec Y;
  SampleBlockSource source = model.sample_source(data_seed);
  if (drawn_once) {
    model.draw_samples_into(data_seed, M, X, Y, threads);
    source = in_memory_source(X, Y, N);
  }
  AdaptiveSplineOptions opt = c.adapt;
  opt.lse.ridge = c.ridge;
  opt.lse.threads = threads;
  const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, model.A(), N, d, M, source, opt);
  const std::uint64_t test_seed = derive_seed(c.seed, {hash_name("test"), M, static_cast<std::uint64_t>(rep)});
  const arma::vec u = model.draw_pair_interactions(test_seed, c.test_pairs);
  const arma::vec phi_u = phi_at(model, u, threads);
  std::vector<double> errors;
  std::vector<double> ses;
  for (std::size_t i = 0; i < fit.candidates.size(); ++i) {
    const BSplineBasis basis = fit.basis(i);
    const arma::vec& coef = fit.candidates[i].coef;
    const auto [e, se] = test_error(u, phi_u, [&](double v) { return basis.value(coef, v); }, threads);
    errors.push_back(e);
    ses.push_back(se);
  }
  const SplineCandidate& sel = fit.candidates[fit.selected];
  r.K = sel.pieces;
  r.degree = sel.degree;
  r.candidates = static_cast<int>(fit.candidates.size());
  r.flagged = fit.estimate.flagged;
  std::tie(r.error, r.error_se) = test_error(u, phi_u, [&](double v) { return fit.phi_hat(v); }, threads);
  r.train_mse = fit.estimate.train_risk;
  r.solver = sel.solver;
  r.rcond = std::numeric_limits<double>::quiet_NaN();  // not kept per candidate
  r.sigma2_hat = fit.sigma2_hat;
  r.clamped = fit.clamped;
  r.interactions = fit.interactions;
  for (double v : u) r.test_clamped += !(v >= a && v <= b);
  // Oracle: the smallest test error (first in (p, degree) order on exact ties).
  std::size_t o = errors.size();
  for (std::size_t i = 0; i < errors.size(); ++i)
    if (std::isfinite(errors[i]) && (o == errors.size() || errors[i] < errors[o])) o = i;
  r.oracle_error = o < errors.size() ? errors[o] : std::numeric_limits<double>::quiet_NaN();
  r.oracle_degree = o < errors.size() ? fit.candidates[o].degree : 0;
  r.oracle_K = o < errors.size() ? fit.candidates[o].pieces : 0;
  r.candidate_errors = errors;
  for (const SplineCandidate& cand : fit.candidates) {
    r.candidate_degrees.push_back(cand.degree);
    r.candidate_K.push_back(cand.pieces);
  }
  r.known_error = std::numeric_limits<double>::quiet_NaN();
  if (c.known_b) {
    r.known_degree = c.degree;
    r.known_K = known_b_pieces(c, Schedule::plain, model.phi().claimed_smoothness(), M);
    const BSplineBasis basis(a, b, r.known_K, c.degree);
    const PairwiseLseFit kf = fit_pairwise_lse(basis, model.A(), N, d, M, source, opt.lse);
    r.known_error = test_error(u, phi_u, [&](double v) { return kf.phi_hat(v); }, threads).first;
  }
  r.status = cell_status(r.error, fit.estimate.flagged);
  r.seconds = seconds_since(t0);
  return r;
}

CellResult run_cell(const Config& c, const PairwiseModel& model, double a, double b, std::size_t M, int rep,
                    int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  CellResult r;
  r.M = M;
  r.rep = rep;
  r.K = known_b_pieces(c, c.schedule, model.phi().claimed_smoothness(), M);
  const BSplineBasis basis(a, b, r.K, c.degree);
  const std::uint64_t data_seed = derive_seed(c.seed, {hash_name("data"), M, static_cast<std::uint64_t>(rep)});
  const SampleBlockSource source = model.sample_source(data_seed);
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
  r.seconds = seconds_since(t0);
  return r;
}

// log-log points of the ok cells (error > 0) for one of a cell's errors.
template <class Get>
void log_points(const std::vector<CellResult>& cells, const Get& get, std::vector<double>& x, std::vector<double>& y) {
  for (const auto& r : cells)
    if (r.status == "ok" && get(r) > 0 && std::isfinite(get(r))) {
      x.push_back(std::log(static_cast<double>(r.M)));
      y.push_back(std::log(get(r)));
    }
}

// The adaptive schedule's further quantities: the oracle's and the known-b schedule's slopes,
// the error/oracle slope, the oracle ratio at the largest M and the two estimates of b. Returns
// the error/oracle slope (what the adaptive claims judge, which the figure states), if fitted.
std::optional<Measurement> add_adaptive_quantities(const Config& c, const std::vector<CellResult>& cells,
                                                   const SlopeFit& error_fit, nlohmann::json& summary) {
  const std::uint64_t boot = derive_seed(c.seed, {hash_name("bootstrap")});
  std::vector<double> x, y;
  log_points(cells, [](const CellResult& r) { return r.oracle_error; }, x, y);
  if (slope_fittable(x)) {
    Measurement m = slope_measurement(fit_slope(x, y, 0.95, c.bootstrap, boot), "oracle-slope");
    m.details["abscissa"] = "log M";
    summary["quantities"].push_back(to_json(m));
  }
  // The adaptive error relative to the oracle's, cell by cell (both on the same data and test
  // pairs, so the pairing removes most of the seed-to-seed noise): an oracle inequality with a
  // price of a factor ln M makes log(error / oracle error) grow at most like ln ln M, whose slope
  // on ln M is 1 / ln M.
  x.clear();
  y.clear();
  log_points(cells, [](const CellResult& r) { return r.oracle_error > 0 ? r.error / r.oracle_error : 0.0; }, x, y);
  std::optional<Measurement> ratio_slope;
  if (slope_fittable(x)) {
    ratio_slope = slope_measurement(fit_slope(x, y, 0.95, c.bootstrap, boot), "oracle-ratio-slope");
    ratio_slope->details["abscissa"] = "log M";
    // Cells not ok, or whose oracle error is not finite and positive, have no ratio.
    ratio_slope->details["cells_excluded"] = cells.size() - x.size();
    summary["quantities"].push_back(to_json(*ratio_slope));
  }
  if (c.known_b) {
    x.clear();
    y.clear();
    log_points(cells, [](const CellResult& r) { return r.known_error; }, x, y);
    if (slope_fittable(x)) {
      Measurement m = slope_measurement(fit_slope(x, y, 0.95, c.bootstrap, boot), "known-b-slope");
      m.details["abscissa"] = "log M";
      m.details["schedule"] = "plain, degree " + std::to_string(c.degree) + ", c_K = " + format_double(c.cK);
      summary["quantities"].push_back(to_json(m));
    }
  }
  // Oracle ratio at the largest M: geometric mean over the repetitions of error / oracle error.
  std::size_t top = 0;
  for (const auto& r : cells)
    if (r.status == "ok") top = std::max(top, r.M);
  std::vector<double> errors, oracle;
  for (const auto& r : cells)
    if (r.status == "ok" && r.M == top) {
      errors.push_back(r.error);
      oracle.push_back(r.oracle_error);
    }
  if (auto m = ratio_measurement(errors, oracle, c.bootstrap, boot, "oracle-ratio", {})) {
    m->details["M"] = top;
    summary["quantities"].push_back(to_json(*m));
  }
  // The same against the best fixed candidate at the largest M: the one with the smallest mean log
  // test error over the repetitions, chosen from the errors that enter the ratio (the benchmark
  // min_k E err_k of oracle inequalities, on the log scale; the per-repetition oracle above is
  // E min_k err_k, which no selection rule attains in general).
  std::vector<const CellResult*> at_top;
  for (const auto& r : cells)
    if (r.status == "ok" && r.M == top) at_top.push_back(&r);
  const auto same_spaces = [&at_top] {
    for (const CellResult* r : at_top)
      if (r->candidate_degrees != at_top.front()->candidate_degrees || r->candidate_K != at_top.front()->candidate_K)
        return false;
    return true;
  };
  const auto note = [&summary](const std::string& why) {
    if (!summary.contains("notes")) summary["notes"] = nlohmann::json::array();
    summary["notes"].push_back("no fixed-oracle-ratio: " + why);
  };
  if (!at_top.empty() && !same_spaces()) note("the candidate spaces differ between the seeds at the largest M");
  if (!at_top.empty() && same_spaces()) {
    const std::size_t n_cand = at_top.front()->candidate_errors.size();
    std::size_t best = n_cand;
    double best_mean = 0;
    for (std::size_t k = 0; k < n_cand; ++k) {
      double mean = 0;
      for (const CellResult* r : at_top) mean += std::log(r->candidate_errors[k]) / static_cast<double>(at_top.size());
      if (std::isfinite(mean) && (best == n_cand || mean < best_mean)) {
        best = k;
        best_mean = mean;
      }
    }
    if (best < n_cand) {
      std::vector<double> fixed;
      for (const CellResult* r : at_top) fixed.push_back(r->candidate_errors[best]);
      if (auto m = ratio_measurement(errors, fixed, c.bootstrap, boot, "fixed-oracle-ratio", {})) {
        m->details["M"] = top;
        m->details["degree"] = at_top.front()->candidate_degrees[best];
        m->details["K"] = at_top.front()->candidate_K[best];
        m->details["mean_log_error"] = best_mean;
        summary["quantities"].push_back(to_json(*m));
      }
    } else {
      note("no candidate has a finite, positive test error at every seed at the largest M");
    }
  }
  // b-hat from the selected pieces (log K_hat on log M) and from the adaptive error's slope.
  x.clear();
  y.clear();
  log_points(cells, [](const CellResult& r) { return static_cast<double>(r.K); }, x, y);
  if (slope_fittable(x)) {
    const SlopeFit fk = fit_slope(x, y, 0.95, c.bootstrap, boot);
    Measurement m = b_hat_measurement(fk, b_from_pieces_slope, "pieces");
    m.details["note"] = "K_hat on a dyadic grid: log2 K_hat moves in unit steps";
    // Cells whose selected K is the largest of their grid: there the grid bounded K_hat, not the
    // data, and b_hat is biased.
    std::size_t at_grid_top = 0, fitted = 0;
    for (const CellResult& r : cells)
      if (r.status == "ok" && !r.candidate_K.empty()) {
        ++fitted;
        at_grid_top += r.K == *std::max_element(r.candidate_K.begin(), r.candidate_K.end());
      }
    m.details["cells_at_grid_top"] = at_grid_top;
    if (at_grid_top > 0)
      summary["notes"].push_back("b-hat from=pieces: in " + std::to_string(at_grid_top) + " of " + std::to_string(fitted) +
           " cells the selected K is the largest of the candidate grid, which then bounds K_hat (b_hat biased; "
           "--max-knots widens the grid)");
    summary["quantities"].push_back(to_json(m));
  }
  summary["quantities"].push_back(to_json(b_hat_measurement(error_fit, b_from_error_slope, "error-slope")));
  return ratio_slope;
}

// The oracle's and the known-b schedule's errors beside the adaptive one.
void add_adaptive_series(const Config& c, const std::vector<CellResult>& cells, ConvergenceFigure& fig) {
  const auto add = [&](const std::string& label, auto get) {
    std::vector<double> x, y;
    log_points(cells, get, x, y);
    if (auto s = fitted_curve(label, x, y)) fig.series.push_back(*s);
  };
  add("oracle (best candidate by test error)", [](const CellResult& r) { return r.oracle_error; });
  if (c.known_b) add("known b (plain schedule)", [](const CellResult& r) { return r.known_error; });
}

// A checkpointed cell must be a result this study could have produced.
void validate_cell(const nlohmann::json& j, const Config& c) {
  const CellResult r = from_json(j, c.adaptive);
  if (r.status != "ok" && r.status != "rank-deficient" && r.status != "non-finite" && r.status != "zero-error")
    throw InputError("unknown status '" + r.status + "'");
  if (r.status == "ok" && !(std::isfinite(r.error) && r.error > 0)) throw InputError("error must be finite and > 0");
  if (!(r.K >= 1) || !(r.M >= 2)) throw InputError("K and M out of range");
  if (!c.adaptive) return;
  if (r.degree < 0 || r.degree > c.adapt.max_degree || r.oracle_degree < 0 || r.oracle_degree > c.adapt.max_degree)
    throw InputError("degree out of range");
  if (!(r.oracle_K >= 1) || r.candidates < 1) throw InputError("oracle K or candidate count out of range");
  // The oracle is the smallest test error over the candidates; a selected candidate is one of
  // them, a mixture may be better than each.
  if (r.status == "ok" && !(r.oracle_error > 0)) throw InputError("oracle error must be > 0");
  if (r.status == "ok" && c.adapt.rule != SelectionRule::mixture && !(r.oracle_error <= r.error))
    throw InputError("oracle error must be <= error (the selected candidate is one of the candidates)");
  const auto n_cand = static_cast<std::size_t>(r.candidates);
  if (r.candidate_errors.size() != n_cand || r.candidate_degrees.size() != n_cand || r.candidate_K.size() != n_cand)
    throw InputError("candidate_degrees, candidate_K and candidate_errors must list every candidate");
  for (std::size_t k = 0; k < n_cand; ++k)
    if (r.candidate_degrees[k] < 0 || r.candidate_degrees[k] > c.adapt.max_degree || r.candidate_K[k] < 1)
      throw InputError("candidate degree or K out of range");
  if (r.status == "ok" &&
      std::find(r.candidate_errors.begin(), r.candidate_errors.end(), r.oracle_error) == r.candidate_errors.end())
    throw InputError("the oracle error must be one of candidate_errors");
  // The mixture's squared error is at most the weighted mean of its candidates' on the same test
  // pairs (convexity), so at most the largest candidate error; a selected candidate's is one of them.
  if (r.status == "ok" &&
      !(r.error <= *std::max_element(r.candidate_errors.begin(), r.candidate_errors.end()) * (1 + 1e-9)))
    throw InputError("error must be at most the largest of candidate_errors");
  if (c.known_b != (r.known_K >= 1)) throw InputError("known-b fit present iff phi has a smoothness");
  if (c.known_b && !(r.known_error >= 0)) throw InputError("known-b error must be >= 0");
}

nlohmann::json run_minimax_rate(const Config& c, const Settings& settings, const StudyContext& ctx) {
  // The model and the spline range are drawn by the first cell that needs them (a fully
  // checkpointed run draws them for the summary only). Both follow from the parameters, so the
  // fingerprint does not include them.
  const std::uint64_t model_seed = derive_seed(c.seed, {hash_name("model")});
  const LazyValue<PairwiseModel> lazy_model([&] { return PairwiseModel(c.model, model_seed); });
  const LazyValue<std::pair<double, double>> lazy_range([&] {
    return c.fixed_range ? std::pair{c.a, c.b}
                         : interaction_range(lazy_model.get(), derive_seed(c.seed, {hash_name("range")}), 1000000, 1e-4);
  });

  nlohmann::json params = parameters_json(settings);
  if (c.adaptive) params["degree_used"] = "selected per cell";
  else params["degree_used"] = c.degree;

  // Cells run concurrently, one thread each, when that many fit in memory: a cell streams its
  // samples and holds its normal equations (per fold and degree at the finest K with --schedule
  // adaptive), the accumulation's partial sums (at most 64 MiB) and its test pairs. Every
  // quantity of a cell is independent of its thread count, so this changes no result; it saves
  // the fork/join of each cell's parallel loops, whose waiting threads spin.
  const Activation phi = Activation::parse(c.model.activation);
  SweepSpec sweep = sweep_spec("minimax-rate", params, "minimax-rate " + phi.name());
  double cell_bytes = 0.0;
  for (std::size_t M : c.M) {
    const double p =
        c.adaptive ? (c.adapt.max_pieces > 0 ? c.adapt.max_pieces : adaptive_max_pieces(M)) + c.adapt.max_degree
                   : known_b_pieces(c, c.schedule, phi.claimed_smoothness(), M) + c.degree;
    const double systems = c.adaptive ? c.adapt.folds + 4.0 : 6.0;
    cell_bytes =
        std::max(cell_bytes, 8.0 * p * p * systems + 64.0 * (1 << 20) + 24.0 * static_cast<double>(c.test_pairs));
  }
  sweep.parallelism = parallelism_within_memory(ctx, cell_bytes);
  const auto coords =
      add_repeated_cells(sweep, c.M, c.seeds, [](std::size_t M) { return std::string("M").append(std::to_string(M)); });
  const auto values = run_sweep(
      ctx, sweep,
      [&](std::size_t i, int threads) {
        const auto [M, rep] = coords[i];
        const PairwiseModel& model = lazy_model.get();
        const auto [a, b] = lazy_range.get();
        return to_json(c.adaptive ? run_adaptive_cell(c, model, a, b, M, rep, threads)
                                  : run_cell(c, model, a, b, M, rep, threads),
                       c.adaptive);
      },
      [&c](const nlohmann::json& j) { validate_cell(j, c); });

  const PairwiseModel& model = lazy_model.get();
  const auto [a, b] = lazy_range.get();
  params["range_used"] = {a, b};
  params["A"] = nlohmann::json::array();
  for (arma::uword i = 0; i < model.A().n_rows; ++i) {
    std::vector<double> row(model.A().n_cols);
    for (arma::uword j = 0; j < model.A().n_cols; ++j) row[j] = model.A()(i, j);
    params["A"].push_back(row);
  }
  std::vector<CellResult> cells;
  for (const auto& j : values) cells.push_back(from_json(j, c.adaptive));

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
  if (c.adaptive) {
    // The degree column is the selected degree; the known-b fit's degree and K have their own.
    for (const char* col : {"select", "candidates", "flagged", "sigma2_hat", "oracle_error", "oracle_degree",
                            "oracle_K", "known_error", "known_degree", "known_K"})
      table.columns.push_back(col);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const CellResult& r = cells[i];
      auto& row = table.rows[i];
      row[6] = std::to_string(r.degree);
      for (std::string v : {to_string(c.adapt.rule), std::to_string(r.candidates), std::string(r.flagged ? "1" : "0"),
                            format_finite(r.sigma2_hat), format_finite(r.oracle_error), std::to_string(r.oracle_degree),
                            std::to_string(r.oracle_K), format_finite(r.known_error),
                            c.known_b ? std::to_string(r.known_degree) : std::string(),
                            c.known_b ? std::to_string(r.known_K) : std::string()})
        row.push_back(v);
    }
  }
  write_cells_csv(table, ctx);

  // Slope over the cells that are usable; the others are counted, never silently dropped.
  std::vector<double> x, y, xM;
  std::size_t excluded = 0;
  std::map<std::string, std::size_t> excluded_by_status;
  for (const auto& r : cells) {
    if (r.status != "ok") {
      ++excluded;
      ++excluded_by_status[r.status];
      continue;
    }
    x.push_back(rate_abscissa(c.schedule, r.M));
    xM.push_back(std::log(static_cast<double>(r.M)));
    y.push_back(std::log(r.error));
  }
  const double beta = model.phi().claimed_smoothness();
  // The reference line of the figure; claims state their own theory value.
  // (adaptive: the best degree on offer, max-degree, bounds the rate)
  const double reference = -minimax_exponent(beta, c.adaptive ? c.adapt.max_degree : c.degree);
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
    m.details["abscissa"] = c.schedule == Schedule::paper ? "log(M / log M)" : "log M";
    if (c.adaptive) m.details["error"] = "adaptive (phi_hat of --select " + to_string(c.adapt.rule) + ")";
    m.details["cells_excluded"] = excluded;
    m.details["reference_slope"] = reference;
    if (c.schedule == Schedule::paper) {
      const SlopeFit f2 = fit_slope(xM, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
      m.details["slope_vs_log_M"] = f2.slope;
    } else {
      std::vector<double> xl;
      for (const auto& r : cells)
        if (r.status == "ok") xl.push_back(rate_abscissa(Schedule::paper, r.M));
      // M = 2 and 4 share log(M / log M): that abscissa can have a single value.
      if (slope_fittable(xl)) {
        const SlopeFit f2 = fit_slope(xl, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
        m.details["slope_vs_log_M_over_log_M"] = f2.slope;
      }
    }
    summary["quantities"].push_back(to_json(m));
    const std::optional<Measurement> ratio_slope =
        c.adaptive ? add_adaptive_quantities(c, cells, fit, summary) : std::nullopt;

    ConvergenceFigure fig;
    fig.title = "minimax-rate: " + model.phi().name() + ", A known, N=" + std::to_string(c.model.N) +
                ", d=" + std::to_string(c.model.d) + ", r=" + std::to_string(c.model.r);
    std::ostringstream note;
    note.precision(3);
    note << "slope " << fit.slope << ", 95% CI [" << m.lo() << ", " << m.hi() << "]; ";
    // The adaptive claims judge the error relative to the oracle's: that ratio's slope goes beside
    // the error's own slope.
    if (ratio_slope)
      note << "error/oracle: slope " << ratio_slope->value << ", CI [" << ratio_slope->lo() << ", "
           << ratio_slope->hi() << "]; ";
    note << "dashed: -2b/(2b+1) = " << reference << "; " << excluded << " cells excluded";
    fig.note = note.str();
    if (c.schedule == Schedule::paper) fig.x_label = "M (slope fitted against log(M / log M))";
    ConvergenceSeries series;
    series.label = model.phi().name();
    for (const auto& r : cells)
      if (r.status == "ok") {
        series.x.push_back(static_cast<double>(r.M));
        series.y.push_back(r.error);
      }
    const SlopeFit fm = c.schedule != Schedule::paper ? fit : fit_slope(xM, y, 0.95, 100, 1);
    series.fit_slope = fm.slope;
    series.fit_intercept = fm.intercept;
    series.theory_slope = reference;
    series.draw_theory = !c.adaptive || beta > 0;
    if (c.adaptive) {
      series.label = model.phi().name() + ": adaptive (" + to_string(c.adapt.rule) + ")";
      series.theory_label = "rate -2b/(2b+1), not judged:";  // the claims judge error / oracle
      fig.series.push_back(series);
      add_adaptive_series(c, cells, fig);
    } else {
      fig.series.push_back(series);
    }
    summary["figure"] = write_study_figure(fig, "convergence", ctx);
  } else {
    std::string why;  // which statuses excluded them, e.g. "15 rank-deficient"
    for (const auto& [status, n] : excluded_by_status) why += (why.empty() ? ": " : ", ") + std::to_string(n) + " " + status;
    summary["error"] = "fewer than 3 usable cells at two or more sizes (" + std::to_string(excluded) + " of " +
                       std::to_string(cells.size()) + " excluded" + why +
                       "; cells.csv gives each cell's status): no slope fitted";
  }
  return summary;
}

}  // namespace

StudyDefinition minimax_rate_study() {
  return define_study(
      "minimax-rate", "A known: composed L2(rho) error vs M and its slope", minimax_rate_keys,
      {{"slope",
        "slope of log error on log M (on log(M / log M) with --schedule paper; of phi_hat's error with "
        "--schedule adaptive)",
        {}},
       reported_only_with("schedule", "adaptive", {"oracle-slope",
        "slope of the oracle's log error on log M (the best candidate by test error)",
        {}}),
       reported_only_with("schedule", "adaptive", {"known-b-slope",
        "slope of the plain known-b schedule's log error on log M, same data",
        {}}),
       reported_only_with("schedule", "adaptive", {"oracle-ratio",
        "adaptive error / oracle error at the largest M, geometric mean over seeds",
        {}}),
       reported_only_with("schedule", "adaptive", {"oracle-ratio-slope",
        "slope of log(adaptive error / oracle error) on log M, each cell's own ratio",
        {}}),
       reported_only_with("schedule", "adaptive", {"fixed-oracle-ratio",
        "adaptive error / error of the best fixed candidate space at the largest M (smallest "
        "mean log test error over seeds), geometric mean over seeds",
        {}}),
       reported_only_with("schedule", "adaptive", {"b-hat",
        "smoothness estimated from the slope of log K_hat (from = pieces) or of the log error "
        "(from = error-slope)",
        {"from"}})},
      read_config, run_minimax_rate);
}

}  // namespace attnrate
