// The pairwise-interaction model in _core: simulation (the truth, as `attnrate simulate pairwise`
// draws it), the least-squares spline fits with A known (fixed or adaptive spline space) and
// unknown (the joint fit), predictions and the composed L2(rho) error of a fitted g_hat.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/spline_sum.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "python/src/binding.hpp"
#include "studies/commands/command.hpp"
#include "studies/commands/fit_pairwise.hpp"
#include "studies/commands/pairwise_fit_json.hpp"
#include "studies/commands/predict.hpp"
#include "studies/commands/score.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/commands/simulate_pairwise.hpp"
#include "studies/io/memory_budget.hpp"
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

arma::vec coef_of(const Array& coef, const BSplineBasis& basis, const std::string& name) {
  require_ndim(coef, 1, name, "(K + degree,)");
  if (coef.shape(0) != basis.size())
    throw InputError(name + " must have K + degree = " + std::to_string(basis.size()) + " entries, got " +
                     shape_text(coef));
  require_finite(coef, name);
  return arma::vec(coef.data(), static_cast<arma::uword>(coef.size()));
}

// phi_hat on [a, b] from the estimators' terms_: (pieces, degree, coef) per spline, summed in order.
using Terms = std::vector<std::tuple<int, int, Array>>;
SplineSum spline_sum_of(double a, double b, const Terms& terms) {
  if (terms.empty()) throw InputError("terms_ must hold at least one spline (pieces, degree, coef)");
  SplineSum phi;
  for (std::size_t k = 0; k < terms.size(); ++k) {
    const auto& [pieces, degree, coef] = terms[k];
    const BSplineBasis basis(a, b, pieces, degree);
    phi.add(basis, coef_of(coef, basis, "terms_[" + std::to_string(k) + "] coefficients"));
  }
  return phi;
}

// phi_hat(u) at every entry of u (clamped to [a, b], as every fit evaluates).
Array spline_value(double a, double b, const Terms& terms, const Array& u) {
  const SplineSum phi = spline_sum_of(a, b, terms);
  Array out(shape_of(u));
  for (py::ssize_t k = 0; k < u.size(); ++k) out.mutable_data()[k] = phi.value(u.data()[k]);
  return out;
}

// Yhat_mi = 1/(N-1) sum_{j != i} phi_hat(X_mi^T A X_mj), (M, N): `attnrate predict`'s
// predict_pairwise, which refuses interactions that overflow rather than clamp them.
Array predict(const Array& X, const Array& A_in, double a, double b, const Terms& terms, int threads) {
  PairwiseData data;
  data.X = tokens_of(X);
  data.N = static_cast<int>(X.shape(1));
  data.d = static_cast<int>(X.shape(2));
  data.M = static_cast<std::size_t>(X.shape(0));
  PairwiseFitModel fit;
  fit.A = matrix_of(A_in, data.d);
  fit.phi = spline_sum_of(a, b, terms);
  arma::vec y;
  {
    ReleaseGil release;
    y = predict_pairwise(fit, data, thread_count(threads));
  }
  Array Y({X.shape(0), X.shape(1)});
  std::copy(y.begin(), y.end(), Y.mutable_data());
  return Y;
}

// The composed error of `attnrate score --truth` (score.hpp composed_error, the studies'
// definition): the mean over T fresh pairs (x, y) of rho of (phi_hat(x^T A_hat y) - g(x, y))^2,
// with its Monte Carlo standard error. The pairs come from Rng(derive_seed(seed, "test")).
std::pair<double, double> composed_error(const PairwiseModel& model, const Array& A_hat, double a, double b,
                                         const Terms& terms, std::uint64_t T, std::uint64_t seed, int threads) {
  if (T < kMinTestPairs || T > kMaxTestPairs)
    throw InputError("test_pairs must be in " + std::to_string(kMinTestPairs) + ".." + std::to_string(kMaxTestPairs) +
                     ", got " + std::to_string(T));
  if (A_hat.ndim() == 2 && A_hat.shape(0) != model.d())
    throw InputError("the truth has d = " + std::to_string(model.d()) + " but the fit was fitted on d = " +
                     std::to_string(A_hat.shape(0)) + " (its A_ is " + std::to_string(A_hat.shape(0)) + " x " +
                     std::to_string(A_hat.shape(1)) + ")");
  PairwiseFitModel fit;
  fit.phi = spline_sum_of(a, b, terms);
  fit.A = matrix_of(A_hat, model.d(), "A_");
  ReleaseGil release;
  const ComposedError e =
      attnrate::composed_error(fit, model, T, derive_seed(seed, {hash_name("test")}), thread_count(threads));
  return {e.error, e.se};
}

// What the Python estimators say when a fit would exceed the memory budget.
constexpr const char* kReduceFit = "lower knots (or max_knots), or fit less data";

// A known: `fit pairwise --A` on data in memory, the fixed or the adaptive (schedule=adaptive)
// spline space, as the content of its fit.json (adaptive: with b_hat).
py::object fit_known_A(const Array& X, const Array& Y, const Array& A_in, const std::vector<Option>& options,
                       int threads) {
  const Settings s = settings_of(fit_pairwise_keys(), options);
  const arma::mat Xm = tokens_of(X);
  const arma::vec Ym = outputs_of(Y, X);
  const int N = static_cast<int>(X.shape(1)), d = static_cast<int>(X.shape(2));
  const auto M = static_cast<std::size_t>(X.shape(0));
  const KnownAFitOptions o = read_known_A_fit_options(s, M, threads);
  const arma::mat A = matrix_of(A_in, d);
  pairwise_fit_memory(M, N, d, o.degree, o.pieces, threads, o.range ? 1.0 : 2.0, 0.0, 0.0)
      .check(default_memory_budget(), "fit", kReduceFit);  // the estimators take no budget
  const nlohmann::json fit = [&] {
    ReleaseGil release;
    const KnownARange range = known_A_range(Xm, A, M, N, o.range, "range=(a, b)", threads);
    const double a = range.a, b = range.b;
    const SampleBlockSource source = in_memory_source(Xm, Ym, N);
    if (o.adaptive) {
      const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, A, N, d, M, source, o.adapt);
      nlohmann::json j = adaptive_fit_json(fit, A, o.adapt);
      j["b_hat"] = known_A_b_hat(fit, a, b, A, N, d, M, source, o.adapt);
      j["warnings"] = with_range_warnings(range, adaptive_fit_warnings(fit, j["b_hat"], M, N, true));
      return j;
    }
    const PairwiseLseFit fit =
        fit_pairwise_lse(BSplineBasis(a, b, o.pieces, o.degree), A, N, d, M, source, o.adapt.lse);
    nlohmann::json j = known_A_fit_json(fit, A, o.ridge);
    j["warnings"] = with_range_warnings(range, known_A_fit_warnings(fit, M, N));
    return j;
  }();
  return python_of(fit);
}

// A unknown: `fit pairwise --rank` on data in memory (the joint fit, estimators/pairwise_erm), as
// the content of its fit.json plus what the estimator keeps besides: the factors U and V, the
// evaluation count and every restart's run.
py::object fit_joint(const Array& X, const Array& Y, const std::vector<Option>& options, int threads) {
  const Settings s = settings_of(fit_pairwise_keys(), options);
  const arma::mat Xm = tokens_of(X);
  const arma::vec Ym = outputs_of(Y, X);
  const int N = static_cast<int>(X.shape(1)), d = static_cast<int>(X.shape(2));
  const auto M = static_cast<std::size_t>(X.shape(0));
  const JointFitOptions jo = read_joint_fit_options(s, M, d, threads);
  const ErmOptions& opt = jo.erm;
  pairwise_fit_memory(M, N, d, opt.degree, opt.pieces, threads, 2.0, 2.0 * opt.rank,
                      static_cast<double>(opt.refit_trim))
      .check(default_memory_budget(), "fit", kReduceFit);  // the estimators take no budget
  if (jo.adaptive) {
    const AdaptiveErmFit fit = [&] {
      ReleaseGil release;
      return fit_adaptive_erm(Xm, Ym, N, jo.adapt);
    }();
    nlohmann::json j = adaptive_joint_fit_json(fit, jo.adapt);
    {
      ReleaseGil release;
      j["b_hat"] = joint_b_hat(fit, Xm, Ym, N, jo.adapt);
    }
    j["warnings"] = adaptive_fit_warnings(fit.selection, j["b_hat"], M, N, false);
    j["U"] = matrix_json(fit.U);
    j["V"] = matrix_json(fit.V);
    return python_of(j);
  }
  const PairwiseErmFit fit = [&] {
    ReleaseGil release;
    return fit_pairwise_erm(Xm, Ym, N, opt);
  }();
  nlohmann::json j = joint_fit_json(fit, opt);
  j["warnings"] = joint_fit_warnings(fit);
  j["U"] = matrix_json(fit.U);
  j["V"] = matrix_json(fit.V);
  nlohmann::json& diag = j["diagnostics"];
  diag["evaluations"] = fit.diagnostics.evaluations;
  diag["per_restart"] = nlohmann::json::array();
  for (const ErmRestartReport& e : fit.diagnostics.per_restart)
    diag["per_restart"].push_back({{"restart", e.restart},
                                   {"start", e.start},
                                   {"iterations", e.iterations},
                                   {"risk", e.risk},
                                   {"stop_reason", e.stop_reason}});
  return python_of(j);
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
  m.def("spline_value", &spline_value, Guard(), py::arg("a"), py::arg("b"), py::arg("terms"), py::arg("u"));
  m.def("predict_pairwise", &predict, Guard(), py::arg("X"), py::arg("A"), py::arg("a"), py::arg("b"),
        py::arg("terms"), py::arg("threads"));
  m.def("composed_error", &composed_error, Guard(), py::arg("truth"), py::arg("A"), py::arg("a"), py::arg("b"),
        py::arg("terms"), py::arg("test_pairs"), py::arg("seed"), py::arg("threads"));
  m.def("fit_known_A", &fit_known_A, Guard(), py::arg("X"), py::arg("Y"), py::arg("A"), py::arg("options"),
        py::arg("threads"));
  m.def("fit_joint", &fit_joint, Guard(), py::arg("X"), py::arg("Y"), py::arg("options"), py::arg("threads"));
}

}  // namespace attnrate::python
