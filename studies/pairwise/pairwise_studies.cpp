#include "studies/pairwise/pairwise_studies.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/random.hpp"
#include "plots/convergence_plot.hpp"
#include "plots/slope_plot.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/io/output.hpp"
#include "studies/stats/rate_fit.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

// ---------------------------------------------------------------- helpers

std::pair<double, double> mean_and_se(const std::vector<double>& v) {
  if (v.size() < 2) throw InputError("mean_and_se needs at least two values");
  double sum = 0.0;
  for (double x : v) sum += x;  // fixed order
  const double T = static_cast<double>(v.size()), mean = sum / T;
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / (T - 1.0) / T)};
}

double generalized_min_eigenvalue(const arma::mat& G, const arma::mat& Gamma) {
  if (G.n_rows != G.n_cols || Gamma.n_rows != Gamma.n_cols || G.n_rows != Gamma.n_rows || G.is_empty())
    throw InputError("generalized_min_eigenvalue: G and Gamma must be square of the same size");
  arma::mat L;
  if (!arma::chol(L, arma::symmatu(Gamma), "lower"))
    throw InputError("generalized_min_eigenvalue: the Gram matrix Gamma is not positive definite "
                     "(a basis function without mass under rho: narrow the range or use fewer pieces)");
  const arma::mat Li = arma::inv(arma::trimatl(L));
  const arma::mat S = Li * arma::symmatu(G) * Li.t();
  const arma::vec ev = arma::eig_sym(arma::symmatu(S));
  return ev.min();
}

arma::mat basis_gram(const BSplineBasis& basis, const arma::vec& u) {
  const int p = basis.size(), s = basis.degree();
  arma::mat Gamma(p, p, arma::fill::zeros);
  std::vector<double> val(s + 1);
  for (double x : u) {
    const BasisSpan sp = basis.evaluate(x, val.data());
    for (int q = 0; q <= s; ++q)
      for (int k = 0; k <= s; ++k) Gamma(sp.first + q, sp.first + k) += val[q] * val[k];
  }
  return Gamma / static_cast<double>(u.n_elem);
}

double rank_knee(double M, double b) {
  if (!(M > std::exp(1.0)) || !(b > 0)) throw InputError("rank_knee needs M > e and b > 0");
  return std::pow(M / std::log(M), 1.0 / (2.0 * b + 1.0));
}

// ---------------------------------------------------------------- shared machinery

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<int> int_list(const Settings& s, const std::string& key, int lo, int hi) {
  std::vector<int> out;
  for (const auto& t : split_list(s.raw(key))) {
    std::size_t pos = 0;
    long v = 0;
    try {
      v = std::stol(t, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != t.size() || v < lo || v > hi)
      throw InputError(s.source(key) + ": '" + t + "' is not an integer in [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "] (expected a comma list, e.g. 1,5,30)");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw InputError(s.source(key) + " must list at least one value");
  return out;
}

std::vector<std::string> activation_list(const Settings& s, const std::string& key, bool joint) {
  std::vector<std::string> out;
  const auto parse = [&](const std::string& t) {
    try {
      return Activation::parse(t);
    } catch (const InputError& e) {
      throw InputError(s.source(key) + ": " + e.what());
    }
  };
  for (const auto& t : split_list(s.raw(key))) {
    const Activation phi = parse(t);
    check_rate_activation(s, key, phi, joint);
    out.push_back(phi.name());
  }
  if (out.empty()) throw InputError(s.source(key) + " must list at least one activation");
  return out;
}

std::string fmt(double v, int prec = 3) {
  std::ostringstream o;
  o.precision(prec);
  o << v;
  return o.str();
}

// Tag of an activation in claim ids: bspline:3 -> bspline.P3, weierstrass:1.5 -> weierstrass.b1.5.
std::string act_tag(const std::string& name) {
  const auto colon = name.find(':');
  if (colon == std::string::npos) return name;
  const std::string fam = name.substr(0, colon);
  return fam + "." + (fam == "bspline" ? "P" : "b") + name.substr(colon + 1);
}

// The estimator and sweep settings common to the A-unknown studies.
struct EstimatorConfig {
  double cK = 4.0;
  int refit_trim = 50;
  int restarts = 8;
  int coarse_pieces = 4;
  double rel_tol = 1e-8;
  int max_iterations = 200;
  std::vector<std::size_t> M;
  int seeds = 4;
  std::uint64_t seed = 1;
  std::size_t test_pairs = 100000;
  double tolerance = 0.05, max_ci_width = 0.3;
  int bootstrap = 2000;
};

std::vector<KeySpec> estimator_keys(const std::string& M_default, const std::string& seeds_default) {
  return {
      {"cK", "8", "schedule constant: K_M = max(1, round(c_K M^(1/(2b+1)))) (> 0)"},
      {"refit-trim", "50",
       "final phi-step on the training interactions under A_hat with this many cut at each end (their order "
       "statistics; 0 = keep the ERM's own [min u, max u]) (>= 0)"},
      {"restarts", "8",
       "ERM starts: the moment estimate of A, then seeded random starts; all run with --coarse-pieces pieces and the "
       "best is continued (>= 1)"},
      {"coarse-pieces", "4",
       "continuation in K: restarts with this many pieces, then doubled up to K_M, warm-started (0 = off) (>= 0)"},
      {"rel-tol", "1e-8", "ERM stop rule: relative risk decrease of an accepted step (>= 0)"},
      {"max-iterations", "200", "ERM step cap (>= 1)"},
      {"M", M_default, "sample sizes: list 500,1000 or log grid FIRST:LAST:xFACTOR (each >= 16)"},
      {"seeds", seeds_default, "repetitions per M (>= 1)"},
      {"seed", "1", "base seed of the study (model, data, test pairs, restarts)"},
      {"test-pairs", "100000", "fresh pairs for the composed L2(rho) error (>= 1000)"},
      {"tolerance", "0.05", "tolerance delta of the slope claims (>= 0)"},
      {"max-ci-width", "0.3", "maximum CI width before a verdict is inconclusive (> 0)"},
      {"bootstrap", "2000", "seed-bootstrap resamples (>= 100)"},
  };
}

EstimatorConfig read_estimator(const Settings& s) {
  EstimatorConfig c;
  c.cK = s.get_double("cK", 0.0, kInf, false);
  c.refit_trim = static_cast<int>(s.get_int("refit-trim", 0, 1000000000));
  c.restarts = static_cast<int>(s.get_int("restarts", 1, 1000));
  c.coarse_pieces = static_cast<int>(s.get_int("coarse-pieces", 0, 1000000));
  c.rel_tol = s.get_double("rel-tol", 0.0, kInf);
  c.max_iterations = static_cast<int>(s.get_int("max-iterations", 1, 1000000));
  c.M = s.get_sizes("M", 16);
  c.seeds = static_cast<int>(s.get_int("seeds", 1, 100000));
  c.seed = s.get_seed("seed");
  c.test_pairs = static_cast<std::size_t>(s.get_int("test-pairs", 1000, 1000000000));
  c.tolerance = s.get_double("tolerance", 0.0, kInf);
  c.max_ci_width = s.get_double("max-ci-width", 0.0, kInf, false);
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", 100, 1000000));
  return c;
}

// One model/estimator combination; its cells are (M, rep).
struct Series {
  std::string factor;  // "d", "N", "r", "b", "rd", ...
  std::string label;   // legend text
  double value = 0;    // the factor's value
  PairwiseModelSpec model;
  bool a_known = false;
  int degree = 0;
  double cK = 4.0;
  int fixed_K = 0;  // 0 = schedule
  std::vector<std::size_t> M;
};

std::string model_key(const Series& s) {
  std::ostringstream o;
  o << s.model.activation << "|" << s.model.tokens << "|N" << s.model.N << "|d" << s.model.d << "|r" << s.model.r
    << "|sigma" << s.model.sigma << "|" << (s.a_known ? "known" : "erm") << "|s" << s.degree << "|cK" << s.cK
    << "|K" << s.fixed_K;
  return o.str();
}

struct Cell {
  std::size_t M = 0;
  int rep = 0, K = 0;
  double error = 0, error_se = 0, error_erm = 0, error_erm_se = 0, train_mse = 0, a = 0, b = 0, seconds = 0;
  double rcond = 0;  // reciprocal condition estimate of the (final) phi-step's normal matrix
  int iterations = 0, evaluations = 0, rejected = 0;
  std::string stop, solver, status;
};

nlohmann::json to_json(const Cell& c) {
  return {{"M", c.M},          {"rep", c.rep},
          {"K", c.K},          {"error", c.error},
          {"error_se", c.error_se}, {"error_erm", c.error_erm},
          {"error_erm_se", c.error_erm_se}, {"train_mse", c.train_mse},
          {"a", c.a},          {"b", c.b},
          {"seconds", c.seconds}, {"iterations", c.iterations},
          {"evaluations", c.evaluations}, {"rejected", c.rejected},
          {"stop", c.stop},    {"solver", c.solver}, {"rcond", c.rcond},
          {"status", c.status}};
}

Cell cell_from_json(const nlohmann::json& j) {
  Cell c;
  read_checkpoint_field(j, "M", c.M);
  read_checkpoint_field(j, "rep", c.rep);
  read_checkpoint_field(j, "K", c.K);
  read_checkpoint_field(j, "error", c.error);
  read_checkpoint_field(j, "error_se", c.error_se);
  read_checkpoint_field(j, "error_erm", c.error_erm);
  read_checkpoint_field(j, "error_erm_se", c.error_erm_se);
  read_checkpoint_field(j, "train_mse", c.train_mse);
  read_checkpoint_field(j, "a", c.a);
  read_checkpoint_field(j, "b", c.b);
  read_checkpoint_field(j, "rcond", c.rcond);
  read_checkpoint_field(j, "seconds", c.seconds);
  read_checkpoint_field(j, "iterations", c.iterations);
  read_checkpoint_field(j, "evaluations", c.evaluations);
  read_checkpoint_field(j, "rejected", c.rejected);
  read_checkpoint_field(j, "stop", c.stop);
  read_checkpoint_field(j, "solver", c.solver);
  read_checkpoint_field(j, "status", c.status);
  return c;
}

int pieces_for(const Series& s, const Activation& phi, double cK, std::size_t M) {
  if (s.fixed_K > 0) return s.fixed_K;
  const double beta_eff = std::min(phi.claimed_smoothness(), s.degree + 1.0);
  return schedule_pieces(Schedule::plain, beta_eff, cK, M);
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

Cell run_cell(const Series& s, const PairwiseModel& model, const EstimatorConfig& c, std::pair<double, double> known_range,
              std::size_t M, int rep, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  Cell r;
  r.M = M;
  r.rep = rep;
  r.K = pieces_for(s, model.phi(), s.cK, M);
  const std::uint64_t skey = hash_name(model_key(s));
  const std::uint64_t data_seed = derive_seed(c.seed, {hash_name("data"), skey, M, static_cast<std::uint64_t>(rep)});
  const std::uint64_t test_seed = derive_seed(c.seed, {hash_name("test"), skey, M, static_cast<std::uint64_t>(rep)});
  const int N = model.N(), d = model.d();
  arma::mat X(d, M * N);
  arma::vec Y(M * N);
  model.draw_samples(data_seed, 0, M, X.memptr(), Y.memptr());
  const arma::mat pairs = model.draw_token_pairs(test_seed, c.test_pairs);
  LseOptions lopt;
  lopt.threads = threads;
  bool nonfinite = false;
  if (s.a_known) {
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
    ErmOptions o;
    o.rank = model.spec().r;
    o.pieces = r.K;
    o.degree = s.degree;
    o.restarts = c.restarts;
    o.coarse_pieces = c.coarse_pieces;
    o.rel_tol = c.rel_tol;
    o.max_iterations = c.max_iterations;
    o.seed = derive_seed(c.seed, {hash_name("erm"), skey, M, static_cast<std::uint64_t>(rep)});
    o.threads = threads;
    o.start = ErmStart::moment;
    // The trimmed refit of the phi-step, when the sample has enough interactions for it.
    const std::size_t n_int = M * static_cast<std::size_t>(N) * (N - 1);
    o.refit_trim = 2 * static_cast<std::size_t>(c.refit_trim) < n_int ? static_cast<std::size_t>(c.refit_trim) : 0;
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
    r.train_mse = fit.train_risk;
    r.solver = dg.phi_step.solver;
    r.rcond = dg.phi_step.rcond;
    r.a = fit.basis.a();
    r.b = fit.basis.b();
    r.status = dg.phi_step.fallback ? "rank-deficient" : "ok";
  }
  nonfinite = !std::isfinite(r.error) || !(r.error > 0) || !std::isfinite(r.error_erm);
  if (nonfinite) r.status = "non-finite";
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

struct SeriesResult {
  Series series;
  std::vector<Cell> cells;
  std::pair<double, double> known_range{0, 0};
};

nlohmann::json params_json(const Settings& settings) {
  nlohmann::json p;
  for (const auto& [k, v] : settings.all()) p[k] = v;
  return p;
}

// Runs all series (cells shared between series with the same model key), with checkpoints.
std::vector<SeriesResult> run_series(const std::string& study, const std::vector<Series>& series,
                                     const EstimatorConfig& c, const nlohmann::json& params, const StudyContext& ctx) {
  const int threads = ctx.threads > 0 ? ctx.threads : omp_get_max_threads();
  std::filesystem::create_directories(ctx.out / "cells");
  const std::string rev = build_info().at("git_revision").get<std::string>();
  std::size_t total = 0;
  std::map<std::string, bool> seen;
  for (const auto& s : series)
    if (!seen[model_key(s)]) {
      seen[model_key(s)] = true;
      total += s.M.size() * c.seeds;
    }
  // Cells of the distinct series in loop order; under MPI this rank computes (or reuses) only
  // its own, then every rank receives all of them (studies/distributed.hpp).
  Progress progress = ctx.progress_of(study, total);
  std::vector<std::optional<nlohmann::json>> own(total);
  std::map<std::string, SeriesResult> done;  // cells filled in after the exchange
  std::map<std::string, std::pair<std::size_t, std::size_t>> cell_range;  // key -> first cell, count
  std::exception_ptr failure;
  const std::uint64_t model_seed = derive_seed(c.seed, {hash_name("model")});
  try {
    std::size_t cell = 0;
    for (const auto& s : series) {
      const std::string key = model_key(s);
      if (done.count(key)) continue;
      SeriesResult res;
      res.series = s;
      const PairwiseModel model(s.model, model_seed);
      if (s.a_known) res.known_range = interaction_range(model, derive_seed(c.seed, {hash_name("range")}), 1000000, 1e-4);
      const std::string fingerprint =
          std::to_string(mix64(hash_name(params.dump()) ^ hash_name(key) ^ hash_name(rev)));
      const std::string stem = std::to_string(hash_name(key));
      cell_range[key] = {cell, s.M.size() * static_cast<std::size_t>(c.seeds)};
      for (std::size_t M : s.M)
        for (int rep = 0; rep < c.seeds; ++rep, ++cell) {
          if (!ctx.share.owns(cell)) continue;
          const auto path =
              ctx.out / "cells" / ("s" + stem + "-M" + std::to_string(M) + "-rep" + std::to_string(rep) + ".json");
          if (ctx.resume && std::filesystem::exists(path)) {
            try {
              std::ifstream in(path);
              const nlohmann::json j = nlohmann::json::parse(in);
              if (j.at("fingerprint") == fingerprint) {
                own[cell] = to_json(cell_from_json(j.at("cell")));
              } else {
                std::cerr << "attnrate: " << path.string() << " was written with other parameters or code; recomputing\n";
              }
            } catch (const std::exception& e) {
              std::cerr << "attnrate: corrupt checkpoint " << path.string() << " (" << e.what() << "); recomputing\n";
            }
          }
          if (!own[cell]) {
            own[cell] = to_json(run_cell(s, model, c, res.known_range, M, rep, threads));
            write_file_atomic(path, nlohmann::json{{"fingerprint", fingerprint}, {"series", key}, {"cell", *own[cell]}}
                                        .dump(1));
          }
          progress.done_one();
          throw_if_interrupted();
        }
      done[key] = res;
    }
  } catch (...) {
    failure = std::current_exception();
  }
  progress.finish();
  const std::vector<nlohmann::json> cells = gather_cells(ctx.share, std::move(own), failure);
  std::vector<SeriesResult> out;
  for (const auto& s : series) {
    const std::string key = model_key(s);
    SeriesResult res = done.at(key);
    res.series = s;
    const auto [first, count] = cell_range.at(key);
    for (std::size_t k = 0; k < count; ++k) res.cells.push_back(cell_from_json(cells[first + k]));
    out.push_back(std::move(res));
  }
  return out;
}

void write_cells_csv(const std::vector<SeriesResult>& results, const EstimatorConfig& c, const std::filesystem::path& out) {
  CsvTable t;
  t.columns = {"factor", "value", "activation", "tokens", "N", "d", "r", "sigma", "A", "degree", "cK", "refit_trim",
               "M", "rep", "seed", "K", "a", "b", "error", "error_se", "error_erm", "error_erm_se", "train_mse",
               "iterations", "evaluations", "rejected_steps", "stop", "solver", "rcond", "status", "seconds"};
  for (const auto& sr : results) {
    const Series& s = sr.series;
    for (const auto& r : sr.cells)
      t.rows.push_back({s.factor, format_double(s.value), s.model.activation, s.model.tokens, std::to_string(s.model.N),
                        std::to_string(s.model.d), std::to_string(s.model.r), format_double(s.model.sigma),
                        s.a_known ? "known" : "unknown", std::to_string(s.degree), format_double(s.cK),
                        std::to_string(s.a_known ? 0 : c.refit_trim), std::to_string(r.M), std::to_string(r.rep),
                        std::to_string(c.seed), std::to_string(r.K), format_double(r.a), format_double(r.b),
                        format_double(r.error), format_double(r.error_se), format_double(r.error_erm),
                        format_double(r.error_erm_se), format_double(r.train_mse), std::to_string(r.iterations),
                        std::to_string(r.evaluations), std::to_string(r.rejected), r.stop, r.solver, format_double(r.rcond), r.status,
                        format_double(r.seconds)});
  }
  write_file_atomic(out / "cells.csv", t.str());
}

struct SlopeOutcome {
  bool fitted = false;
  SlopeFit fit;
  std::size_t excluded = 0;
  double theory = 0;
  Verdict verdict = Verdict::inconclusive;
  nlohmann::json claim;
};

// The theorem's rank condition r d <= (M / log M)^(1/(2b+1)) over the sweep of an A-unknown
// series. The rate M^(-2b/(2b+1)) is proved under it; beyond it the bound adds the parametric
// term r d log M / M, which falls like 1/M, so the error's local slope lies between -1 and
// -2b/(2b+1) depending on which term dominates. The knee grows with M: a slope fitted over the
// sweep follows the rate only if the condition holds at the smallest M (then at every M); a
// spread at the largest M needs it there.
struct RankRegime {
  int rd = 0;
  std::size_t M_min = 0, M_max = 0;
  double knee_min = 0, knee_max = 0;  // the knee at M_min and at M_max
  bool holds_everywhere() const { return rd <= knee_min; }
  bool holds_at_largest() const { return rd <= knee_max; }
};

RankRegime rank_regime(const Series& s, double b) {
  RankRegime g;
  g.rd = s.model.r * s.model.d;
  g.M_min = *std::min_element(s.M.begin(), s.M.end());
  g.M_max = *std::max_element(s.M.begin(), s.M.end());
  g.knee_min = rank_knee(static_cast<double>(g.M_min), b);
  g.knee_max = rank_knee(static_cast<double>(g.M_max), b);
  return g;
}

// Slope of log(error) on log M over the ok cells of one series, judged against -2b/(2b+1), or,
// for an A-unknown series outside the rank condition, against the range [-1, -2b/(2b+1)].
SlopeOutcome slope_claim(const SeriesResult& sr, const EstimatorConfig& c, const std::string& id,
                         std::string statement, bool use_erm_error = false) {
  SlopeOutcome o;
  const Activation phi = Activation::parse(sr.series.model.activation);
  o.theory = -minimax_exponent(phi.claimed_smoothness(), sr.series.degree);
  std::optional<RankRegime> regime;
  if (!sr.series.a_known) regime = rank_regime(sr.series, phi.claimed_smoothness());
  const bool outside = regime && !regime->holds_everywhere();
  if (outside)
    statement += " (outside the theorem's condition on the sweep: r d = " + std::to_string(regime->rd) +
                 " > (M/log M)^(1/(2b+1)) = " + fmt(regime->knee_min) + " at M = " + std::to_string(regime->M_min) +
                 ", where the bound adds r d log M / M: judged against the slope range [-1, " + fmt(o.theory) + "])";
  std::vector<double> x, y;
  for (const auto& r : sr.cells) {
    if (r.status != "ok") {
      ++o.excluded;
      continue;
    }
    x.push_back(std::log(static_cast<double>(r.M)));
    y.push_back(std::log(use_erm_error ? r.error_erm : r.error));
  }
  std::vector<double> xs = x;
  std::sort(xs.begin(), xs.end());
  if (x.size() < 3 || std::unique(xs.begin(), xs.end()) - xs.begin() < 2) return o;
  o.fitted = true;
  o.fit = fit_slope(x, y, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap"), hash_name(id)}));
  const auto [lo, hi] = judged_interval(o.fit);
  o.verdict = outside ? judge_range(-1.0, o.theory, lo, hi, c.tolerance, c.max_ci_width)
                      : judge(o.theory, lo, hi, c.tolerance, c.max_ci_width);
  o.claim = slope_claim_json(id, statement, o.theory, o.fit, c.tolerance, c.max_ci_width, o.verdict);
  if (regime)
    o.claim["rank_condition"] = {{"r_d", regime->rd},
                                 {"M_smallest", regime->M_min},
                                 {"knee_at_smallest_M", regime->knee_min},
                                 {"M_largest", regime->M_max},
                                 {"knee_at_largest_M", regime->knee_max},
                                 {"holds_at_every_M", regime->holds_everywhere()},
                                 {"holds_at_largest_M", regime->holds_at_largest()}};
  if (outside) {
    o.claim["theory_range"] = {-1.0, o.theory};
    o.claim["verdict_rule"] =
        "outside the rank condition the bound is M^(-2b/(2b+1)) + r d log M / M: consistent if the hull of the t and "
        "bootstrap 95% intervals, widened by the tolerance, meets the slope range [-1, -2b/(2b+1)]; inconclusive if "
        "the hull is wider than max_ci_width";
  }
  o.claim["abscissa"] = "log M";
  o.claim["cells_excluded"] = o.excluded;
  o.claim["smoothness_convention"] = phi.smoothness_convention();
  o.claim["source"] = "Zucker, Wang, Lu, Seroussi: minimax rate of learning pairwise interactions";
  return o;
}

ConvergenceSeries convergence_series(const SeriesResult& sr, const SlopeOutcome& o) {
  ConvergenceSeries cs;
  cs.label = sr.series.label;
  for (const auto& r : sr.cells)
    if (r.status == "ok") {
      cs.x.push_back(static_cast<double>(r.M));
      cs.y.push_back(r.error);
    }
  cs.fit_slope = o.fit.slope;
  cs.fit_intercept = o.fit.intercept;
  cs.theory_slope = o.theory;
  return cs;
}

// Median of the ok errors of a series at size M (NaN if none).
double median_at(const SeriesResult& sr, std::size_t M, const std::vector<int>* reps = nullptr) {
  std::vector<double> v;
  for (const auto& r : sr.cells)
    if (r.M == M && r.status == "ok") v.push_back(r.error);
  if (reps) {
    std::vector<double> w;
    for (int k : *reps)
      if (k < static_cast<int>(v.size())) w.push_back(v[k]);
    v = w;
  }
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  return quantile_type7(v, 0.5);
}

// Spread claim: max/min over series of the median error at the largest common M, with a seed
// bootstrap (reps resampled within each series). Consistent when the bootstrap lower bound is
// at most `factor` (the data do not show a spread beyond the factor), inconsistent otherwise.
nlohmann::json spread_claim(const std::vector<const SeriesResult*>& group, const std::string& id,
                            const std::string& statement, double factor, const EstimatorConfig& c) {
  std::size_t Mmax = 0;
  for (std::size_t M : group.front()->series.M) Mmax = std::max(Mmax, M);
  auto ratio_of = [&](const std::vector<std::vector<int>>* draws) {
    double lo = kInf, hi = 0;
    for (std::size_t g = 0; g < group.size(); ++g) {
      const double m = median_at(*group[g], Mmax, draws ? &(*draws)[g] : nullptr);
      lo = std::min(lo, m);
      hi = std::max(hi, m);
    }
    return hi / lo;
  };
  const double measured = ratio_of(nullptr);
  Rng rng(derive_seed(c.seed, {hash_name("spread"), hash_name(id)}));
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
  nlohmann::json j;
  j["id"] = id;
  j["statement"] = statement;
  j["quantity"] = "ratio";
  j["theory_value"] = factor;
  j["measured"] = measured;
  j["M"] = Mmax;
  double lo = measured, hi = measured;
  if (!boot.empty()) {
    lo = quantile_type7(boot, 0.025);
    hi = quantile_type7(boot, 0.975);
  }
  j["ci_boot"] = {lo, hi};
  j["ci_t"] = {lo, hi};
  j["tolerance"] = 0.0;
  j["max_ci_width"] = nullptr;
  j["verdict_rule"] = "ratio of the largest to the smallest median error at the largest M; consistent if the 95% "
                      "seed-bootstrap lower bound is <= the stated factor, inconsistent otherwise";
  j["verdict"] = std::isfinite(measured) && lo <= factor ? "consistent" : "inconsistent";
  j["source"] = "Zucker, Wang, Lu, Seroussi: the rate does not depend on d, N, r (dimension-free)";
  return j;
}

nlohmann::json smoothness_json(const std::string& activation) {
  const Activation phi = Activation::parse(activation);
  auto num = [](double v) { return std::isinf(v) ? nlohmann::json("infinity") : nlohmann::json(v); };
  return {{"activation", phi.name()},
          {"holder", num(phi.holder_smoothness())},
          {"claimed", num(phi.claimed_smoothness())},
          {"convention", phi.smoothness_convention()}};
}

std::string file_tag(const std::string& s) {
  std::string o;
  for (char ch : s) o += std::isalnum(static_cast<unsigned char>(ch)) ? ch : (ch == '.' ? 'p' : '-');
  return o;
}

}  // namespace

// ---------------------------------------------------------------- dimension-free

std::vector<KeySpec> dimension_free_keys() {
  std::vector<KeySpec> k = {
      {"activations", "bspline:3,weierstrass:2", "phi for each family of series (comma list)"},
      {"tokens", "uniform", "token law: uniform | gaussian | exchangeable[:rho]"},
      {"N", "8", "tokens per sample of the d and r series (>= 2)"},
      {"d", "5", "token dimension of the N and r series (>= 1)"},
      {"r", "1", "rank of A of the d and N series (clipped to d)"},
      {"sigma", "2", "noise standard deviation (>= 0)"},
      {"d-values", "1,5,30", "d of the d series (comma list)"},
      {"N-values", "4,8,16", "N of the N series at d (comma list; one value = no N series)"},
      {"r-values", "1,2,4", "r of the r series at d (comma list; one value = no r series)"},
      {"ratio-factor", "2", "stated factor for the spread of errors across d (N, r) at the largest M (>= 1)"},
  };
  for (auto& e : estimator_keys("500:8000:x2", "4")) k.push_back(e);
  return k;
}

nlohmann::json run_dimension_free(const Settings& settings, const StudyContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const EstimatorConfig c = read_estimator(settings);
  const auto acts = activation_list(settings, "activations", true);
  PairwiseModelSpec base;
  base.tokens = settings.get_string("tokens");
  base.N = static_cast<int>(settings.get_int("N", 2, 100000));
  base.d = static_cast<int>(settings.get_int("d", 1, 100000));
  base.r = static_cast<int>(settings.get_int("r", 1, 100000));
  base.sigma = settings.get_double("sigma", 0.0, kInf);
  const auto dv = int_list(settings, "d-values", 1, 100000);
  const auto Nv = int_list(settings, "N-values", 2, 100000);
  const auto rv = int_list(settings, "r-values", 1, 100000);
  const double factor = settings.get_double("ratio-factor", 1.0, kInf);
  if (base.r > base.d) throw InputError(settings.source("r") + " must be <= d = " + std::to_string(base.d));
  for (int r : rv)
    if (r > base.d)
      throw InputError(settings.source("r-values") + ": r = " + std::to_string(r) + " exceeds d = " +
                       std::to_string(base.d));
  if (c.M.size() < 2) throw InputError(settings.source("M") + " needs at least two distinct sample sizes");

  std::vector<Series> series;
  for (const auto& act : acts) {
    const int degree = Activation::parse(act).default_degree();
    auto add = [&](const std::string& factor_name, int value, PairwiseModelSpec m) {
      m.activation = act;
      validate(m);
      Series s;
      s.factor = factor_name;
      s.value = value;
      s.label = act + ", " + factor_name + " = " + std::to_string(value);
      s.model = m;
      s.degree = degree;
      s.cK = c.cK;
      s.M = c.M;
      series.push_back(s);
    };
    for (int d : dv) {
      PairwiseModelSpec m = base;
      m.d = d;
      m.r = std::min(base.r, d);
      add("d", d, m);
    }
    if (Nv.size() > 1)
      for (int N : Nv) {
        PairwiseModelSpec m = base;
        m.N = N;
        add("N", N, m);
      }
    if (rv.size() > 1)
      for (int r : rv) {
        PairwiseModelSpec m = base;
        m.r = r;
        add("r", r, m);
      }
  }
  const nlohmann::json params = params_json(settings);
  const auto results = run_series("dimension-free", series, c, params, ctx);
  if (ctx.share.root()) write_cells_csv(results, c, ctx.out);

  nlohmann::json summary;
  summary["study"] = "dimension-free";
  summary["parameters"] = params;
  summary["estimator"] =
      "A unknown: pairwise_erm (variable projection, L-BFGS) started from the moment estimate of A, then the "
      "phi-step redone on the training interactions under A_hat with refit-trim of them cut at each end";
  summary["smoothness"] = nlohmann::json::array();
  for (const auto& a : acts) summary["smoothness"].push_back(smoothness_json(a));
  summary["claims"] = nlohmann::json::array();
  summary["erm_only_slopes"] = nlohmann::json::array();
  std::size_t total = 0, excluded = 0;
  std::vector<std::string> figures;
  for (const auto& act : acts)
    for (const std::string factor_name : {"d", "N", "r"}) {
      std::vector<const SeriesResult*> group;
      for (const auto& sr : results)
        if (sr.series.model.activation == act && sr.series.factor == factor_name) group.push_back(&sr);
      if (group.empty()) continue;
      ConvergenceFigure fig;
      fig.title = "dimension-free: " + act + ", A unknown, by " + factor_name;
      std::ostringstream note;
      for (const SeriesResult* sr : group) {
        const std::string id = "dimfree." + act_tag(act) + "." + factor_name + std::to_string(static_cast<int>(sr->series.value)) + ".slope";
        const auto& m = sr->series.model;
        std::ostringstream st;
        st << "With A unknown, the composed L2(rho) error of the joint fit decays like M^(-2b/(2b+1)) for phi = " << act
           << " at d = " << m.d << ", N = " << m.N << ", r = " << m.r << ", " << m.tokens << " tokens";
        SlopeOutcome o = slope_claim(*sr, c, id, st.str());
        SlopeOutcome raw = slope_claim(*sr, c, id + ".erm-only", st.str() + " (ERM's own min/max knot interval)", true);
        if (factor_name == "d" || group.size() > 1) {
          total += sr->cells.size();
          excluded += o.excluded;
        }
        if (!o.fitted) continue;
        summary["claims"].push_back(o.claim);
        if (raw.fitted) summary["erm_only_slopes"].push_back({{"id", id}, {"slope", raw.fit.slope},
                                                              {"ci_t", {raw.fit.ci_t_lo, raw.fit.ci_t_hi}}});
        fig.series.push_back(convergence_series(*sr, o));
        note << factor_name << "=" << sr->series.value << ": " << fmt(o.fit.slope) << " " << to_string(o.verdict)
             << "; ";
      }
      if (group.size() > 1) {
        const std::string id = "dimfree." + act_tag(act) + "." + factor_name + ".ratio";
        std::ostringstream st;
        st << "At the largest M the errors for phi = " << act << " across " << factor_name << " in {";
        for (std::size_t g = 0; g < group.size(); ++g) st << (g ? ", " : "") << group[g]->series.value;
        st << "} lie within a factor " << factor << " of each other";
        // Which members are outside the theorem's condition at the largest M (see the slopes).
        nlohmann::json outside = nlohmann::json::array();
        for (const SeriesResult* sr : group)
          if (!rank_regime(sr->series, Activation::parse(act).claimed_smoothness()).holds_at_largest())
            outside.push_back(sr->series.value);
        if (!outside.empty())
          st << " (" << factor_name << " = " << outside.dump() << " outside the theorem's condition at that M)";
        nlohmann::json claim = spread_claim(group, id, st.str(), factor, c);
        claim["outside_rank_condition"] = outside;
        note << "spread " << fmt(claim.at("measured").get<double>()) << " (" << claim.at("verdict").get<std::string>()
             << ")";
        summary["claims"].push_back(claim);
      }
      if (fig.series.empty()) continue;
      fig.note = note.str() + " tolerance " + fmt(c.tolerance);
      const std::string stem = "convergence-" + file_tag(act) + "-" + factor_name;
      if (ctx.share.root()) write_convergence_figure(fig, ctx.out / stem);
      figures.push_back(stem + ".png");
    }
  summary["figures"] = figures;
  if (!figures.empty()) summary["figure"] = figures.front();
  for (auto& cl : summary["claims"])
    if (!figures.empty()) {
      const std::string id = cl.at("id");
      for (const auto& f : figures)
        for (const auto& act : acts)
          for (const std::string fn : {"d", "N", "r"})
            if (id.rfind("dimfree." + act_tag(act) + "." + fn, 0) == 0 &&
                f == "convergence-" + file_tag(act) + "-" + fn + ".png")
              cl["figure"] = f;
    }
  summary["cells_total"] = total;
  summary["cells_excluded"] = excluded;
  summary["wall_seconds"] = seconds_since(t0);
  summary["build"] = build_info();
  if (ctx.share.root()) write_file_atomic(ctx.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

// ---------------------------------------------------------------- smoothness

std::vector<KeySpec> smoothness_keys() {
  std::vector<KeySpec> k = {
      {"erm-activations", "bspline:3,bspline:8", "phi fitted with A unknown (the paper's P_true = P_est)"},
      {"known-activations", "weierstrass:0.5,weierstrass:1,weierstrass:1.5,weierstrass:2,weierstrass:3",
       "phi fitted with A known (least squares, as minimax-rate)"},
      {"tokens", "uniform", "token law"},
      {"N", "8", "tokens per sample (>= 2)"},
      {"d", "5", "token dimension (>= 1)"},
      {"r", "1", "rank of A (1 <= r <= d)"},
      {"sigma", "2", "noise level of the A-unknown series (>= 0; see README: variance-dominated regime)"},
      {"sigma-known", "2", "noise level of the A-known series (>= 0; see README: variance-dominated regime)"},
      {"M-known", "500:32000:x2", "sample sizes of the A-known series"},
      {"cK-known", "4", "schedule constant of the A-known series (README: tuned for sigma = 2; > 0)"},
  };
  for (auto& e : estimator_keys("500:8000:x2", "4")) k.push_back(e);
  return k;
}

nlohmann::json run_smoothness(const Settings& settings, const StudyContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const EstimatorConfig c = read_estimator(settings);
  const auto erm_acts = split_list(settings.raw("erm-activations")).empty() ? std::vector<std::string>{}
                                                                            : activation_list(settings, "erm-activations", true);
  const auto known_acts = split_list(settings.raw("known-activations")).empty()
                              ? std::vector<std::string>{}
                              : activation_list(settings, "known-activations", false);
  if (erm_acts.empty() && known_acts.empty())
    throw InputError("smoothness: --erm-activations and --known-activations are both empty");
  PairwiseModelSpec base;
  base.tokens = settings.get_string("tokens");
  base.N = static_cast<int>(settings.get_int("N", 2, 100000));
  base.d = static_cast<int>(settings.get_int("d", 1, 100000));
  base.r = static_cast<int>(settings.get_int("r", 1, base.d));
  const double sigma = settings.get_double("sigma", 0.0, kInf);
  const double sigma_known = settings.get_double("sigma-known", 0.0, kInf);
  const auto M_known = settings.get_sizes("M-known", 16);
  const double cK_known = settings.get_double("cK-known", 0.0, kInf, false);
  std::vector<Series> series;
  auto add = [&](const std::string& act, bool known) {
    Series s;
    s.factor = "b";
    s.model = base;
    s.model.activation = act;
    s.model.sigma = known ? sigma_known : sigma;
    validate(s.model);
    const Activation phi = Activation::parse(act);
    s.value = phi.claimed_smoothness();
    s.degree = phi.default_degree();
    s.a_known = known;
    s.cK = known ? cK_known : c.cK;
    s.M = known ? M_known : c.M;
    s.label = act + (known ? " (A known)" : " (A unknown)");
    series.push_back(s);
  };
  for (const auto& a : erm_acts) add(a, false);
  for (const auto& a : known_acts) add(a, true);
  const nlohmann::json params = params_json(settings);
  const auto results = run_series("smoothness", series, c, params, ctx);
  if (ctx.share.root()) write_cells_csv(results, c, ctx.out);

  nlohmann::json summary;
  summary["study"] = "smoothness";
  summary["parameters"] = params;
  summary["smoothness"] = nlohmann::json::array();
  summary["claims"] = nlohmann::json::array();
  SlopeFigure sfig;
  sfig.title = "smoothness: fitted slope vs b (bspline: paper's b = P-1, A unknown; weierstrass: Hoelder b, A known)";
  SlopeSeries erm_pts{"bspline:P, A unknown (b = P-1)", {}}, known_pts{"weierstrass:b, A known", {}};
  ConvergenceFigure cfig;
  cfig.title = "smoothness: composed error vs M";
  std::size_t total = 0, excluded = 0;
  for (const auto& sr : results) {
    const auto& s = sr.series;
    nlohmann::json sm = smoothness_json(s.model.activation);
    sm["A"] = s.a_known ? "known" : "unknown";
    sm["degree"] = s.degree;
    summary["smoothness"].push_back(sm);
    const std::string id = "smoothness." + act_tag(s.model.activation) + ".slope";
    std::ostringstream st;
    st << "With A " << (s.a_known ? "known" : "unknown") << ", degree-" << s.degree << " splines learn g for phi = "
       << s.model.activation << " at the rate M^(-2b/(2b+1)), b = " << s.value << " ("
       << Activation::parse(s.model.activation).smoothness_convention() << ")";
    SlopeOutcome o = slope_claim(sr, c, id, st.str());
    total += sr.cells.size();
    excluded += o.excluded;
    if (!o.fitted) continue;
    o.claim["A"] = s.a_known ? "known" : "unknown";
    summary["claims"].push_back(o.claim);
    const auto [lo, hi] = judged_interval(o.fit);
    (s.a_known ? known_pts : erm_pts).points.push_back({s.value, o.fit.slope, lo, hi});
    cfig.series.push_back(convergence_series(sr, o));
  }
  if (!erm_pts.points.empty()) sfig.series.push_back(erm_pts);
  if (!known_pts.points.empty()) sfig.series.push_back(known_pts);
  if (!sfig.series.empty()) {
    sfig.note = "bars: hull of t and bootstrap 95% intervals; tolerance " + fmt(c.tolerance);
    if (ctx.share.root()) {
      write_slope_figure(sfig, ctx.out / "slopes");
      write_convergence_figure(cfig, ctx.out / "convergence");
    }
    summary["figure"] = "slopes.png";
    summary["figures"] = {"slopes.png", "convergence.png"};
  }
  summary["cells_total"] = total;
  summary["cells_excluded"] = excluded;
  summary["wall_seconds"] = seconds_since(t0);
  summary["build"] = build_info();
  if (ctx.share.root()) write_file_atomic(ctx.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

// ---------------------------------------------------------------- coercivity

std::vector<KeySpec> coercivity_keys() {
  return {
      {"token-laws", "uniform,gaussian,exchangeable", "token laws compared (comma list)"},
      {"N", "8", "tokens per sample (>= 2)"},
      {"d", "5", "token dimension (>= 1)"},
      {"r", "2", "rank of A (1 <= r <= d)"},
      {"knots", "8", "pieces K of the spline space (>= 1)"},
      {"degree", "2", "spline degree (0..10)"},
      {"M", "250:16000:x4", "sample sizes (each >= 16)"},
      {"seeds", "8", "repetitions per M (>= 2)"},
      {"seed", "1", "base seed"},
      {"gram-pairs", "200000", "fresh pairs for the L2(rho) Gram matrix Gamma (>= 1000)"},
      {"min-coercivity", "0.01", "claim: the coercivity constant at the largest M exceeds this (> 0)"},
  };
}

nlohmann::json run_coercivity(const Settings& settings, const StudyContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> laws = split_list(settings.raw("token-laws"));
  if (laws.empty()) throw InputError(settings.source("token-laws") + " must list at least one token law");
  PairwiseModelSpec base;
  base.N = static_cast<int>(settings.get_int("N", 2, 100000));
  base.d = static_cast<int>(settings.get_int("d", 1, 100000));
  base.r = static_cast<int>(settings.get_int("r", 1, base.d));
  const int K = static_cast<int>(settings.get_int("knots", 1, 100000));
  const int degree = static_cast<int>(settings.get_int("degree", 0, 10));
  const auto Ms = settings.get_sizes("M", 16);
  const int seeds = static_cast<int>(settings.get_int("seeds", 2, 100000));
  const std::uint64_t seed = settings.get_seed("seed");
  const auto gram_pairs = static_cast<std::size_t>(settings.get_int("gram-pairs", 1000, 1000000000));
  const double cmin = settings.get_double("min-coercivity", 0.0, kInf, false);
  const int threads = ctx.threads > 0 ? ctx.threads : omp_get_max_threads();
  std::filesystem::create_directories(ctx.out);
  const nlohmann::json params = params_json(settings);

  nlohmann::json summary;
  summary["study"] = "coercivity";
  summary["parameters"] = params;
  summary["claims"] = nlohmann::json::array();
  summary["definition"] =
      "lambda_min of G v = lambda Gamma v: G the normal matrix (1/(MN)) sum psi psi^T of the A-known least squares, "
      "Gamma_kl = E_rho[B_k(u) B_l(u)] on fresh pairs; 1 = as well posed as direct regression on (u, phi(u))";
  CsvTable table;
  table.columns = {"tokens", "N", "d", "r", "K", "degree", "a", "b", "M", "rep", "lambda_min", "seconds"};
  ConvergenceFigure fig;
  fig.title = "coercivity: lambda_min(G, Gamma) vs M";
  fig.y_label = "lambda_min of G relative to the L2(rho) Gram matrix";
  // Cells in (law, M, rep) order; under MPI this rank computes only its own (a cell is one
  // normal-matrix accumulation, not checkpointed), then every rank receives all of them.
  struct Law {
    PairwiseModelSpec m;
    double a = 0, b = 0;
    std::string name;
  };
  std::vector<Law> law_info;
  std::vector<std::optional<nlohmann::json>> own(laws.size() * Ms.size() * seeds);
  std::exception_ptr failure;
  Progress progress = ctx.progress_of("coercivity", own.size());
  try {
    std::size_t cell = 0;
    for (const auto& law : laws) {
      PairwiseModelSpec m = base;
      m.tokens = law;
      m.activation = "tanh";  // G does not depend on phi
      validate(m);
      const PairwiseModel model(m, derive_seed(seed, {hash_name("model")}));
      const auto [a, b] = interaction_range(model, derive_seed(seed, {hash_name("range"), hash_name(law)}), 1000000, 1e-4);
      law_info.push_back({m, a, b, model.tokens().name()});
      const BSplineBasis basis(a, b, K, degree);
      std::optional<arma::mat> Gamma;  // only where this rank owns cells of the law
      for (std::size_t M : Ms)
        for (int rep = 0; rep < seeds; ++rep, ++cell) {
          if (!ctx.share.owns(cell)) continue;
          const auto c0 = std::chrono::steady_clock::now();
          if (!Gamma)
            Gamma = basis_gram(basis, model.draw_pair_interactions(
                                          derive_seed(seed, {hash_name("gram"), hash_name(law)}), gram_pairs));
          const std::uint64_t ds =
              derive_seed(seed, {hash_name("data"), hash_name(law), M, static_cast<std::uint64_t>(rep)});
          SampleBlockSource src = [&model, ds](std::size_t f, std::size_t n, double* X, double* Y) {
            model.draw_samples(ds, f, n, X, Y);
          };
          LseOptions lo;
          lo.threads = threads;
          const NormalEquations ne = accumulate_normal_equations(basis, model.A(), m.N, m.d, M, src, lo);
          const double l = generalized_min_eigenvalue(ne.G, *Gamma);
          own[cell] = nlohmann::json{{"lambda_min", l}, {"seconds", seconds_since(c0)}};
          progress.done_one();
          throw_if_interrupted();
        }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  progress.finish();
  const std::vector<nlohmann::json> cells = gather_cells(ctx.share, std::move(own), failure);
  std::size_t cell = 0;
  for (const Law& info : law_info) {
    const PairwiseModelSpec& m = info.m;
    const std::string& law = m.tokens;
    const double a = info.a, b = info.b;
    ConvergenceSeries cs;
    cs.label = info.name;
    cs.draw_theory = false;
    std::vector<double> last;
    for (std::size_t M : Ms) {
      std::vector<double> lam;
      for (int rep = 0; rep < seeds; ++rep, ++cell) {
        const double l = cells[cell].at("lambda_min");
        lam.push_back(l);
        cs.x.push_back(static_cast<double>(M));
        cs.y.push_back(std::max(l, 1e-300));
        table.rows.push_back({info.name, std::to_string(m.N), std::to_string(m.d), std::to_string(m.r),
                              std::to_string(K), std::to_string(degree), format_double(a), format_double(b),
                              std::to_string(M), std::to_string(rep), format_double(l),
                              format_double(cells[cell].at("seconds").get<double>())});
      }
      last = lam;
    }
    const auto [mean, se] = mean_and_se(last);
    std::vector<double> x, y;
    for (std::size_t i = 0; i < cs.x.size(); ++i) {
      x.push_back(std::log(cs.x[i]));
      y.push_back(std::log(cs.y[i]));
    }
    const SlopeFit f = fit_slope(x, y, 0.95, 200, 1);
    cs.fit_slope = f.slope;
    cs.fit_intercept = f.intercept;
    fig.series.push_back(cs);
    nlohmann::json j;
    j["id"] = "coercivity." + file_tag(law);
    j["statement"] = "The normal matrix of the A-known least squares is coercive in L2(rho) for " + info.name +
                     " tokens (N = " + std::to_string(m.N) + ", d = " + std::to_string(m.d) + ", K = " +
                     std::to_string(K) + ", degree " + std::to_string(degree) + "): lambda_min(G, Gamma) > " + fmt(cmin);
    j["quantity"] = "coercivity constant";
    j["theory_value"] = cmin;
    j["measured"] = mean;
    j["mc_se"] = se;
    j["M"] = Ms.back();
    j["ci_t"] = {mean - 1.96 * se, mean + 1.96 * se};
    j["ci_boot"] = j["ci_t"];
    j["tolerance"] = 0.0;
    j["max_ci_width"] = nullptr;
    j["slope_vs_M"] = f.slope;
    j["verdict_rule"] = "consistent if mean - 1.96 SE over seeds at the largest M exceeds min-coercivity";
    j["verdict"] = mean - 1.96 * se > cmin ? "consistent" : "inconsistent";
    j["source"] = "Zucker, Wang, Lu, Seroussi: coercivity condition (well-posed inverse problem)";
    j["figure"] = "coercivity.png";
    summary["claims"].push_back(j);
  }
  fig.note = "slope in the legend: drift of lambda_min with M (0 = converged)";
  if (ctx.share.root()) {
    write_file_atomic(ctx.out / "cells.csv", table.str());
    write_convergence_figure(fig, ctx.out / "coercivity");
  }
  summary["figure"] = "coercivity.png";
  summary["wall_seconds"] = seconds_since(t0);
  summary["build"] = build_info();
  if (ctx.share.root()) write_file_atomic(ctx.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

// ---------------------------------------------------------------- rank-condition

std::vector<KeySpec> rank_condition_keys() {
  std::vector<KeySpec> k = {
      {"activation", "bspline:3", "phi"},
      {"tokens", "uniform", "token law"},
      {"N", "8", "tokens per sample (>= 2)"},
      {"r", "1", "rank of A"},
      {"d-values", "1,2,4,8,16,32", "token dimensions (r d spans the knee)"},
      {"sigma", "0.5", "noise level (>= 0)"},
      {"ratio-factor", "2", "below the knee the error grows by at most this factor"},
  };
  for (auto& e : estimator_keys("4000", "4")) k.push_back(e);
  return k;
}

nlohmann::json run_rank_condition(const Settings& settings, const StudyContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  EstimatorConfig c = read_estimator(settings);
  if (c.M.size() != 1) throw InputError(settings.source("M") + " must be a single sample size for rank-condition");
  PairwiseModelSpec base;
  base.activation = settings.get_string("activation");
  base.tokens = settings.get_string("tokens");
  base.N = static_cast<int>(settings.get_int("N", 2, 100000));
  base.r = static_cast<int>(settings.get_int("r", 1, 100000));
  base.sigma = settings.get_double("sigma", 0.0, kInf);
  const auto dv = int_list(settings, "d-values", 1, 100000);
  const double factor = settings.get_double("ratio-factor", 1.0, kInf);
  const Activation phi = Activation::parse(base.activation);
  check_rate_activation(settings, "activation", phi, true);
  const double b = std::min(phi.claimed_smoothness(), phi.default_degree() + 1.0);
  const double M = static_cast<double>(c.M.front());
  const double knee = rank_knee(M, b);
  std::vector<Series> series;
  for (int d : dv) {
    Series s;
    s.factor = "rd";
    s.model = base;
    s.model.d = d;
    if (base.r > d) throw InputError(settings.source("d-values") + ": d = " + std::to_string(d) + " < r");
    validate(s.model);
    s.value = static_cast<double>(base.r) * d;
    s.degree = phi.default_degree();
    s.cK = c.cK;
    s.M = c.M;
    s.label = "d = " + std::to_string(d);
    series.push_back(s);
  }
  const nlohmann::json params = params_json(settings);
  const auto results = run_series("rank-condition", series, c, params, ctx);
  if (ctx.share.root()) write_cells_csv(results, c, ctx.out);
  std::vector<double> below, x_above, y_above, all_rd, all_med;
  std::vector<const SeriesResult*> below_group;
  for (const auto& sr : results) {
    const double med = median_at(sr, c.M.front());
    all_rd.push_back(sr.series.value);
    all_med.push_back(med);
    if (sr.series.value <= knee) below_group.push_back(&sr);
    else
      for (const auto& cl : sr.cells)
        if (cl.status == "ok") {
          x_above.push_back(std::log(sr.series.value));
          y_above.push_back(std::log(cl.error));
        }
  }
  nlohmann::json summary;
  summary["study"] = "rank-condition";
  summary["parameters"] = params;
  summary["knee"] = knee;
  summary["knee_formula"] = "(M / log M)^(1/(2b+1))";
  summary["smoothness"] = smoothness_json(base.activation);
  summary["claims"] = nlohmann::json::array();
  if (below_group.size() >= 2) {
    summary["claims"].push_back(spread_claim(below_group, "rank.below-knee.ratio",
                                             "Below the knee r d <= " + fmt(knee) + " the error grows by at most a factor " +
                                                 fmt(factor) + " with r d",
                                             factor, c));
  } else {
    summary["notes"] = "fewer than two r d values below the knee: no below-knee claim";
  }
  std::vector<double> xs = x_above;
  std::sort(xs.begin(), xs.end());
  if (x_above.size() >= 3 && std::unique(xs.begin(), xs.end()) - xs.begin() >= 2) {
    const SlopeFit f = fit_slope(x_above, y_above, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("rank-boot")}));
    const auto [lo, hi] = judged_interval(f);
    nlohmann::json j = slope_claim_json("rank.above-knee.growth",
                                        "Above the knee the parametric term r d log M / M takes over: the error grows "
                                        "with r d (slope of log error on log(r d) > 0; theory 1 when it dominates)",
                                        1.0, f, 0.0, kInf, Verdict::inconclusive);
    j["verdict_rule"] = "consistent if the lower end of the hull of the 95% intervals of the slope is > 0";
    j["verdict"] = lo > 0 ? "consistent" : "inconsistent";
    j["quantity"] = "slope vs log(r d)";
    summary["claims"].push_back(j);
  }
  ConvergenceFigure fig;
  fig.title = "rank-condition: error vs r d at M = " + std::to_string(c.M.front()) + ", knee " + fmt(knee);
  fig.x_label = "r d (knee (M/log M)^(1/(2b+1)) = " + fmt(knee) + ")";
  ConvergenceSeries cs;
  cs.label = base.activation + ", A unknown";
  for (const auto& sr : results)
    for (const auto& cl : sr.cells)
      if (cl.status == "ok") {
        cs.x.push_back(sr.series.value);
        cs.y.push_back(cl.error);
      }
  cs.draw_theory = false;
  std::vector<double> lx, ly;
  for (std::size_t i = 0; i < cs.x.size(); ++i) {
    lx.push_back(std::log(cs.x[i]));
    ly.push_back(std::log(cs.y[i]));
  }
  std::vector<double> ux = lx;
  std::sort(ux.begin(), ux.end());
  if (lx.size() >= 3 && std::unique(ux.begin(), ux.end()) - ux.begin() >= 2) {
    const SlopeFit f = fit_slope(lx, ly, 0.95, 100, 1);
    cs.fit_slope = f.slope;
    cs.fit_intercept = f.intercept;
    fig.series.push_back(cs);
    fig.note = "predicted knee at r d = " + fmt(knee) + " (dotted line)";
    fig.marks_x = {knee};
    if (ctx.share.root()) write_convergence_figure(fig, ctx.out / "rank");
    summary["figure"] = "rank.png";
    for (auto& j : summary["claims"]) j["figure"] = "rank.png";
  }
  summary["median_error_by_rd"] = nlohmann::json::array();
  for (std::size_t i = 0; i < all_rd.size(); ++i) summary["median_error_by_rd"].push_back({all_rd[i], all_med[i]});
  summary["wall_seconds"] = seconds_since(t0);
  summary["build"] = build_info();
  if (ctx.share.root()) write_file_atomic(ctx.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace attnrate
