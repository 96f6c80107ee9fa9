#include "studies/pairwise/pairwise_series.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/pairwise_erm/adaptive_erm.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_erm/restart_basins.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/sweep.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/sweep/cell_fields.hpp"
#include "studies/sweep/lazy_value.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

// ---------------------------------------------------------------- option lists

std::vector<int> int_list(const Settings& s, const std::string& key, int lo, int hi) {
  std::vector<int> out;
  for (const auto& t : s.get_list(key)) {
    std::size_t pos = 0;
    long v = 0;
    try {
      v = std::stol(t, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != t.size() || v < lo || v > hi)
      throw InputError(s.source(key) + ": '" + t + "' is not an integer in " + std::to_string(lo) + ".." +
                       std::to_string(hi) + " (expected a comma list of such integers)");
    if (std::find(out.begin(), out.end(), static_cast<int>(v)) != out.end())
      throw InputError(s.source(key) + ": " + t + " is listed twice");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw InputError(s.source(key) + " must list at least one value");
  return out;
}

std::vector<std::string> activation_list(const Settings& s, const std::string& key, bool joint) {
  std::vector<std::string> out;
  for (const auto& t : s.get_list(key)) {
    const Activation phi = s.with_source(key, [&] { return Activation::parse(t); });
    check_rate_activation(s, key, phi, joint);
    if (std::find(out.begin(), out.end(), phi.name()) != out.end())
      throw InputError(s.source(key) + ": " + phi.name() + " is listed twice");
    out.push_back(phi.name());
  }
  if (out.empty()) throw InputError(s.source(key) + " must list at least one activation");
  return out;
}

// ---------------------------------------------------------------- estimator options

std::vector<KeySpec> estimator_keys(const std::string& M_default, const std::string& seeds_default) {
  return {
      {"cK", "8", "schedule constant: K_M = max(1, round(c_K M^(1/(2b+1)))) (> 0)", "FLOAT"},
      {"refit-trim", "50",
       "final phi-step on the training interactions under A_hat with this many cut at each end (their order "
       "statistics; 0 = keep the ERM's own [min u, max u]) (0..10^9)"},
      {"restarts", "8",
       "ERM starts: the moment estimate of A, then seeded random starts; all run with --coarse-pieces pieces and the "
       "best is continued (1..1000)"},
      {"coarse-pieces", "4",
       "continuation in K: restarts with this many pieces, then doubled up to K_M, warm-started (0 = off) (0..10^6)"},
      {"restart-samples", "2000",
       "the restarts' coarse stage runs on the first this many samples, the best restart then on all M (0, or at "
       "least M: all samples) (0..10^12)"},
      {"rel-tol", "1e-8", "ERM stop rule: relative risk decrease of an accepted step (>= 0)"},
      {"max-iterations", "200", "ERM step cap (1..10^6)"},
      {"M", M_default, "sample sizes: list 500,1000 or log grid FIRST:LAST:xFACTOR (each >= 16)"},
      {"seeds", seeds_default, "repetitions per M (1..100000)"},
      {"seed", "1", "base seed of the study (model, data, test pairs, restarts)"},
      {"test-pairs", "100000", "fresh pairs for the composed L2(rho) error (1000..10^9)"},
      {"bootstrap", "2000", "seed-bootstrap resamples (100..10^6)"},
  };
}

EstimatorConfig read_estimator(const Settings& s) {
  EstimatorConfig c;
  c.cK = s.get_double("cK", 0.0, kInf, false);
  c.refit_trim = static_cast<int>(s.get_int("refit-trim", 0, 1000000000));
  c.restarts = static_cast<int>(s.get_int("restarts", 1, 1000));
  c.coarse_pieces = static_cast<int>(s.get_int("coarse-pieces", 0, 1000000));
  c.restart_samples = static_cast<std::size_t>(s.get_int("restart-samples", 0, 1000000000000LL));
  c.rel_tol = s.get_double("rel-tol", 0.0, kInf);
  c.max_iterations = static_cast<int>(s.get_int("max-iterations", 1, 1000000));
  c.M = s.get_sizes("M", 16);
  c.seeds = static_cast<int>(s.get_int("seeds", 1, 100000));
  c.seed = s.get_seed("seed");
  c.test_pairs = static_cast<std::size_t>(s.get_int("test-pairs", kMinTestPairs, kMaxTestPairs));
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  return c;
}

std::vector<KeySpec> schedule_keys() {
  std::vector<KeySpec> k = {{"schedule", "fixed",
                             "spline space: fixed (K_M = c_K M^(1/(2b+1)), the activation's degree) | adaptive "
                             "(degree and K selected from the data in every cell, b unused)"}};
  for (auto& e : adaptive_selection_keys()) k.push_back(e);
  return k;
}

void read_schedule(const Settings& s, EstimatorConfig& c) {
  const std::string schedule = s.get_string("schedule");
  if (schedule != "fixed" && schedule != "adaptive")
    throw InputError(s.source("schedule") + " must be fixed or adaptive, got '" + schedule + "'");
  c.adaptive = schedule == "adaptive";
  if (!c.adaptive) {
    refuse_adaptive_selection(s);
    return;
  }
  if (s.given("cK"))
    throw InputError(s.source("cK") + " has no effect with --schedule adaptive (K is selected from the data, up to "
                     "--max-knots); leave it out");
  read_adaptive_selection(s, c.adapt);
  for (std::size_t M : c.M)
    if (M < static_cast<std::size_t>(c.adapt.folds))
      throw InputError(s.source("M") + ": M = " + std::to_string(M) + " is smaller than --folds " +
                       std::to_string(c.adapt.folds) + " (every cross-validation fold needs a sample)");
}

// ---------------------------------------------------------------- small helpers

std::pair<double, double> mean_and_se(const std::vector<double>& v) {
  if (v.size() < 2) throw InputError("mean_and_se needs at least two values");
  double sum = 0.0;
  for (double x : v) sum += x;  // fixed order
  const double T = static_cast<double>(v.size()), mean = sum / T;
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / (T - 1.0) / T)};
}

double rank_knee(double M, double b) {
  if (!(M > std::exp(1.0)) || !(b > 0)) throw InputError("rank_knee needs M > e and b > 0");
  return std::pow(M / std::log(M), 1.0 / (2.0 * b + 1.0));
}

std::string activation_tag(const std::string& name) {
  const auto colon = name.find(':');
  if (colon == std::string::npos) return name;
  const std::string fam = name.substr(0, colon);
  return fam + "." + (fam == "bspline" ? "P" : "b") + name.substr(colon + 1);
}

std::string file_tag(const std::string& s) {
  std::string o;
  for (char ch : s) o += std::isalnum(static_cast<unsigned char>(ch)) ? ch : (ch == '.' ? 'p' : '-');
  return o;
}

std::string short_number(double v, int precision) {
  std::ostringstream o;
  o.precision(precision);
  o << v;
  return o.str();
}

nlohmann::json smoothness_json(const std::string& activation) {
  const Activation phi = Activation::parse(activation);
  auto num = [](double v) { return std::isinf(v) ? nlohmann::json("infinity") : nlohmann::json(v); };
  return {{"activation", phi.name()},
          {"holder", num(phi.holder_smoothness())},
          {"claimed", num(phi.claimed_smoothness())},
          {"convention", phi.smoothness_convention()}};
}

// ---------------------------------------------------------------- cells

namespace {

// The joint fit's options that come from the study's estimator options; each cell adds its rank,
// seed, threads and start.
ErmOptions erm_options(const EstimatorConfig& c) {
  ErmOptions o;
  o.restarts = c.restarts;
  o.coarse_pieces = c.coarse_pieces;
  o.restart_samples = c.restart_samples;
  o.rel_tol = c.rel_tol;
  o.max_iterations = c.max_iterations;
  return o;
}

// The model and estimator of a series as text; its hash is part of every seed of its cells.
// The trailing "|K0" (no fixed piece count) is kept so that the seeds stay those of earlier
// versions.
std::string model_key(const Series& s, bool adaptive) {
  std::ostringstream o;
  o << s.model.activation << "|" << s.model.tokens << "|N" << s.model.N << "|d" << s.model.d << "|r" << s.model.r
    << "|sigma" << s.model.sigma << "|" << (s.a_known ? "known" : "erm");
  if (adaptive)
    o << "|adaptive";
  else
    o << "|s" << s.degree << "|cK" << s.cK << "|K0";
  return o.str();
}

template <class C>  // SeriesCell or const SeriesCell
auto fields_of(C& c) {
  return std::make_tuple(field("M", c.M), field("rep", c.rep), field("K", c.K), field("error", c.error),
                         field("error_se", c.error_se), field("error_erm", c.error_erm),
                         field("error_erm_se", c.error_erm_se), field("train_mse", c.train_mse), field("a", c.a),
                         field("b", c.b), field("rcond", c.rcond), field("seconds", c.seconds),
                         field("iterations", c.iterations), field("evaluations", c.evaluations),
                         field("rejected", c.rejected), field("restarts", c.restarts),
                         field("restarts_in_best_basin", c.restarts_in_best_basin),
                         field("basin_levels", c.basin_levels), field("stop", c.stop), field("solver", c.solver),
                         field("status", c.status));
}

template <class C>
auto adaptive_fields_of(C& c) {
  return std::make_tuple(field("degree", c.degree), field("candidates", c.candidates),
                         field("oracle_error", c.oracle_error), field("oracle_degree", c.oracle_degree),
                         field("oracle_K", c.oracle_K));
}

constexpr auto kFields = [](auto& c) { return fields_of(c); };
constexpr auto kAdaptiveFields = [](auto& c) { return adaptive_fields_of(c); };

nlohmann::json to_json(const SeriesCell& c, bool adaptive) {
  return grouped_fields_to_json(c, kFields, kAdaptiveFields, adaptive);
}

SeriesCell cell_from_json(const nlohmann::json& j, bool adaptive) {
  return grouped_fields_from_json<SeriesCell>(j, kFields, kAdaptiveFields, adaptive);
}

// A checkpointed cell must be a result run_cell could have produced (with `restarts` ERM
// restarts when A is unknown, i.e. unless it stopped with "A known").
void validate_cell(const nlohmann::json& j, int restarts, const EstimatorConfig& ec) {
  const SeriesCell c = cell_from_json(j, ec.adaptive);
  if (ec.adaptive) {
    if (c.degree < 0 || c.degree > ec.adapt.max_degree || c.oracle_degree < 0 || c.oracle_degree > ec.adapt.max_degree)
      throw InputError("selected or oracle degree out of range");
    if (!(c.oracle_K >= 1) || c.candidates < 1) throw InputError("oracle K or candidate count out of range");
    // The oracle is the smallest test error over the candidates; a selected candidate is one of
    // them, a mixture may be better than each.
    if (c.status == "ok" && !(c.oracle_error > 0))
      throw InputError("oracle error must be > 0");
    if (c.status == "ok" && ec.adapt.rule != SelectionRule::mixture && !(c.oracle_error <= c.error))
      throw InputError("oracle error must be <= error (the selected candidate is one of the candidates)");
  }
  if (c.status != "ok" && c.status != "rank-deficient" && c.status != "non-finite")
    throw InputError("unknown status '" + c.status + "'");
  if (c.status != "non-finite" && !(std::isfinite(c.error) && c.error > 0 && std::isfinite(c.error_erm)))
    throw InputError("error must be finite and > 0");
  if (!(c.K >= 1) || !(c.M >= 16) || !(c.rep >= 0)) throw InputError("K, M or rep out of range");
  // Basins: none with A known; else every restart reported, at most one level per restart beyond
  // the best, and a best basin (of at least the returned restart) exactly when a level exists.
  const int expected = c.stop == "A known" ? 0 : restarts;
  if (c.restarts != expected || c.restarts_in_best_basin < 0 || c.restarts_in_best_basin > c.restarts ||
      c.basin_levels < 0 || (c.basin_levels > 0) != (c.restarts_in_best_basin > 0) ||
      c.basin_levels > c.restarts - c.restarts_in_best_basin + 1)
    throw InputError("restart basin counts out of range");
}

// Composed error on fresh pairs for g_hat(x, y) = phi_hat(x^T U V^T y).
std::pair<double, double> composed_error(const PairwiseModel& model, const arma::mat& pairs, const arma::mat& U,
                                         const arma::mat& V, const BSplineBasis& basis, const arma::vec& coef,
                                         int threads) {
  const arma::uword T = pairs.n_cols / 2;
  const arma::mat P = U.t() * pairs, Q = V.t() * pairs;
  std::vector<double> sq(T);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (arma::uword t = 0; t < T; ++t) {
    const double u = arma::dot(P.col(2 * t), Q.col(2 * t + 1));
    const double e = basis.value(coef, u) - model.g(pairs.colptr(2 * t), pairs.colptr(2 * t + 1));
    sq[t] = e * e;
  }
  return mean_and_se(sq);
}

// The composed test error of every candidate of a selection at A = U V^T and of its estimate
// phi_hat (the selected candidate or the mixture), with the oracle's (smallest candidate error,
// first on ties) recorded in r.
void score_candidates(const PairwiseModel& model, const arma::mat& pairs, const arma::mat& U, const arma::mat& V,
                      const AdaptiveSplineFit& fit, int threads, SeriesCell& r) {
  const arma::uword T = pairs.n_cols / 2;
  const arma::mat P = U.t() * pairs, Q = V.t() * pairs;
  arma::vec u(T), g(T);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (arma::uword t = 0; t < T; ++t) {
    u[t] = arma::dot(P.col(2 * t), Q.col(2 * t + 1));
    g[t] = model.g(pairs.colptr(2 * t), pairs.colptr(2 * t + 1));
  }
  std::size_t oracle = fit.candidates.size();
  std::vector<double> sq(T);
  const auto error_of = [&](const SplineSum& phi) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (arma::uword t = 0; t < T; ++t) {
      const double e = phi.value(u[t]) - g[t];
      sq[t] = e * e;
    }
    return mean_and_se(sq);
  };
  for (std::size_t i = 0; i < fit.candidates.size(); ++i) {
    const double e = error_of(SplineSum(fit.basis(i), fit.candidates[i].coef)).first;
    if (std::isfinite(e) && (oracle == fit.candidates.size() || e < r.oracle_error)) {
      oracle = i;
      r.oracle_error = e;
    }
  }
  std::tie(r.error, r.error_se) = error_of(fit.estimate.phi);
  const SplineCandidate& sel = fit.candidates[fit.selected];
  r.K = sel.pieces;
  r.degree = sel.degree;
  r.candidates = static_cast<int>(fit.candidates.size());
  r.train_mse = fit.estimate.train_risk;
  r.solver = sel.solver;
  r.rcond = std::numeric_limits<double>::quiet_NaN();  // not kept per candidate
  r.a = fit.a;
  r.b = fit.b;
  r.status = fit.estimate.flagged ? "rank-deficient" : "ok";
  if (oracle == fit.candidates.size()) {
    r.oracle_error = std::numeric_limits<double>::quiet_NaN();
  } else {
    r.oracle_degree = fit.candidates[oracle].degree;
    r.oracle_K = fit.candidates[oracle].pieces;
  }
}

SeriesCell run_cell(const Series& s, const std::string& key, const PairwiseModel& model, const EstimatorConfig& c,
                    std::pair<double, double> known_range, std::size_t M, int rep, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  SeriesCell r;
  r.M = M;
  r.rep = rep;
  const double beta_eff = std::min(model.phi().claimed_smoothness(), s.degree + 1.0);
  r.K = c.adaptive ? 0 : schedule_pieces(Schedule::plain, beta_eff, s.cK, M);
  const std::uint64_t skey = hash_name(key);
  const std::uint64_t data_seed = derive_seed(c.seed, {hash_name("data"), skey, M, static_cast<std::uint64_t>(rep)});
  const std::uint64_t test_seed = derive_seed(c.seed, {hash_name("test"), skey, M, static_cast<std::uint64_t>(rep)});
  const int N = model.N(), d = model.d();
  arma::mat X;
  arma::vec Y;
  model.draw_samples_into(data_seed, M, X, Y, threads);
  const arma::mat pairs = model.draw_token_pairs(test_seed, c.test_pairs);
  LseOptions lopt;
  lopt.threads = threads;
  AdaptiveSplineOptions aopt = c.adapt;
  aopt.lse.threads = threads;
  ErmOptions o = erm_options(c);
  o.rank = model.spec().r;
  o.seed = derive_seed(c.seed, {hash_name("erm"), skey, M, static_cast<std::uint64_t>(rep)});
  o.threads = threads;
  o.start = ErmStart::moment;
  // The trimmed refit of the phi-step, when the sample has enough interactions for it.
  const std::size_t n_int = M * static_cast<std::size_t>(N) * (N - 1);
  const std::size_t trim =
      2 * static_cast<std::size_t>(c.refit_trim) < n_int ? static_cast<std::size_t>(c.refit_trim) : 0;
  if (c.adaptive && s.a_known) {
    const AdaptiveSplineFit fit = fit_adaptive_spline(known_range.first, known_range.second, model.A(), N, d, M,
                                                      in_memory_source(X, Y, N), aopt);
    arma::mat U, V;
    arma::vec sv;
    arma::svd_econ(U, sv, V, model.A());
    const int rr = model.spec().r;
    score_candidates(model, pairs, U.head_cols(rr) * arma::diagmat(sv.head(rr)), V.head_cols(rr), fit, threads, r);
    r.error_erm = r.error;
    r.error_erm_se = r.error_se;
    r.stop = "A known";
  } else if (c.adaptive) {
    AdaptiveErmOptions ao;
    ao.erm = o;
    ao.select = aopt;
    ao.trim = trim;
    const AdaptiveErmFit fit = fit_adaptive_erm(X, Y, N, ao);
    score_candidates(model, pairs, fit.U, fit.V, fit.selection, threads, r);
    // The ERM's own g_hat (its phi-step on [min u, max u] in the selected space).
    std::tie(r.error_erm, r.error_erm_se) =
        composed_error(model, pairs, fit.erm.U, fit.erm.V, fit.erm.basis, fit.erm.coef, threads);
    const auto& dp = fit.pilot.diagnostics;
    const auto& de = fit.erm.diagnostics;
    r.iterations = dp.iterations + de.iterations;
    r.evaluations = dp.evaluations + de.evaluations;
    r.rejected = dp.rejected_steps + de.rejected_steps;
    r.stop = de.stop_reason;
    const RestartBasins basins = restart_basins(dp.per_restart);
    r.restarts = basins.restarts;
    r.restarts_in_best_basin = basins.in_best;
    r.basin_levels = basins.levels;
  } else if (s.a_known) {
    const BSplineBasis basis(known_range.first, known_range.second, r.K, s.degree);
    const PairwiseLseFit fit = fit_pairwise_lse(basis, model.A(), N, d, M, in_memory_source(X, Y, N), lopt);
    arma::mat U, V;
    arma::vec sv;
    arma::svd_econ(U, sv, V, model.A());
    const int rr = model.spec().r;
    const arma::mat Ur = U.head_cols(rr) * arma::diagmat(sv.head(rr)), Vr = V.head_cols(rr);
    std::tie(r.error, r.error_se) = composed_error(model, pairs, Ur, Vr, basis, fit.solution.coef, threads);
    r.error_erm = r.error;
    r.error_erm_se = r.error_se;
    r.train_mse = fit.solution.train_mse;
    r.solver = fit.solution.solver;
    r.rcond = fit.solution.rcond;
    r.a = basis.a();
    r.b = basis.b();
    r.stop = "A known";
    r.status = fit.solution.fallback ? "rank-deficient" : "ok";
  } else {
    o.pieces = r.K;
    o.degree = s.degree;
    o.refit_trim = trim;
    const PairwiseErmFit fit = fit_pairwise_erm(X, Y, N, o);
    const auto& dg = fit.diagnostics;
    r.iterations = dg.iterations;
    r.evaluations = dg.evaluations;
    r.rejected = dg.rejected_steps;
    r.stop = dg.stop_reason;
    std::tie(r.error, r.error_se) = composed_error(model, pairs, fit.U, fit.V, fit.basis, fit.coef, threads);
    if (o.refit_trim > 0) {  // also score the ERM's own phi (untrimmed interval)
      const BSplineBasis untrimmed(dg.untrimmed_a, dg.untrimmed_b, r.K, s.degree);
      std::tie(r.error_erm, r.error_erm_se) =
          composed_error(model, pairs, fit.U, fit.V, untrimmed, dg.coef_untrimmed, threads);
    } else {
      r.error_erm = r.error;
      r.error_erm_se = r.error_se;
    }
    const RestartBasins basins = restart_basins(dg.per_restart);
    r.restarts = basins.restarts;
    r.restarts_in_best_basin = basins.in_best;
    r.basin_levels = basins.levels;
    r.train_mse = fit.train_risk;
    r.solver = dg.phi_step.solver;
    r.rcond = dg.phi_step.rcond;
    r.a = fit.basis.a();
    r.b = fit.basis.b();
    r.status = dg.phi_step.fallback ? "rank-deficient" : "ok";
  }
  if (!std::isfinite(r.error) || !(r.error > 0) || !std::isfinite(r.error_erm)) r.status = "non-finite";
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace

std::vector<SeriesResult> run_series(const std::string& study, const std::vector<Series>& series,
                                     const EstimatorConfig& c, const nlohmann::json& parameters,
                                     const StudyContext& ctx) {
  // The distinct series in order of first appearance, each with its model (and, with A known,
  // the interaction range of its spline space), drawn by the first cell that needs them.
  struct Distinct {
    const Series* series;
    std::string key;
    std::unique_ptr<LazyValue<PairwiseModel>> model;
    std::unique_ptr<LazyValue<std::pair<double, double>>> known_range;
    std::size_t first = 0;  // its first cell
  };
  std::vector<Distinct> distinct;
  std::map<std::string, std::size_t> index;  // model key -> distinct
  const std::uint64_t model_seed = derive_seed(c.seed, {hash_name("model")});
  SweepSpec sweep = sweep_spec(study, parameters);
  struct CellRef {
    std::size_t distinct, M;
    int rep;
  };
  std::vector<CellRef> refs;
  for (const auto& s : series) {
    const std::string key = model_key(s, c.adaptive);
    if (index.count(key)) continue;
    index[key] = distinct.size();
    Distinct d{&s, key, nullptr, nullptr, refs.size()};
    d.model = std::make_unique<LazyValue<PairwiseModel>>([&s, model_seed] { return PairwiseModel(s.model, model_seed); });
    const LazyValue<PairwiseModel>& model = *d.model;
    d.known_range = std::make_unique<LazyValue<std::pair<double, double>>>([&s, &model, &c] {
      return s.a_known ? interaction_range(model.get(), derive_seed(c.seed, {hash_name("range")}), 1000000, 1e-4)
                       : std::pair<double, double>{0, 0};
    });
    const std::string stem = "s" + std::to_string(hash_name(key));
    const auto cell_stem = [&stem](std::size_t M) { return std::string(stem).append("-M").append(std::to_string(M)); };
    for (const auto& [M, rep] : add_repeated_cells(sweep, s.M, c.seeds, cell_stem)) refs.push_back({distinct.size(), M, rep});
    distinct.push_back(std::move(d));
  }
  // A cell holds its samples in memory (d x MN tokens, MN outputs) and the joint fit's 2r
  // projections of each token; twice that covers the test pairs and the fits' smaller buffers.
  double cell_bytes = 0.0;
  for (const auto& s : series)
    for (std::size_t M : s.M)
      cell_bytes = std::max(cell_bytes, 16.0 * static_cast<double>(M) * s.model.N * (s.model.d + 1 + 2 * s.model.r));
  sweep.parallelism = parallelism_within_memory(ctx, cell_bytes);
  const auto values = run_sweep(
      ctx, sweep,
      [&](std::size_t i, int threads) {
        const CellRef& ref = refs[i];
        const Distinct& d = distinct[ref.distinct];
        return to_json(run_cell(*d.series, d.key, d.model->get(), c, d.known_range->get(), ref.M, ref.rep, threads),
                       c.adaptive);
      },
      [&](const nlohmann::json& j) { validate_cell(j, c.restarts, c); });
  std::vector<SeriesResult> out;
  for (const auto& s : series) {
    const Distinct& d = distinct[index.at(model_key(s, c.adaptive))];
    SeriesResult res;
    res.series = s;
    const std::size_t count = s.M.size() * static_cast<std::size_t>(c.seeds);
    for (std::size_t k = 0; k < count; ++k) res.cells.push_back(cell_from_json(values[d.first + k], c.adaptive));
    out.push_back(std::move(res));
  }
  return out;
}

void write_series_csv(const std::vector<SeriesResult>& results, const EstimatorConfig& c,
                      const std::filesystem::path& out) {
  CsvTable t;
  t.columns = {"factor", "value", "activation", "tokens", "N", "d", "r", "sigma", "A", "degree", "cK", "refit_trim",
               "M", "rep", "seed", "K", "a", "b", "error", "error_se", "error_erm", "error_erm_se", "train_mse",
               "iterations", "evaluations", "rejected_steps", "restarts", "restart_samples", "restarts_in_best_basin",
               "basin_levels", "stop", "solver", "rcond", "status", "seconds"};
  if (c.adaptive)
    for (const char* col : {"candidates", "oracle_error", "oracle_degree", "oracle_K"}) t.columns.push_back(col);
  const ErmOptions erm = erm_options(c);  // decides the restarts' sample count, as in the fits
  for (const auto& sr : results) {
    const Series& s = sr.series;
    for (const auto& r : sr.cells) {
      t.rows.push_back({s.factor, format_double(s.value), s.model.activation, s.model.tokens, std::to_string(s.model.N),
                        std::to_string(s.model.d), std::to_string(s.model.r), format_double(s.model.sigma),
                        s.a_known ? "known" : "unknown", std::to_string(c.adaptive ? r.degree : s.degree),
                        c.adaptive ? "" : format_double(s.cK),
                        std::to_string(s.a_known ? 0 : c.refit_trim), std::to_string(r.M), std::to_string(r.rep),
                        std::to_string(c.seed), std::to_string(r.K), format_double(r.a), format_double(r.b),
                        format_double(r.error), format_double(r.error_se), format_double(r.error_erm),
                        format_double(r.error_erm_se), format_double(r.train_mse), std::to_string(r.iterations),
                        std::to_string(r.evaluations), std::to_string(r.rejected), std::to_string(r.restarts),
                        std::to_string(s.a_known ? 0 : restart_sample_count(erm, r.M)),
                        std::to_string(r.restarts_in_best_basin), std::to_string(r.basin_levels), r.stop, r.solver,
                        format_double(r.rcond), r.status, format_double(r.seconds)});
      if (c.adaptive)
        for (std::string v : {std::to_string(r.candidates), format_double(r.oracle_error),
                              std::to_string(r.oracle_degree), std::to_string(r.oracle_K)})
          t.rows.back().push_back(v);
    }
  }
  write_file_atomic(out / "cells.csv", t.str());
}

nlohmann::json restart_basin_summary(const std::vector<SeriesResult>& results) {
  nlohmann::json series = nlohmann::json::array();
  for (const auto& sr : results) {
    if (sr.series.a_known) continue;
    nlohmann::json per_M = nlohmann::json::array();
    for (std::size_t M : sr.series.M) {
      int cells = 0, restarts = 0, in_best = 0, all_in_best = 0;
      for (const auto& c : sr.cells)
        if (c.M == M) {
          ++cells;
          restarts += c.restarts;
          in_best += c.restarts_in_best_basin;
          all_in_best += c.restarts > 0 && c.restarts_in_best_basin == c.restarts;
        }
      per_M.push_back({{"M", M},
                       {"cells", cells},
                       {"restarts", restarts},
                       {"in_best_basin", in_best},
                       {"elsewhere", restarts - in_best},
                       {"cells_all_in_best_basin", all_in_best}});
    }
    const auto& m = sr.series.model;
    series.push_back({{"activation", m.activation},
                      {"series", sr.series.factor},
                      {"value", sr.series.value},
                      {"d", m.d},
                      {"N", m.N},
                      {"r", m.r},
                      {"per_M", per_M}});
  }
  if (series.empty()) return series;
  return {{"definition",
           "per cell, the ERM restarts whose training risk at the end of the coarse stage is at most (1 + rel_tol) "
           "times the lowest (the best basin); elsewhere: the other restarts (other local minima, or no finite risk)"},
          {"rel_tol", kBasinRelTol},
          {"series", series}};
}

// ---------------------------------------------------------------- measurements

RankRegime rank_regime(const Series& s, double b) {
  RankRegime g;
  g.rd = s.model.r * s.model.d;
  g.M_min = *std::min_element(s.M.begin(), s.M.end());
  g.M_max = *std::max_element(s.M.begin(), s.M.end());
  g.knee_min = rank_knee(static_cast<double>(g.M_min), b);
  g.knee_max = rank_knee(static_cast<double>(g.M_max), b);
  return g;
}

ConvergenceSeries convergence_series(const SeriesResult& sr, const SeriesSlope& slope) {
  ConvergenceSeries cs;
  cs.label = sr.series.label;
  for (const auto& r : sr.cells)
    if (r.status == "ok") {
      cs.x.push_back(static_cast<double>(r.M));
      cs.y.push_back(r.error);
    }
  cs.fit_slope = slope.fit.value().slope;
  cs.fit_intercept = slope.fit.value().intercept;
  cs.theory_slope = slope.reference;
  return cs;
}

SeriesSlope series_slope(const SeriesResult& sr, const EstimatorConfig& c, const std::string& stream,
                         bool use_erm_error) {
  SeriesSlope o;
  const Activation phi = Activation::parse(sr.series.model.activation);
  o.reference = -minimax_exponent(phi.claimed_smoothness(), sr.series.degree);
  std::vector<double> x, y;
  for (const auto& r : sr.cells) {
    if (r.status != "ok") {
      ++o.excluded;
      continue;
    }
    x.push_back(std::log(static_cast<double>(r.M)));
    y.push_back(std::log(use_erm_error ? r.error_erm : r.error));
  }
  if (!slope_fittable(x)) return o;
  o.fit = fit_slope(x, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap"), hash_name(stream)}));
  return o;
}

Measurement series_slope_measurement(const SeriesResult& sr, const SeriesSlope& s, std::string quantity,
                                     std::map<std::string, std::string> select) {
  Measurement m = slope_measurement(s.fit.value(), std::move(quantity), std::move(select));
  const Activation phi = Activation::parse(sr.series.model.activation);
  m.details["abscissa"] = "log M";
  m.details["cells_excluded"] = s.excluded;
  m.details["reference_slope"] = s.reference;
  m.details["smoothness_convention"] = phi.smoothness_convention();
  if (!sr.series.a_known) {
    const RankRegime g = rank_regime(sr.series, phi.claimed_smoothness());
    m.details["rank_condition"] = {{"r_d", g.rd},
                                   {"M_smallest", g.M_min},
                                   {"knee_at_smallest_M", g.knee_min},
                                   {"M_largest", g.M_max},
                                   {"knee_at_largest_M", g.knee_max},
                                   {"holds_at_every_M", g.holds_everywhere()},
                                   {"holds_at_largest_M", g.holds_at_largest()}};
  }
  return m;
}

std::optional<Measurement> oracle_ratio_measurement(const SeriesResult& sr, const EstimatorConfig& c,
                                                    const std::string& stream, std::string quantity,
                                                    std::map<std::string, std::string> select) {
  std::size_t top = 0;
  for (const auto& r : sr.cells)
    if (r.status == "ok") top = std::max(top, r.M);
  std::vector<double> errors, oracle;
  for (const auto& r : sr.cells)
    if (r.status == "ok" && r.M == top) {
      errors.push_back(r.error);
      oracle.push_back(r.oracle_error);
    }
  auto m = ratio_measurement(errors, oracle, c.bootstrap,
                             derive_seed(c.seed, {hash_name("bootstrap"), hash_name(stream)}), std::move(quantity),
                             std::move(select));
  if (m) m->details["M"] = top;
  return m;
}

std::optional<ConvergenceSeries> fitted_curve(std::string label, const std::vector<double>& log_x,
                                              const std::vector<double>& log_y) {
  if (!slope_fittable(log_x)) return std::nullopt;
  const SlopeFit f = fit_slope(log_x, log_y, 0.95, 100, 1);  // the line only: its interval is not shown
  ConvergenceSeries s;
  s.label = std::move(label);
  for (std::size_t i = 0; i < log_x.size(); ++i) {
    s.x.push_back(std::exp(log_x[i]));
    s.y.push_back(std::exp(log_y[i]));
  }
  s.fit_slope = f.slope;
  s.fit_intercept = f.intercept;
  s.draw_theory = false;
  return s;
}

std::optional<ConvergenceSeries> oracle_convergence_series(const SeriesResult& sr) {
  std::vector<double> x, y;
  for (const auto& r : sr.cells)
    if (r.status == "ok" && r.oracle_error > 0) {
      x.push_back(std::log(static_cast<double>(r.M)));
      y.push_back(std::log(r.oracle_error));
    }
  return fitted_curve(sr.series.label + ", oracle", x, y);
}

namespace {

// Median of the ok errors of a series at size M over the reps `draws` (indices into those
// cells; all of them when null). NaN if there are none.
double median_of(const SeriesResult& sr, std::size_t M, const std::vector<int>* draws) {
  std::vector<double> v;
  for (const auto& r : sr.cells)
    if (r.M == M && r.status == "ok") v.push_back(r.error);
  if (draws) {
    std::vector<double> w;
    for (int k : *draws)
      if (k < static_cast<int>(v.size())) w.push_back(v[k]);
    v = w;
  }
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  return quantile_type7(v, 0.5);
}

}  // namespace

double median_error_at(const SeriesResult& sr, std::size_t M) { return median_of(sr, M, nullptr); }

std::optional<Measurement> spread_measurement(const std::vector<const SeriesResult*>& group,
                                              const EstimatorConfig& c, const std::string& stream,
                                              std::string quantity, std::map<std::string, std::string> select) {
  if (group.empty()) return std::nullopt;
  std::size_t Mmax = 0;
  for (std::size_t M : group.front()->series.M) Mmax = std::max(Mmax, M);
  for (const SeriesResult* sr : group)
    if (std::isnan(median_error_at(*sr, Mmax))) return std::nullopt;
  auto ratio_of = [&](const std::vector<std::vector<int>>* draws) {
    double lo = kInf, hi = 0;
    for (std::size_t g = 0; g < group.size(); ++g) {
      const double m = median_of(*group[g], Mmax, draws ? &(*draws)[g] : nullptr);
      lo = std::min(lo, m);
      hi = std::max(hi, m);
    }
    return hi / lo;
  };
  Measurement m;
  m.quantity = std::move(quantity);
  m.select = std::move(select);
  m.width_scale = WidthScale::log;
  m.value = ratio_of(nullptr);
  Rng rng(derive_seed(c.seed, {hash_name("spread"), hash_name(stream)}));
  std::vector<double> boot;
  for (int b = 0; b < c.bootstrap; ++b) {
    std::vector<std::vector<int>> draws(group.size());
    for (std::size_t g = 0; g < group.size(); ++g) {
      std::size_t n = 0;
      for (const auto& r : group[g]->cells) n += r.M == Mmax && r.status == "ok";
      for (std::size_t k = 0; k < n; ++k) draws[g].push_back(static_cast<int>(rng.below(n)));
    }
    const double v = ratio_of(&draws);
    if (std::isfinite(v)) boot.push_back(v);
  }
  double lo = m.value, hi = m.value;
  if (!boot.empty()) {
    lo = quantile_type7(boot, 0.025);
    hi = quantile_type7(boot, 0.975);
  }
  m.ci_t_lo = m.ci_boot_lo = lo;
  m.ci_t_hi = m.ci_boot_hi = hi;
  nlohmann::json members = nlohmann::json::array();
  for (const SeriesResult* sr : group) members.push_back(sr->series.value);
  m.details = {{"M", Mmax},
               {"members", members},
               {"bootstrap_resamples", boot.size()},
               {"definition", "largest over smallest median error at M across the members"},
               {"intervals", "both intervals are the 95% percentile seed-bootstrap interval (reps resampled within "
                             "each member); a ratio of medians has no t-interval"}};
  return m;
}

}  // namespace attnrate
