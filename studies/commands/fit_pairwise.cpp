#include "studies/commands/fit_pairwise.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/stats/rate_fit.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

std::vector<KeySpec> fit_pairwise_keys() {
  std::vector<KeySpec> k = {
      {"data", "", "data CSV (sample,token,x1..xd,y)", "PATH"},
      {"A", "", "A file (d rows of d numbers, e.g. data.A.csv from simulate): fit with A known", "PATH"},
      {"rank", "", "rank r (1 <= r <= d): learn A and phi jointly (instead of --A)", "INT"},
      {"restarts", "4", "seeded restarts of the joint fit (--rank) (1..1000)"},
      {"seed", "1", "seed of the joint fit's restarts (--rank)"},
      {"start", "moment", "start of the joint fit's first restart (--rank): moment (moment estimate of A) or random"},
      {"refit-trim", "0",
       "joint fit (--rank): training interactions cut at each end of the knot interval for the final phi-step "
       "(0 = none; 2 trim < M N (N-1))"},
      {"coarse-pieces", "4",
       "joint fit (--rank): continuation in K, restarts with this many pieces, then doubled up to K, "
       "warm-started (0 = off; at most 1000000)"},
      {"degree", "auto", "spline degree 0..10 (auto: floor(beta) up to 10 with --beta, else 3)", "INT|auto"},
      {"knots", "auto", "number of pieces K (1..2147483637, within --max-memory)", "INT|auto"},
      {"beta", "auto", "smoothness b > 0: K = round(M^(1/(2b+1))) when --knots is not given", "FLOAT|auto"},
      {"range", "auto", "spline interval a,b (auto: the range of u = X_i^T A X_j in the data)", "A,B|auto"},
      {"ridge", "0", "ridge lambda (>= 0)", "FLOAT"},
      {"schedule", "fixed",
       "A known (--A): fixed (K from --knots or --beta) | adaptive (degree and K selected from the data, b unused)"},
  };
  for (auto& e : adaptive_selection_keys()) k.push_back(e);
  return with_resource_keys(std::move(k), true);
}

int max_pieces() { return std::numeric_limits<int>::max() - BSplineBasis::max_degree; }

namespace {

void write_matrix_json(nlohmann::json& j, const arma::mat& A) {
  j = nlohmann::json::array();
  for (arma::uword i = 0; i < A.n_rows; ++i) {
    std::vector<double> row(A.n_cols);
    for (arma::uword k = 0; k < A.n_cols; ++k) row[k] = A(i, k);
    j.push_back(row);
  }
}

// Degree and pieces shared by both fits: --degree, then --knots or --beta (K from the plain
// schedule with c_K = 1). floor(beta) is taken in double: beta = 1e10 means degree 10.
std::pair<int, int> degree_and_pieces(const Settings& s, std::size_t M, int min_degree) {
  double beta = 0.0;
  const bool has_beta = s.raw("beta") != "auto";
  if (has_beta) beta = s.get_double("beta", 0.0, std::numeric_limits<double>::infinity(), false);
  const int degree = s.raw("degree") != "auto" ? s.get_count("degree", min_degree, BSplineBasis::max_degree)
                     : has_beta ? static_cast<int>(std::clamp<double>(std::floor(beta), min_degree, BSplineBasis::max_degree))
                                : 3;
  if (s.raw("knots") != "auto") return {degree, s.get_count("knots", 1, max_pieces())};
  if (!has_beta) throw InputError("give --knots K (pieces) or --beta b (K = round(M^(1/(2b+1))))");
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

// The least-squares fits hold the data, p x p normal equations per chunk of samples (at most 64,
// about 64 MiB in all, at least 2) plus a few for the solve, and a block of 256 samples' features
// per thread.
MemoryEstimate fit_memory(const PairwiseData& data, int degree, int K, int threads, double data_copies,
                          double extra_per_token, double trim) {
  const double p = static_cast<double>(K) + degree, MN = static_cast<double>(data.M) * data.N;
  const double chunks = std::clamp(std::floor(64.0 * (1 << 20) / (8.0 * p * p)), 2.0, 64.0);
  const int T = threads > 0 ? threads : omp_get_max_threads();
  MemoryEstimate need;
  need.add("data of M x N = " + std::to_string(data.M) + " x " + std::to_string(data.N) + " tokens in d = " +
               std::to_string(data.d),
           8.0 * MN * (data_copies * data.d + 1 + extra_per_token));
  need.add("normal equations of " + std::to_string(K) + " pieces of degree " + std::to_string(degree) +
               " (basis size " + format_double(p) + ")",
           8.0 * p * p * (chunks + 5));
  need.add("feature blocks of " + std::to_string(T) + " threads", 8.0 * T * 256 * data.N * (p + data.d + 1));
  if (trim > 0) need.add("refit trim", 16.0 * trim);
  return need;
}

void write_phi_csv(const std::filesystem::path& path, double a, double b, const std::function<double(double)>& phi) {
  std::string text = "u,phi_hat\n";
  for (int k = 0; k <= 1000; ++k) {
    const double u = k == 1000 ? b : a + (b - a) * k / 1000.0;
    text += format_double(u) + "," + format_double(phi(u)) + "\n";
  }
  write_file_atomic(path, text);
}

// Where a fit writes and what it may use, validated before the data are read.
struct FitPlan {
  std::filesystem::path out, phi_path;
  int threads = 0;
  MemoryBudget budget;
  ReadLimits limits;
};

constexpr const char* kReduceFit = "lower --knots (or raise --beta), or fit less data";

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

CommandReport fit_joint(const Settings& s, const PairwiseData& data, const FitPlan& plan) {
  const int threads = plan.threads;
  if (s.raw("schedule") != "fixed")
    throw InputError(s.source("schedule") + " " + s.raw("schedule") +
                     " is available with --A (A known) only; the joint fit (--rank) takes --knots or --beta");
  refuse_adaptive_selection(s, "(with --A)");
  ErmOptions opt;
  opt.rank = s.get_count("rank", 1, data.d);
  std::tie(opt.degree, opt.pieces) = degree_and_pieces(s, data.M, 1);
  opt.restarts = s.get_count("restarts", 1, 1000);
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  const std::string start = s.raw("start");
  if (start == "moment") opt.start = ErmStart::moment;
  else if (start == "random") opt.start = ErmStart::random;
  else throw InputError(s.source("start") + " must be moment or random, got '" + start + "'");
  opt.refit_trim = s.get_size("refit-trim", 0, kMaxSamples);
  opt.coarse_pieces = s.get_count("coarse-pieces", 0, 1000000);
  if (s.raw("range") != "auto")
    throw InputError("--range is not used with --rank: the knot interval follows the range of u = x^T A y");
  if (s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity()) != 0.0)
    throw InputError("--ridge is not available with --rank (the joint fit is plain least squares)");
  fit_memory(data, opt.degree, opt.pieces, threads, 2.0, 2.0 * opt.rank, static_cast<double>(opt.refit_trim))
      .check(plan.budget, "fit pairwise", kReduceFit);
  const PairwiseErmFit fit = fit_pairwise_erm(data.X, data.Y, data.N, opt);
  nlohmann::json j;
  j["kind"] = "pairwise";  // what attnrate predict and score read
  j["degree"] = opt.degree;
  j["pieces"] = opt.pieces;
  j["knots"] = fit.basis.knots();
  j["coefficients"] = std::vector<double>(fit.coef.begin(), fit.coef.end());
  j["range"] = {fit.basis.a(), fit.basis.b()};
  write_matrix_json(j["A"], fit.A);
  j["rank"] = opt.rank;
  j["train_mse"] = fit.train_risk;
  j["train_risk_note"] = "composed training risk 1/(MN) sum (Y - 1/(N-1) sum_j phi_hat(X_i^T A X_j))^2";
  j["solver"] = "variable projection + L-BFGS; phi-step " + fit.diagnostics.phi_step.solver;
  j["diagnostics"] = {{"iterations", fit.diagnostics.iterations},
                      {"restarts", fit.diagnostics.restarts},
                      {"best_restart", fit.diagnostics.best_restart},
                      {"stop_reason", fit.diagnostics.stop_reason},
                      {"rejected_steps", fit.diagnostics.rejected_steps},
                      {"relative_gradient", fit.diagnostics.relative_gradient},
                      {"start", opt.start == ErmStart::moment ? "moment" : "random"},
                      {"refit_trim", opt.refit_trim},
                      {"train_risk_untrimmed", fit.diagnostics.train_risk_untrimmed},
                      {"phi_step_rcond", fit.diagnostics.phi_step.rcond},
                      {"degenerate_range", fit.diagnostics.degenerate_range}};
  for (const ErmStageReport& st : fit.diagnostics.stages)
    j["diagnostics"]["stages"].push_back(
        {{"pieces", st.pieces}, {"iterations", st.iterations}, {"risk", st.risk}, {"stop_reason", st.stop_reason}});
  j["identifiability"] = "only g(x, y) = phi(x^T A y) is identified: (phi(c u), A / c) gives the same g";
  j["M"] = data.M;
  j["N"] = data.N;
  j["d"] = data.d;
  j["build"] = build_info();
  write_file_atomic(plan.out, j.dump(2) + "\n");
  write_phi_csv(plan.phi_path, fit.basis.a(), fit.basis.b(), [&fit](double u) { return fit.phi_hat(u); });
  std::ostringstream m;
  m << "joint fit: rank " << opt.rank << ", K = " << opt.pieces << ", degree = " << opt.degree
    << ", train risk = " << fit.train_risk << ", stop: " << fit.diagnostics.stop_reason << "\nwrote " << plan.out.string()
    << " and " << plan.phi_path.string() << "\n";
  return {m.str(), {}};
}

nlohmann::json candidate_json(const SplineCandidate& c) {
  return {{"degree", c.degree},       {"pieces", c.pieces},     {"p", c.p},
          {"train_risk", c.train_risk}, {"cv_risk", c.cv_risk}, {"penalised", c.penalised},
          {"criterion", c.criterion}, {"flagged", c.flagged},   {"solver", c.solver}};
}

// A known, the space selected from the data; b_hat from the selected K on the first M / 2^j
// samples (j = 0..3, each at least --folds samples): K_hat ~ M^(1/(2b+1)), so with s the OLS
// slope of log K_hat on log M, b_hat = (1/s - 1)/2 (reported when s > 0).
CommandReport fit_adaptive(const PairwiseData& data, const arma::mat& A, double a, double b,
                           const AdaptiveSplineOptions& opt, const FitPlan& plan) {
  const SampleBlockSource source = in_memory_source(data.X, data.Y, data.N);
  const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, A, data.N, data.d, data.M, source, opt);
  const SplineCandidate& sel = fit.candidates[fit.selected];
  nlohmann::json j;
  j["kind"] = "pairwise";
  j["schedule"] = "adaptive";
  j["select"] = to_string(opt.rule);
  j["folds"] = opt.folds;
  j["degree"] = sel.degree;
  j["pieces"] = sel.pieces;
  j["knots"] = fit.basis(fit.selected).knots();
  j["coefficients"] = std::vector<double>(sel.coef.begin(), sel.coef.end());
  j["range"] = {a, b};
  write_matrix_json(j["A"], A);
  j["train_mse"] = sel.train_risk;
  j["solver"] = sel.solver;
  j["flagged"] = sel.flagged;
  j["sigma2_hat"] = fit.sigma2_hat;
  j["clamped_interactions"] = fit.clamped;
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : fit.candidates) j["candidates"].push_back(candidate_json(c));
  // b_hat by subsampling M.
  std::vector<double> lm, lk;
  nlohmann::json sub = nlohmann::json::array();
  for (int k = 0; k < 4; ++k) {
    const std::size_t Mk = data.M >> k;
    if (Mk < static_cast<std::size_t>(opt.folds) || Mk < 2) break;
    const AdaptiveSplineFit fk = k == 0 ? fit : fit_adaptive_spline(a, b, A, data.N, data.d, Mk, source, opt);
    const SplineCandidate& sk = fk.candidates[fk.selected];
    sub.push_back({{"M", Mk}, {"degree", sk.degree}, {"pieces", sk.pieces}});
    lm.push_back(std::log(static_cast<double>(Mk)));
    lk.push_back(std::log(static_cast<double>(sk.pieces)));
  }
  nlohmann::json bh = {{"subsamples", sub},
                       {"note", "from the selected K on the first M / 2^j samples, K_hat ~ M^(1/(2b+1)); K_hat moves "
                                "on a dyadic grid, so this is a rough check, not a measurement of b"}};
  double b_hat = std::numeric_limits<double>::quiet_NaN();
  if (lm.size() >= 3) {
    const double slope = fit_slope(lm, lk, 0.95, 1).slope;  // OLS; one cell per size, no bootstrap
    bh["slope_log_K_on_log_M"] = slope;
    // Clipped to [0, 100] as in minimax-rate's b-hat (a K growing faster than M means b near 0).
    if (slope > 0) b_hat = std::clamp(smoothness_from_pieces_slope(slope), 0.0, 100.0);
    else bh["why_no_value"] = "the selected K does not grow with M";
  } else {
    bh["why_no_value"] = "fewer than 3 subsample sizes with at least --folds samples";
  }
  bh["value"] = b_hat;
  j["b_hat"] = bh;
  j["M"] = data.M;
  j["N"] = data.N;
  j["d"] = data.d;
  j["build"] = build_info();
  write_file_atomic(plan.out, j.dump(2) + "\n");
  write_phi_csv(plan.phi_path, a, b, [&fit](double u) { return fit.value(fit.selected, u); });
  std::ostringstream m;
  m << "adaptive fit (" << to_string(opt.rule) << ", " << fit.candidates.size() << " candidates): K = " << sel.pieces
    << ", degree = " << sel.degree << ", train_mse = " << sel.train_risk;
  if (std::isfinite(b_hat)) m << ", b_hat = " << b_hat << " (rough: selected K over subsamples)";
  m << "\nwrote " << plan.out.string() << " and " << plan.phi_path.string() << "\n";
  CommandReport report{m.str(), {}};
  if (sel.flagged) report.warnings.push_back("the selected space's normal matrix is singular or ill-conditioned; the minimum-norm solution was used");
  return report;
}

CommandReport fit_known_A(const Settings& s, const PairwiseData& data, const FitPlan& plan) {
  const int threads = plan.threads;
  for (const char* key : {"restarts", "seed", "start", "refit-trim", "coarse-pieces"})
    if (s.given(key)) throw InputError(s.source(key) + " is an option of the joint fit; it needs --rank r, not --A");
  const arma::mat A = read_matrix_csv(s.raw("A"), data.d, plan.limits);
  AdaptiveSplineOptions adapt;
  const bool adaptive = read_adaptive(s, adapt);
  if (adaptive && data.M < static_cast<std::size_t>(adapt.folds))
    throw InputError("--schedule adaptive: the data hold M = " + std::to_string(data.M) + " samples, fewer than --folds " +
                     std::to_string(adapt.folds));
  // Adaptive: the memory of the largest candidate (degree max-degree, the top of the K grid), per fold.
  const int top_K = adaptive ? adaptive_pieces_grid(1, adapt.max_pieces > 0 ? adapt.max_pieces
                                                                             : adaptive_max_pieces(data.M))
                                   .back()
                             : 0;
  const auto [degree, K] = adaptive ? std::pair<int, int>{adapt.max_degree, top_K} : degree_and_pieces(s, data.M, 0);
  const double ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  double a = 0, b = 0;
  const bool auto_range = !s.get_range("range", a, b);
  fit_memory(data, degree, K, threads, auto_range ? 2.0 : 1.0, 0.0, 0.0).check(plan.budget, "fit pairwise", kReduceFit);
  if (auto_range) {
    a = std::numeric_limits<double>::infinity();
    b = -a;
    const arma::mat AX = A * data.X;
    for (std::size_t m = 0; m < data.M; ++m)
      for (int i = 0; i < data.N; ++i)
        for (int j = 0; j < data.N; ++j) {
          if (i == j) continue;
          const double u = arma::dot(data.X.col(m * data.N + i), AX.col(m * data.N + j));
          a = std::min(a, u);
          b = std::max(b, u);
        }
    if (!(a < b)) throw InputError("all interactions u = X_i^T A X_j in the data are equal; give --range a,b");
  }
  if (adaptive) {
    adapt.lse.ridge = ridge;
    adapt.lse.threads = threads;
    return fit_adaptive(data, A, a, b, adapt, plan);
  }
  const BSplineBasis basis(a, b, K, degree);
  LseOptions opt;
  opt.ridge = ridge;
  opt.threads = threads;
  const PairwiseLseFit fit =
      fit_pairwise_lse(basis, A, data.N, data.d, data.M, in_memory_source(data.X, data.Y, data.N), opt);
  nlohmann::json j;
  j["kind"] = "pairwise";
  j["degree"] = degree;
  j["pieces"] = K;
  j["knots"] = basis.knots();
  j["coefficients"] = std::vector<double>(fit.solution.coef.begin(), fit.solution.coef.end());
  j["range"] = {a, b};
  write_matrix_json(j["A"], A);
  j["train_mse"] = fit.solution.train_mse;
  j["solver"] = fit.solution.solver;
  j["rcond"] = fit.solution.rcond;
  j["ridge"] = ridge;
  j["rank_of_normal_matrix"] = fit.solution.rank;
  j["clamped_interactions"] = fit.normal_equations.clamped;
  j["M"] = data.M;
  j["N"] = data.N;
  j["d"] = data.d;
  j["build"] = build_info();
  write_file_atomic(plan.out, j.dump(2) + "\n");
  write_phi_csv(plan.phi_path, a, b, [&fit](double u) { return fit.phi_hat(u); });
  std::ostringstream m;
  m << "fit: K = " << K << ", degree = " << degree << ", solver = " << fit.solution.solver
    << ", train_mse = " << fit.solution.train_mse << "\nwrote " << plan.out.string() << " and " << plan.phi_path.string()
    << "\n";
  CommandReport report{m.str(), {}};
  if (fit.solution.fallback) {
    std::ostringstream w;
    w << "the normal matrix is singular or ill-conditioned (rcond " << fit.solution.rcond
      << "); the minimum-norm solution was used";
    report.warnings.push_back(w.str());
  }
  return report;
}

}  // namespace

CommandReport fit_pairwise(const Settings& s, const std::filesystem::path& out, int threads) {
  if (s.raw("data").empty()) throw InputError("--data is required (the data CSV to fit)");
  const bool joint = !s.raw("rank").empty();
  if (joint && !s.raw("A").empty()) throw InputError("give either --A FILE (A known) or --rank r (A unknown), not both");
  if (!joint && s.raw("A").empty()) throw InputError("give --A FILE (A known; simulate pairwise writes NAME.A.csv) or --rank r (learn A and phi jointly)");
  const FitPlan plan{out, sidecar_path(out, ".phi.csv"), threads, memory_budget(s), read_limits(s)};
  std::vector<NamedPath> inputs{{"--data", s.raw("data")}};
  if (!joint) inputs.push_back({"--A", s.raw("A")});
  check_outputs({{"--out", plan.out}, {"--out (phi beside it)", plan.phi_path}}, inputs);
  const PairwiseData data = read_pairwise_csv(s.raw("data"), plan.limits);
  return joint ? fit_joint(s, data, plan) : fit_known_A(s, data, plan);
}

}  // namespace attnrate
