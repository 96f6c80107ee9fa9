#include "studies/commands/pairwise_fit_json.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <iomanip>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/extreme_values.hpp"
#include "studies/commands/command.hpp"
#include "studies/commands/fit_pairwise.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/stats/smoothness_estimate.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

namespace {

constexpr const char* kIdentifiability =
    "only g(x, y) = phi(x^T A y) is identified: (phi(c u), A / c) gives the same g";

// Degree and pieces shared by both fits: --degree, then --knots or --beta (K from the plain
// schedule with c_K = 1). floor(beta) is taken in double: beta = 1e10 means degree 10.
std::pair<int, int> degree_and_pieces(const Settings& s, std::size_t M, int min_degree) {
  double beta = 0.0;
  const bool has_beta = s.raw("beta") != "auto";
  if (has_beta) beta = s.get_double("beta", 0.0, std::numeric_limits<double>::infinity(), false);
  const int degree = s.raw("degree") != "auto" ? s.get_count("degree", 0, BSplineBasis::max_degree)
                     : has_beta ? static_cast<int>(std::clamp<double>(std::floor(beta), min_degree, BSplineBasis::max_degree))
                                : 3;
  if (degree < min_degree)  // min_degree 1: the joint fit
    throw InputError(s.label("degree") + " must be in " + std::to_string(min_degree) + ".." +
                     std::to_string(BSplineBasis::max_degree) + " with A unknown, got " + s.raw("degree") +
                     ": the joint fit's A-step needs phi', and degree-0 splines are piecewise constant");
  if (s.raw("knots") != "auto") {
    if (has_beta)
      throw InputError("give " + s.label("knots") + " K or " + s.label("beta") +
                       " b, not both: --beta sets K = round(M^(1/(2b+1))) (and the degree floor(b) unless --degree is "
                       "given); with --knots give --degree");
    return {degree, s.get_count("knots", 1, max_pieces())};
  }
  if (!has_beta)
    throw InputError("give " + s.label("knots") + " K (pieces) or " + s.label("beta") +
                     " b (K = round(M^(1/(2b+1)))), or " + s.label("schedule") +
                     " adaptive to select the degree and K from the data");
  const double beta_eff = std::min(beta, degree + 1.0);
  const double pieces = std::pow(static_cast<double>(M), 1.0 / (2.0 * beta_eff + 1.0));
  if (!(pieces <= max_pieces())) {
    std::ostringstream m;
    m << "--beta " << s.raw("beta") << " gives K = M^(1/(2b+1)) = " << pieces << " pieces for M = " << M
      << ", more than " << max_pieces() << "; give a larger --beta or --knots";
    throw InputError(m.str());
  }
  return {degree, schedule_pieces(Schedule::plain, beta_eff, 1.0, M)};
}

// The adaptive schedule's options; InputError naming the option when one is given without it.
bool read_adaptive(const Settings& s, AdaptiveSplineOptions& o) {
  const std::string schedule = s.raw("schedule");
  if (schedule != "fixed" && schedule != "adaptive")
    throw InputError(s.source("schedule") + " must be fixed or adaptive, got '" + schedule + "'");
  if (schedule == "fixed") {
    refuse_adaptive_selection(s);
    return false;
  }
  for (const char* key : {"degree", "knots", "beta"})
    if (s.raw(key) != "auto")
      throw InputError(s.source(key) + " " + s.raw(key) +
                       " has no effect with --schedule adaptive (degree and K are selected from the data); leave it auto");
  read_adaptive_selection(s, o);
  return true;
}

// degree, pieces, knots and coefficients of one spline.
nlohmann::json spline_keys(const BSplineBasis& basis, const arma::vec& coef) {
  return {{"degree", basis.degree()},
          {"pieces", basis.pieces()},
          {"knots", basis.knots()},
          {"coefficients", std::vector<double>(coef.begin(), coef.end())}};
}

// phi_hat as every pairwise fit.json holds it (what attnrate predict and score read): kind, range,
// and one spline's keys, or "terms" (one spline per degree of the mixture) summed in their order.
nlohmann::json phi_json(const SplineSum& phi) {
  nlohmann::json j = {{"kind", "pairwise"}, {"range", {phi.a(), phi.b()}}};
  if (phi.terms().size() == 1) {
    j.update(spline_keys(phi.terms().front().basis, phi.terms().front().coef));
    return j;
  }
  j["terms"] = nlohmann::json::array();
  for (const SplineTerm& t : phi.terms()) j["terms"].push_back(spline_keys(t.basis, t.coef));
  return j;
}

nlohmann::json candidate_json(const SplineCandidate& c) {
  return {{"degree", c.degree},       {"pieces", c.pieces},     {"p", c.p},
          {"dof", c.dof},             {"train_risk", c.train_risk}, {"cv_risk", c.cv_risk}, {"penalised", c.penalised},
          {"cp", c.cp},               {"criterion", c.criterion}, {"weight", c.weight},
          {"flagged", c.flagged},     {"solver", c.solver}};
}

// The CLI's data reader refuses fewer than 2 samples; data from memory (Python) meet it here.
void require_two_samples(std::size_t M) {
  if (M < 2)
    throw InputError("the data hold M = " + std::to_string(M) + " sample" + (M == 1 ? "" : "s") +
                     "; a fit needs at least 2 samples (M >= 2)");
}

}  // namespace

KnownAFitOptions read_known_A_fit_options(const Settings& s, std::size_t M, int threads) {
  require_two_samples(M);
  for (const char* key : {"restarts", "seed", "start", "refit-trim", "coarse-pieces", "restart-samples"})
    if (s.given(key)) throw InputError(s.source(key) + " is an option of the joint fit; it needs --rank r, not --A");
  KnownAFitOptions o;
  o.adaptive = read_adaptive(s, o.adapt);
  if (o.adaptive && M < static_cast<std::size_t>(o.adapt.folds))
    throw InputError("--schedule adaptive: the data hold M = " + std::to_string(M) + " samples, fewer than --folds " +
                     std::to_string(o.adapt.folds));
  if (o.adaptive) {
    o.degree = o.adapt.max_degree;
    o.pieces = adaptive_pieces_grid(1, o.adapt.max_pieces > 0 ? o.adapt.max_pieces : adaptive_max_pieces(M)).back();
  } else {
    std::tie(o.degree, o.pieces) = degree_and_pieces(s, M, 0);
  }
  o.ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  o.adapt.lse.ridge = o.ridge;
  o.adapt.lse.threads = threads;
  double a = 0, b = 0;
  if (s.get_range("range", a, b)) o.range = {a, b};
  return o;
}

JointFitOptions read_joint_fit_options(const Settings& s, std::size_t M, int d, int threads) {
  require_two_samples(M);
  JointFitOptions o;
  o.adaptive = read_adaptive(s, o.adapt.select);
  if (o.adaptive && M < static_cast<std::size_t>(o.adapt.select.folds))
    throw InputError("--schedule adaptive: the data hold M = " + std::to_string(M) + " samples, fewer than --folds " +
                     std::to_string(o.adapt.select.folds));
  ErmOptions& opt = o.erm;
  const long long rank = s.get_int("rank", 1, 100000);
  if (rank > d)
    throw InputError(s.source("rank") + " must be at most the data's token dimension d = " + std::to_string(d) +
                     " (A is d x d of rank r), got " + std::to_string(rank));
  opt.rank = static_cast<int>(rank);
  if (!o.adaptive) std::tie(opt.degree, opt.pieces) = degree_and_pieces(s, M, 1);
  opt.restarts = s.get_count("restarts", 1, 1000);
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  const std::string start = s.raw("start");
  if (start == "moment") opt.start = ErmStart::moment;
  else if (start == "random") opt.start = ErmStart::random;
  else throw InputError(s.source("start") + " must be moment or random, got '" + start + "'");
  opt.refit_trim = s.get_size("refit-trim", 0, kMaxSamples);
  opt.coarse_pieces = s.get_count("coarse-pieces", 0, 1000000);
  opt.restart_samples = s.get_size("restart-samples", 0, kMaxSamples);
  if (s.raw("range") != "auto")
    throw InputError("--range is not used with --rank: the knot interval follows the range of u = x^T A y");
  if (s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity()) != 0.0)
    throw InputError("--ridge is not available with --rank (the joint fit is plain least squares)");
  if (o.adaptive) {
    o.adapt.select.lse.threads = threads;
    o.adapt.trim = opt.refit_trim;
    o.adapt.erm = opt;
    // The ERM steps' spaces: the largest candidate, for the memory check.
    opt.degree = o.adapt.select.max_degree;
    opt.pieces = adaptive_pieces_grid(1, o.adapt.select.max_pieces > 0 ? o.adapt.select.max_pieces
                                                                         : adaptive_max_pieces(M))
                     .back();
  }
  return o;
}

namespace {

// One pass over the data's interactions: [min u, max u] and, with trim > 0, [u_(trim),
// u_(n-1-trim)] of the n = M N (N-1) interactions (each thread keeps its extremes, merged after:
// order statistics, so any thread count gives the same values). InputError naming the first
// sample with a non-finite interaction.
struct InteractionScan {
  double a, b;      // min u, max u
  double lo, hi;    // the trimmed range (a, b without trim)
};

InteractionScan scan_interactions(const arma::mat& X, const arma::mat& A, std::size_t M, int N, int threads,
                                  std::size_t trim) {
  // u in the accumulation's order (sample_interactions), so the ends are interactions of the fit
  // and none of the data counts as clamped; BLAS (A * X, dot) may sum in another order, one
  // rounding away. min and max are exact, so any thread count gives the same range.
  const int d = static_cast<int>(X.n_rows), T = threads > 0 ? threads : omp_get_max_threads();
  double a = std::numeric_limits<double>::infinity(), b = -a;
  std::size_t overflow = M;  // the first sample with a non-finite interaction
  // Per-thread buffers allocated here, where a failed allocation is an ordinary exception.
  const std::size_t scratch_size = sample_interactions_scratch(N, d), pairs = static_cast<std::size_t>(N) * (N - 1);
  std::vector<std::vector<double>> buffers(static_cast<std::size_t>(T), std::vector<double>(scratch_size + pairs));
  std::vector<ExtremeValues> extremes(static_cast<std::size_t>(T), ExtremeValues{trim + 1, {}, {}});
#pragma omp parallel num_threads(T) reduction(min : a, overflow) reduction(max : b)
  {
    const std::size_t me = static_cast<std::size_t>(omp_get_thread_num());
    double* scratch = buffers[me].data();
    double* u = scratch + scratch_size;
#pragma omp for schedule(static)
    for (std::size_t m = 0; m < M; ++m) {
      sample_interactions(A, X.colptr(m * N), N, d, scratch, u);
      for (std::size_t k = 0; k < pairs; ++k) {
        const double v = u[k];
        if (!std::isfinite(v)) overflow = std::min(overflow, m);
        a = std::min(a, v);
        b = std::max(b, v);
        if (trim > 0) extremes[me].push(v);
      }
    }
  }
  if (overflow < M)
    throw InputError("sample " + std::to_string(overflow) + " (0-based): an interaction u = X_i^T A X_j is not finite: "
                     "the products of the tokens and A overflow; scale the tokens down (or check A)");
  if (trim == 0) return {a, b, a, b};
  for (std::size_t t = 1; t < extremes.size(); ++t) extremes[0].merge(std::move(extremes[t]));
  return {a, b, extremes[0].low.top(), extremes[0].high.top()};
}

}  // namespace

std::pair<double, double> interaction_range(const arma::mat& X, const arma::mat& A, std::size_t M, int N,
                                            int threads) {
  const InteractionScan s = scan_interactions(X, A, M, N, threads, 0);
  return {s.a, s.b};
}

KnownARange known_A_range(const arma::mat& X, const arma::mat& A, std::size_t M, int N,
                          const std::optional<std::pair<double, double>>& range, const std::string& range_option,
                          int threads) {
  const std::size_t n = M * static_cast<std::size_t>(N) * static_cast<std::size_t>(N - 1);
  const std::size_t t = std::max<std::size_t>(static_cast<std::size_t>(1e-4 * static_cast<double>(n - 1)),
                                              2 * static_cast<std::size_t>(N - 1));
  // With --range the scan only checks for overflow; without, the same pass finds the bulk.
  const bool bulk = !range && 2 * t < n;
  const InteractionScan s = scan_interactions(X, A, M, N, threads, bulk ? t : 0);
  if (range) return {range->first, range->second, {}, {}};
  const double a = s.a, b = s.b;
  if (!(a < b)) throw InputError("all interactions u = X_i^T A X_j in the data are equal; give " + range_option);
  KnownARange out{a, b, {}, {}};
  if (!bulk) return out;
  const double lo = s.lo, hi = s.hi;
  out.bulk = {lo, hi};
  // Under a third: unbounded token laws reach about half only at ~10^7 interactions (Gaussian
  // tokens, N = 8, d = 5: 49% at M = 200000), one token 6 times too large reaches 31%.
  if (!(hi - lo < (b - a) / 3.0)) return out;
  std::ostringstream w;
  w << "the spline interval [" << format_double(a) << ", " << format_double(b)
    << "] (the smallest and largest interaction u = X_i^T A X_j) is set by a few extreme ones: all but the " << t
    << " smallest and " << t << " largest of the " << n << " interactions lie in [" << format_double(lo) << ", "
    << format_double(hi) << "], " << std::setprecision(2) << 100.0 * (hi - lo) / (b - a) << std::setprecision(6)
    << "% of it, so most of its pieces hold next to no data; give --range " << format_double(lo) << ","
    << format_double(hi) << " (interactions outside are clamped to its ends), or check the samples with the largest "
    << "tokens (heavy-tailed tokens do this too)";
  out.warnings.push_back(w.str());
  return out;
}

std::vector<std::string> with_range_warnings(const KnownARange& range, std::vector<std::string> fit_warnings) {
  std::vector<std::string> out = range.warnings;
  out.insert(out.end(), fit_warnings.begin(), fit_warnings.end());
  return out;
}

// The least-squares fits hold the data, (p+1) x (p+1) normal equations per chunk of samples (at
// most 64, about 64 MiB in all, at least 2) plus a few p x p for the solve, and a block of 256
// samples' features and outputs per thread.
MemoryEstimate pairwise_fit_memory(std::size_t M, int N, int d, int degree, int pieces, int threads,
                                   double data_copies, double extra_per_token, double trim) {
  const double p = static_cast<double>(pieces) + degree, MN = static_cast<double>(M) * N;
  const double chunks = std::clamp(std::floor(64.0 * (1 << 20) / (8.0 * p * p)), 2.0, 64.0);
  const int T = threads > 0 ? threads : omp_get_max_threads();
  MemoryEstimate need;
  need.add("data of M x N = " + std::to_string(M) + " x " + std::to_string(N) + " tokens in d = " + std::to_string(d),
           8.0 * MN * (data_copies * d + 1 + extra_per_token));
  need.add("normal equations of " + std::to_string(pieces) + " pieces of degree " + std::to_string(degree) +
               " (basis size " + format_double(p) + ")",
           8.0 * (p + 1) * (p + 1) * (chunks + 5));
  need.add("feature blocks of " + std::to_string(T) + " threads", 8.0 * T * 256 * N * (p + d + 2));
  if (trim > 0) need.add("refit trim", 16.0 * trim);
  return need;
}

nlohmann::json matrix_json(const arma::mat& A) {
  nlohmann::json j = nlohmann::json::array();
  for (arma::uword i = 0; i < A.n_rows; ++i) {
    std::vector<double> row(A.n_cols);
    for (arma::uword k = 0; k < A.n_cols; ++k) row[k] = A(i, k);
    j.push_back(row);
  }
  return j;
}

nlohmann::json known_A_fit_json(const PairwiseLseFit& fit, const arma::mat& A, double ridge) {
  nlohmann::json j = phi_json(SplineSum(fit.basis, fit.solution.coef));
  j["A"] = matrix_json(A);
  j["train_mse"] = fit.solution.train_mse;
  j["solver"] = fit.solution.solver;
  j["rcond"] = fit.solution.rcond;
  j["ridge"] = ridge;
  j["rank_of_normal_matrix"] = fit.solution.rank;
  j["clamped_interactions"] = fit.normal_equations.clamped;
  return j;
}

nlohmann::json adaptive_fit_json(const AdaptiveSplineFit& fit, const arma::mat& A, const AdaptiveSplineOptions& opt) {
  const SplineCandidate& sel = fit.candidates[fit.selected];
  nlohmann::json j = phi_json(fit.estimate.phi);
  j["schedule"] = "adaptive";
  j["select"] = to_string(opt.rule);
  j["folds"] = opt.folds;
  if (opt.rule == SelectionRule::penalty) j["penalty"] = opt.penalty;
  j["selected"] = {{"degree", sel.degree}, {"pieces", sel.pieces}};
  j["A"] = matrix_json(A);
  j["train_mse"] = fit.estimate.train_risk;
  j["solver"] = opt.rule == SelectionRule::mixture ? "exponential-weights mixture of the candidates" : sel.solver;
  j["ridge"] = opt.lse.ridge;
  j["flagged"] = fit.estimate.flagged;
  j["sigma2_hat"] = fit.sigma2_hat;
  j["clamped_interactions"] = fit.clamped;
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : fit.candidates) j["candidates"].push_back(candidate_json(c));
  return j;
}

nlohmann::json joint_fit_json(const PairwiseErmFit& fit, const ErmOptions& opt) {
  const ErmDiagnostics& g = fit.diagnostics;
  nlohmann::json j = phi_json(SplineSum(fit.basis, fit.coef));
  j["A"] = matrix_json(fit.A);
  j["rank"] = opt.rank;
  j["train_mse"] = fit.train_risk;
  j["train_risk_note"] = "composed training risk 1/(MN) sum (Y - 1/(N-1) sum_j phi_hat(X_i^T A X_j))^2";
  j["solver"] = "variable projection + L-BFGS; phi-step " + g.phi_step.solver;
  j["diagnostics"] = {{"iterations", g.iterations},
                      {"restarts", g.restarts},
                      {"restart_samples", g.restart_samples},
                      {"best_restart", g.best_restart},
                      {"stop_reason", g.stop_reason},
                      {"rejected_steps", g.rejected_steps},
                      {"relative_gradient", g.relative_gradient},
                      {"start", opt.start == ErmStart::moment ? "moment" : "random"},
                      {"refit_trim", opt.refit_trim},
                      {"train_risk_untrimmed", g.train_risk_untrimmed},
                      {"phi_step_rcond", g.phi_step.rcond},
                      {"degenerate_range", g.degenerate_range}};
  for (const ErmStageReport& st : g.stages)
    j["diagnostics"]["stages"].push_back(
        {{"pieces", st.pieces}, {"iterations", st.iterations}, {"risk", st.risk}, {"stop_reason", st.stop_reason}});
  j["identifiability"] = kIdentifiability;
  return j;
}

nlohmann::json adaptive_joint_fit_json(const AdaptiveErmFit& fit, const AdaptiveErmOptions& opt) {
  nlohmann::json j = adaptive_fit_json(fit.selection, fit.A, opt.select);
  j["rank"] = opt.erm.rank;
  j["train_risk_note"] = "composed training risk 1/(MN) sum (Y - 1/(N-1) sum_j phi_hat(X_i^T A X_j))^2";
  j["selection_trim"] = opt.trim;
  ErmOptions step = opt.erm;  // the ERM in the selected space: one run from the pilot's A, no refit
  step.refit_trim = 0;
  j["erm"] = joint_fit_json(fit.erm, step)["diagnostics"];
  j["erm"]["start"] = "the pilot's A";
  j["erm"]["degree"] = fit.erm.basis.degree();
  j["erm"]["pieces"] = fit.erm.basis.pieces();
  const SplineCandidate& s1 = fit.pilot_selection.candidates[fit.pilot_selection.selected];
  j["pilot"] = {{"degree", fit.pilot.basis.degree()},
                {"pieces", fit.pilot.basis.pieces()},
                {"restarts", fit.pilot.diagnostics.restarts},
                {"restart_samples", fit.pilot.diagnostics.restart_samples},
                {"train_risk", fit.pilot.train_risk},
                {"stop_reason", fit.pilot.diagnostics.stop_reason},
                {"selected", {{"degree", s1.degree}, {"pieces", s1.pieces}}}};
  j["identifiability"] = kIdentifiability;
  return j;
}

SelectedSpace selected_space(const AdaptiveSplineFit& fit) {
  int largest = 0;
  for (const SplineCandidate& c : fit.candidates) largest = std::max(largest, c.pieces);
  const SplineCandidate& s = fit.candidates[fit.selected];
  return {s.degree, s.pieces, s.pieces == largest};
}

namespace {

// More than 1% of the M N (N - 1) training interactions outside [a, b] (an explicit --range):
// phi_hat is constant beyond its ends, which the user may not intend.
void add_clamped_warning(std::size_t clamped, std::size_t M, int N, double a, double b,
                         std::vector<std::string>& out) {
  const double total = static_cast<double>(M) * N * (N - 1);
  if (!(static_cast<double>(clamped) > 0.01 * total)) return;
  std::ostringstream w;
  w << clamped << " of " << static_cast<std::size_t>(total) << " training interactions ("
    << 100.0 * static_cast<double>(clamped) / total << "%) lie outside --range " << format_double(a) << ","
    << format_double(b)
    << " and were clamped to its ends, where phi_hat is constant; leave --range unset to cover the data";
  out.push_back(w.str());
}

}  // namespace

std::vector<std::string> known_A_fit_warnings(const PairwiseLseFit& fit, std::size_t M, int N) {
  std::vector<std::string> out;
  if (fit.solution.fallback) {
    std::ostringstream w;
    w << "the normal matrix is singular or ill-conditioned (rcond " << fit.solution.rcond
      << "); the minimum-norm solution was used: fewer pieces (--knots), a ridge penalty (--ridge) or more data "
         "give a unique fit";
    out.push_back(w.str());
  }
  add_clamped_warning(fit.normal_equations.clamped, M, N, fit.basis.a(), fit.basis.b(), out);
  return out;
}

std::vector<std::string> adaptive_fit_warnings(const AdaptiveSplineFit& fit, const nlohmann::json& b_hat,
                                               std::size_t M, int N, bool known_A) {
  std::vector<std::string> out;
  const SplineCandidate& c = fit.candidates[fit.selected];
  const std::string avoid = known_A ? "; a lower --max-knots, a ridge penalty (--ridge) or more data avoid it"
                                    : "; a lower --max-knots or more data avoid it";
  if (fit.rule == SelectionRule::mixture) {
    if (fit.estimate.flagged)
      out.push_back("a space with at least 1% of the mixture's weight had a singular or ill-conditioned normal "
                    "matrix and used the minimum-norm solution (see the candidates' weight and solver)" + avoid);
  } else if (c.flagged)
    out.push_back(std::string(c.solver.rfind("min-norm", 0) == 0
                                  ? "the selected space's normal matrix is singular or ill-conditioned; the "
                                    "minimum-norm solution was used"
                                  : "in the selected space a cross-validation fold's normal matrix was singular or "
                                    "ill-conditioned and that fold used the minimum-norm solution (the full-data "
                                    "solve did not)") +
                  avoid);
  // A space at the top of the grid whose solve is singular already has more pieces than the data
  // determine: widening the grid would not help, so only the warning above is given.
  const SelectedSpace s = selected_space(fit);
  if (s.largest_pieces && !c.flagged)
    out.push_back("the selected K = " + std::to_string(s.pieces) +
                  " is the largest of the candidate grid (K = 1, 2, 4, ... up to --max-knots, by default "
                  "M / (ln M)^2): the data may support a finer space; raise --max-knots to " +
                  std::to_string(2 * s.pieces) + " or more");
  if (b_hat.contains("grid_limited") && b_hat.value("value", nlohmann::json()).is_number())
    out.push_back("b_hat: " + b_hat.at("grid_limited").get<std::string>());
  if (known_A) add_clamped_warning(fit.clamped, M, N, fit.a, fit.b, out);
  return out;
}

std::vector<std::string> joint_fit_warnings(const PairwiseErmFit& fit) {
  std::vector<std::string> warnings;
  const LseSolution& step = fit.diagnostics.phi_step;
  if (step.fallback) {
    std::ostringstream w;
    w << "the final phi-step's normal matrix is singular or ill-conditioned (rcond " << step.rcond
      << ", solver " << step.solver << "): phi_hat is the minimum-norm solution and the fit may be an "
      << "interpolation of the data; fewer pieces (--knots) or more data give a unique fit";
    warnings.push_back(w.str());
  }
  // The fit runs on Y / RMS(Y), so outputs near the top of the double range are fitted as any
  // others; only their risk, in the units of Y^2, overflows.
  if (!std::isfinite(fit.train_risk))
    warnings.push_back("the training risk overflows in the units of Y^2 (outputs of order 1e154 and beyond): it is "
                       "reported as inf; the fit itself is computed on Y scaled to unit RMS (scale Y down for a "
                       "finite risk)");
  return warnings;
}

nlohmann::json known_A_b_hat(const AdaptiveSplineFit& fit, double a, double b, const arma::mat& A, int N, int d,
                             std::size_t M, const SampleBlockSource& source, const AdaptiveSplineOptions& opt) {
  AdaptiveSplineOptions selection_only = opt;  // b_hat reads the selected K of each subsample
  selection_only.form_estimate = false;
  return b_hat_by_subsampling(M, static_cast<std::size_t>(opt.folds), [&](std::size_t Mk) {
    return Mk == M ? selected_space(fit) : selected_space(fit_adaptive_spline(a, b, A, N, d, Mk, source, selection_only));
  });
}

nlohmann::json joint_b_hat(const AdaptiveErmFit& fit, const arma::mat& X, const arma::vec& Y, int N,
                           const AdaptiveErmOptions& opt) {
  const auto M = static_cast<std::size_t>(X.n_cols) / static_cast<std::size_t>(N);
  const std::size_t pairs_per_sample = static_cast<std::size_t>(N) * static_cast<std::size_t>(N - 1);
  const std::size_t min_M = std::max(static_cast<std::size_t>(opt.select.folds), 2 * opt.trim / pairs_per_sample + 1);
  return b_hat_by_subsampling(M, min_M, [&](std::size_t Mk) {
    if (Mk == M) return selected_space(fit.selection);
    const std::size_t cols = Mk * static_cast<std::size_t>(N);
    return selected_space(fit_adaptive_erm(X.head_cols(cols), Y.head(cols), N, opt).selection);
  });
}

}  // namespace attnrate
