// The pairwise-interaction model in _core: simulation (the truth, as `attnrate simulate pairwise`
// draws it), the least-squares spline fits with A known (fixed or adaptive spline space) and
// unknown (the joint fit), predictions and the composed L2(rho) error of a fitted g_hat.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <tuple>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "python/src/binding.hpp"
#include "studies/commands/command.hpp"
#include "studies/commands/fit_pairwise.hpp"
#include "studies/commands/score.hpp"
#include "studies/commands/simulate_pairwise.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate::python {
namespace {

int thread_count(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

// `attnrate simulate pairwise` without the files (simulate_pairwise_draws: the same options,
// checks and draws), so X, Y and A are the numbers the command writes. X (M, N, d) in C order is
// the data's d x (M N) column-major matrix, Y (M, N) its M N outputs: plain copies.
py::tuple simulate(const std::vector<Option>& options) {
  const Settings s = settings_of(simulate_pairwise_keys(), options);
  std::optional<PairwiseSimulation> sim;
  {
    ReleaseGil release;
    sim.emplace(simulate_pairwise_draws(s, "simulate_pairwise"));
  }
  const PairwiseData& data = sim->data;
  Array X({static_cast<py::ssize_t>(data.M), static_cast<py::ssize_t>(data.N), static_cast<py::ssize_t>(data.d)});
  Array Y({static_cast<py::ssize_t>(data.M), static_cast<py::ssize_t>(data.N)});
  std::copy(data.X.begin(), data.X.end(), X.mutable_data());
  std::copy(data.Y.begin(), data.Y.end(), Y.mutable_data());
  auto model = std::make_shared<PairwiseModel>(std::move(sim->model));
  return py::make_tuple(model, X, Y, sim->model_seed);
}

// phi of the truth at every entry of u (any shape), by blocks as the studies evaluate it.
Array truth_phi(const PairwiseModel& model, const Array& u) {
  Array out(shape_of(u));
  const std::span<const double> in(u.data(), static_cast<std::size_t>(u.size()));
  model.phi().evaluate(in, {out.mutable_data(), in.size()});
  return out;
}

// g(x_t, y_t) = phi(x_t^T A y_t) for T pairs given as (T, d) arrays.
Array truth_g(const PairwiseModel& model, const Array& x, const Array& y) {
  const int d = model.d();
  require_ndim(x, 2, "x", "(pairs T, d)");
  require_ndim(y, 2, "y", "(pairs T, d)");
  if (x.shape(1) != d || y.shape(1) != d || x.shape(0) != y.shape(0))
    throw InputError("x and y must both have shape (T, " + std::to_string(d) + "), got " + shape_text(x) + " and " +
                     shape_text(y));
  Array out(x.shape(0));
  for (py::ssize_t t = 0; t < x.shape(0); ++t) out.mutable_data()[t] = model.g(x.data() + t * d, y.data() + t * d);
  return out;
}

// T fresh token pairs of the law rho as a (T, 2, d) array, from Rng(seed) alone.
Array token_pairs(const PairwiseModel& model, std::uint64_t seed, std::size_t T) {
  const arma::mat pairs = model.draw_token_pairs(seed, T);
  Array out({static_cast<py::ssize_t>(T), py::ssize_t{2}, static_cast<py::ssize_t>(model.d())});
  std::copy(pairs.begin(), pairs.end(), out.mutable_data());
  return out;
}

arma::vec coef_of(const Array& coef, const BSplineBasis& basis) {
  require_ndim(coef, 1, "coef_", "(K + degree,)");
  if (coef.shape(0) != basis.size())
    throw InputError("coef_ must have K + degree = " + std::to_string(basis.size()) + " entries, got " +
                     shape_text(coef));
  require_finite(coef, "coef_");
  return arma::vec(coef.data(), static_cast<arma::uword>(coef.size()));
}

// phi_hat(u) = sum_k coef_k B_k(u) at every entry of u (clamped to [a, b], as every fit evaluates).
Array spline_value(double a, double b, int pieces, int degree, const Array& coef, const Array& u) {
  const BSplineBasis basis(a, b, pieces, degree);
  const arma::vec c = coef_of(coef, basis);
  Array out(shape_of(u));
  for (py::ssize_t k = 0; k < u.size(); ++k) out.mutable_data()[k] = basis.value(c, u.data()[k]);
  return out;
}

// Yhat_mi = 1/(N-1) sum_{j != i} phi_hat(X_mi^T A X_mj), (M, N).
Array predict(const Array& X, const Array& A_in, double a, double b, int pieces, int degree, const Array& coef,
              int threads) {
  const arma::mat Xm = tokens_of(X);
  const int d = static_cast<int>(X.shape(2)), N = static_cast<int>(X.shape(1));
  const auto M = static_cast<std::size_t>(X.shape(0));
  const arma::mat A = matrix_of(A_in, d);
  const BSplineBasis basis(a, b, pieces, degree);
  const arma::vec c = coef_of(coef, basis);
  Array Y({X.shape(0), X.shape(1)});
  double* y = Y.mutable_data();
  {
    ReleaseGil release;
    const arma::mat AX = A * Xm;
    const double inv = 1.0 / (N - 1);
#pragma omp parallel for schedule(static) num_threads(thread_count(threads))
    for (std::size_t m = 0; m < M; ++m)
      for (int i = 0; i < N; ++i) {
        double sum = 0.0;
        for (int j = 0; j < N; ++j)
          if (j != i) sum += basis.value(c, arma::dot(Xm.col(m * N + i), AX.col(m * N + j)));
        y[m * N + i] = inv * sum;
      }
  }
  return Y;
}

// The composed error of `attnrate score --truth` (score.hpp composed_error, the studies'
// definition): the mean over T fresh pairs (x, y) of rho of (phi_hat(x^T A_hat y) - g(x, y))^2,
// with its Monte Carlo standard error. The pairs come from Rng(derive_seed(seed, "test")).
std::pair<double, double> composed_error(const PairwiseModel& model, const Array& A_hat, double a, double b,
                                         int pieces, int degree, const Array& coef, std::uint64_t T, std::uint64_t seed,
                                         int threads) {
  if (T < 2 || T > 1000000000) throw InputError("test_pairs must be in 2..1000000000, got " + std::to_string(T));
  PairwiseFitModel fit;
  fit.basis = BSplineBasis(a, b, pieces, degree);
  fit.coef = coef_of(coef, fit.basis);
  fit.A = matrix_of(A_hat, model.d(), "A_");
  ReleaseGil release;
  const ComposedError e =
      attnrate::composed_error(fit, model, T, derive_seed(seed, {hash_name("test")}), thread_count(threads));
  return {e.error, e.se};
}

// [min u, max u] over the training interactions i != j (what `fit pairwise` uses without --range).
std::pair<double, double> training_range(const arma::mat& X, const arma::mat& A, std::size_t M, int N) {
  double a = std::numeric_limits<double>::infinity(), b = -a;
  const arma::mat AX = A * X;
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        if (i == j) continue;
        const double u = arma::dot(X.col(m * N + i), AX.col(m * N + j));
        a = std::min(a, u);
        b = std::max(b, u);
      }
  if (!(a < b)) throw InputError("all interactions u = X_i^T A X_j in the data are equal; give range=(a, b)");
  return {a, b};
}

// The memory a spline fit on p basis functions needs besides the data (as fit pairwise counts it).
void check_fit_memory(const Settings& s, std::size_t M, int N, int d, double p, int threads) {
  const double chunks = std::clamp(std::floor(64.0 * (1 << 20) / (8.0 * p * p)), 2.0, 64.0);
  MemoryEstimate need;
  need.add("a copy of the data", 8.0 * static_cast<double>(M) * N * (d + 1));
  need.add("normal equations of basis size " + std::to_string(static_cast<long long>(p)), 8.0 * p * p * (chunks + 5));
  need.add("feature blocks", 8.0 * thread_count(threads) * 256 * N * (p + d + 1));
  need.check(memory_budget(s), "fit", "lower knots (or max_knots), or fit less data");
}

py::dict basis_dict(const BSplineBasis& basis, const arma::vec& coef) {
  py::dict r;
  r["degree"] = basis.degree();
  r["pieces"] = basis.pieces();
  r["knots"] = array_of(basis.knots());
  r["range"] = py::make_tuple(basis.a(), basis.b());
  r["coef"] = array_of(coef);
  return r;
}

// A known, fixed spline space: `fit pairwise --A` on data in memory.
py::dict fit_spline(const Array& X, const Array& Y, const Array& A_in, const std::vector<Option>& options,
                    int threads) {
  const Settings s = settings_of(fit_pairwise_keys(), options);
  const int degree = s.get_count("degree", 0, BSplineBasis::max_degree);
  const int K = s.get_count("knots", 1, max_pieces());
  const double ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  double a = 0, b = 0;
  const bool auto_range = !s.get_range("range", a, b);
  const arma::mat Xm = tokens_of(X);
  const arma::vec Ym = outputs_of(Y, X);
  const int N = static_cast<int>(X.shape(1)), d = static_cast<int>(X.shape(2));
  const auto M = static_cast<std::size_t>(X.shape(0));
  const arma::mat A = matrix_of(A_in, d);
  check_fit_memory(s, M, N, d, static_cast<double>(K) + degree, threads);
  PairwiseLseFit fit = [&] {
    ReleaseGil release;
    if (auto_range) std::tie(a, b) = training_range(Xm, A, M, N);
    const BSplineBasis basis(a, b, K, degree);
    LseOptions opt;
    opt.ridge = ridge;
    opt.threads = threads;
    return fit_pairwise_lse(basis, A, N, d, M, in_memory_source(Xm, Ym, N), opt);
  }();
  py::dict r = basis_dict(fit.basis, fit.solution.coef);
  r["train_mse"] = fit.solution.train_mse;
  r["solver"] = fit.solution.solver;
  r["rcond"] = fit.solution.rcond;
  r["fallback"] = fit.solution.fallback;
  r["rank"] = static_cast<std::size_t>(fit.solution.rank);
  r["unobserved"] = static_cast<std::size_t>(fit.solution.unobserved);
  r["clamped"] = fit.normal_equations.clamped;
  r["interactions"] = fit.normal_equations.interactions;
  return r;
}

// A known, the spline space selected from the data: `fit pairwise --A --schedule adaptive`.
py::dict fit_adaptive(const Array& X, const Array& Y, const Array& A_in, const std::vector<Option>& options,
                      int threads) {
  const Settings s = settings_of(fit_pairwise_keys(), options);
  AdaptiveSplineOptions opt;
  read_adaptive_selection(s, opt);
  opt.lse.ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  opt.lse.threads = threads;
  double a = 0, b = 0;
  const bool auto_range = !s.get_range("range", a, b);
  const arma::mat Xm = tokens_of(X);
  const arma::vec Ym = outputs_of(Y, X);
  const int N = static_cast<int>(X.shape(1)), d = static_cast<int>(X.shape(2));
  const auto M = static_cast<std::size_t>(X.shape(0));
  if (M < static_cast<std::size_t>(opt.folds))
    throw InputError("knots='adaptive': the data hold M = " + std::to_string(M) +
                     " samples, fewer than folds = " + std::to_string(opt.folds));
  const arma::mat A = matrix_of(A_in, d);
  const int top_K = adaptive_pieces_grid(1, opt.max_pieces > 0 ? opt.max_pieces : adaptive_max_pieces(M)).back();
  check_fit_memory(s, M, N, d, static_cast<double>(top_K) + opt.max_degree, threads);
  const AdaptiveSplineFit fit = [&] {
    ReleaseGil release;
    if (auto_range) std::tie(a, b) = training_range(Xm, A, M, N);
    return fit_adaptive_spline(a, b, A, N, d, M, in_memory_source(Xm, Ym, N), opt);
  }();
  const SplineCandidate& sel = fit.candidates[fit.selected];
  py::dict r = basis_dict(fit.basis(fit.selected), sel.coef);
  r["train_mse"] = sel.train_risk;
  r["solver"] = sel.solver;
  r["flagged"] = sel.flagged;
  r["select"] = to_string(fit.rule);
  r["selected"] = fit.selected;
  r["sigma2_hat"] = fit.sigma2_hat;
  r["clamped"] = fit.clamped;
  r["interactions"] = fit.interactions;
  py::list candidates;
  for (const SplineCandidate& c : fit.candidates) {
    py::dict e;
    e["degree"] = c.degree;
    e["knots"] = c.pieces;
    e["p"] = c.p;
    e["train_risk"] = c.train_risk;
    e["cv_risk"] = c.cv_risk;
    e["penalised"] = c.penalised;
    e["criterion"] = c.criterion;
    e["flagged"] = c.flagged;
    e["solver"] = c.solver;
    candidates.append(e);
  }
  r["candidates"] = candidates;
  return r;
}

// A unknown: `fit pairwise --rank` on data in memory (the joint fit, estimators/pairwise_erm).
py::dict fit_joint(const Array& X, const Array& Y, const std::vector<Option>& options, int threads) {
  const Settings s = settings_of(fit_pairwise_keys(), options);
  const arma::mat Xm = tokens_of(X);
  const arma::vec Ym = outputs_of(Y, X);
  const int N = static_cast<int>(X.shape(1)), d = static_cast<int>(X.shape(2));
  const auto M = static_cast<std::size_t>(X.shape(0));
  ErmOptions opt;
  opt.rank = s.get_count("rank", 1, d);
  opt.degree = s.get_count("degree", 1, BSplineBasis::max_degree);
  opt.pieces = s.get_count("knots", 1, max_pieces());
  opt.restarts = s.get_count("restarts", 1, 1000);
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  const std::string start = s.raw("start");
  if (start == "moment")
    opt.start = ErmStart::moment;
  else if (start == "random")
    opt.start = ErmStart::random;
  else
    throw InputError(s.source("start") + " must be moment or random, got '" + start + "'");
  opt.refit_trim = s.get_size("refit-trim", 0, kMaxSamples);
  opt.coarse_pieces = s.get_count("coarse-pieces", 0, 1000000);
  check_fit_memory(s, M, N, d, static_cast<double>(opt.pieces) + opt.degree, threads);
  const PairwiseErmFit fit = [&] {
    ReleaseGil release;
    return fit_pairwise_erm(Xm, Ym, N, opt);
  }();
  py::dict r = basis_dict(fit.basis, fit.coef);
  r["A"] = array_of(fit.A);
  r["U"] = array_of(fit.U);
  r["V"] = array_of(fit.V);
  r["train_mse"] = fit.train_risk;
  const ErmDiagnostics& g = fit.diagnostics;
  r["solver"] = "variable projection + L-BFGS; phi-step " + g.phi_step.solver;
  py::dict diag;
  diag["iterations"] = g.iterations;
  diag["restarts"] = g.restarts;
  diag["best_restart"] = g.best_restart;
  diag["stop_reason"] = g.stop_reason;
  diag["evaluations"] = g.evaluations;
  diag["rejected_steps"] = g.rejected_steps;
  diag["relative_gradient"] = g.relative_gradient;
  diag["degenerate_range"] = g.degenerate_range;
  diag["train_risk_untrimmed"] = g.train_risk_untrimmed;
  diag["phi_step_rcond"] = g.phi_step.rcond;
  py::list restarts;
  for (const ErmRestartReport& e : g.per_restart) {
    py::dict d_;
    d_["restart"] = e.restart;
    d_["start"] = e.start;
    d_["iterations"] = e.iterations;
    d_["risk"] = e.risk;
    d_["stop_reason"] = e.stop_reason;
    restarts.append(d_);
  }
  diag["per_restart"] = restarts;
  py::list stages;
  for (const ErmStageReport& e : g.stages) {
    py::dict d_;
    d_["knots"] = e.pieces;
    d_["iterations"] = e.iterations;
    d_["risk"] = e.risk;
    d_["stop_reason"] = e.stop_reason;
    stages.append(d_);
  }
  diag["stages"] = stages;
  r["diagnostics"] = diag;
  return r;
}

}  // namespace

void register_pairwise(py::module_& m) {
  py::class_<PairwiseModel, std::shared_ptr<PairwiseModel>>(m, "PairwiseTruth",
                                                            "The truth of a simulation: A, phi and the token law.")
      .def_property_readonly("A", [](const PairwiseModel& p) { return array_of(p.A()); })
      .def_property_readonly("activation", [](const PairwiseModel& p) { return p.phi().name(); })
      .def_property_readonly("tokens", [](const PairwiseModel& p) { return p.tokens().name(); })
      .def_property_readonly("N", &PairwiseModel::N)
      .def_property_readonly("d", &PairwiseModel::d)
      .def_property_readonly("r", [](const PairwiseModel& p) { return p.spec().r; })
      .def_property_readonly("sigma", [](const PairwiseModel& p) { return p.spec().sigma; })
      .def_property_readonly("smoothness", [](const PairwiseModel& p) { return p.phi().claimed_smoothness(); })
      .def("__copy__", &same<PairwiseModel>)
      .def("__deepcopy__", &same_deep<PairwiseModel>, py::arg("memo"))
      .def("phi", &truth_phi, Guard(), py::arg("u"))
      .def("g", &truth_g, Guard(), py::arg("x"), py::arg("y"))
      .def("token_pairs", &token_pairs, Guard(), py::arg("seed"), py::arg("T"));
  m.def("simulate_pairwise", &simulate, Guard(), py::arg("options"));
  m.def("spline_value", &spline_value, Guard(), py::arg("a"), py::arg("b"), py::arg("pieces"), py::arg("degree"),
        py::arg("coef"), py::arg("u"));
  m.def("predict_pairwise", &predict, Guard(), py::arg("X"), py::arg("A"), py::arg("a"), py::arg("b"),
        py::arg("pieces"), py::arg("degree"), py::arg("coef"), py::arg("threads"));
  m.def("composed_error", &composed_error, Guard(), py::arg("truth"), py::arg("A"), py::arg("a"), py::arg("b"),
        py::arg("pieces"), py::arg("degree"), py::arg("coef"), py::arg("test_pairs"), py::arg("seed"),
        py::arg("threads"));
  m.def("fit_spline", &fit_spline, Guard(), py::arg("X"), py::arg("Y"), py::arg("A"), py::arg("options"),
        py::arg("threads"));
  m.def("fit_adaptive", &fit_adaptive, Guard(), py::arg("X"), py::arg("Y"), py::arg("A"), py::arg("options"),
        py::arg("threads"));
  m.def("fit_joint", &fit_joint, Guard(), py::arg("X"), py::arg("Y"), py::arg("options"), py::arg("threads"));
}

}  // namespace attnrate::python
