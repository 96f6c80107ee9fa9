// The random-feature models in _core: random-feature attention (the options of `attnrate fit
// rfa`) and the random-feature MLP, fitted by ridge on data in memory. A fitted model is kept as
// the library's object (its frozen weights are drawn from the seed, so two fits with the same
// parameters and seed are the same model).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "python/src/binding.hpp"
#include "studies/commands/command.hpp"
#include "studies/commands/fit_rfa.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "studies/commands/simulate_rfa.hpp"
#include "studies/io/memory_budget.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/rfa_targets.hpp"

namespace attnrate::python {
namespace {

// X (n, N + 1, d), key 0 the query, as AttentionInputs (copies); checks shape and finiteness.
AttentionInputs inputs_of(const Array& X) {
  require_ndim(X, 3, "X", "(samples n, 1 + keys N, dimension d)");
  if (X.shape(0) < 1 || X.shape(1) < 2 || X.shape(2) < 1)
    throw InputError("X needs n >= 1 samples of a query and N >= 1 keys in d >= 1 dimensions, got shape " +
                     shape_text(X));
  require_finite(X, "X");
  const auto n = static_cast<arma::uword>(X.shape(0)), T = static_cast<arma::uword>(X.shape(1)),
             d = static_cast<arma::uword>(X.shape(2));
  AttentionInputs in;
  in.d = static_cast<int>(d);
  in.N = static_cast<int>(T - 1);
  in.query.set_size(d, n);
  in.keys.set_size(d, n * (T - 1));
  const double* x = X.data();
  for (arma::uword s = 0; s < n; ++s) {
    std::copy(x + s * T * d, x + s * T * d + d, in.query.colptr(s));
    std::copy(x + s * T * d + d, x + (s + 1) * T * d, in.keys.colptr(s * (T - 1)));
  }
  return in;
}

arma::vec targets_of(const Array& y, std::size_t n) {
  require_ndim(y, 1, "y", "(samples n,)");
  if (static_cast<std::size_t>(y.shape(0)) != n)
    throw InputError("y must have one entry per sample of X (" + std::to_string(n) + "), got shape " + shape_text(y));
  require_finite(y, "y");
  return arma::vec(y.data(), n);
}


py::dict ridge_dict(const RidgeFit& fit, LambdaRule rule) {
  py::dict r;
  r["lambda_rule"] = to_string(rule);
  r["lambda"] = fit.solution.lambda;
  r["lambda_grid"] = array_of(arma::vec(fit.selection.grid));
  r["lambda_scores"] = array_of(arma::vec(fit.selection.scores));
  r["lambda_at_edge"] = fit.selection.at_edge;
  r["form"] = to_string(fit.solution.form);
  r["solver"] = fit.solution.solver;
  r["rcond"] = fit.solution.rcond;
  r["fallback"] = fit.solution.fallback;
  r["train_mse"] = fit.solution.train_mse;
  r["coef"] = array_of(fit.solution.w);
  r["warnings"] = ridge_fit_warnings(fit, rule);
  return r;
}

// fit rfa's estimate against the budget; the estimators take no budget option, so the message
// does not offer to raise one.
void check_memory(const AttentionInputs& in, double P, int heads, int threads, std::size_t block_samples,
                  const std::string& what) {
  fit_rfa_memory(in.n(), in.N, in.d, P, heads, threads, block_samples)
      .check(default_memory_budget(), what, "lower the number of features, or fit less data");
}

// Training inputs: as `fit rfa`'s data reader, at least 2 samples.
AttentionInputs training_inputs_of(const Array& X) {
  AttentionInputs in = inputs_of(X);
  if (in.n() < 2)
    throw InputError("X holds n = " + std::to_string(in.n()) + " sample; a fit needs at least 2 samples (n >= 2)");
  return in;
}

// `fit rfa` on data in memory: the model and its ridge record.
py::tuple fit_rfa_model(const Array& X, const Array& y, const std::vector<Option>& options, int threads) {
  const Settings s = settings_of(fit_rfa_keys(), options);
  const RfaOptions opt = read_fit_rfa_options(s, threads);
  const RidgeFitOptions ridge = read_fit_lambda(s, opt.seed);
  const AttentionInputs in = training_inputs_of(X);
  const arma::vec yv = targets_of(y, in.n());
  check_fit_folds(s, ridge, in.n());
  check_memory(in, static_cast<double>(opt.heads) * (in.d + 1), opt.heads, threads, opt.block_samples,
               "RandomFeatureAttentionRegressor.fit");
  auto model = std::make_shared<RandomFeatureAttention>(in.d, opt);
  RidgeFit fit;
  {
    ReleaseGil release;
    fit = model->fit(in, yv, ridge);
  }
  return py::make_tuple(model, ridge_dict(fit, ridge.rule));
}

// The random-feature MLP on the concatenated tokens, fitted by ridge on data in memory.
py::tuple fit_mlp_model(const Array& X, const Array& y, const std::vector<Option>& options, std::size_t width,
                        int match_heads, const std::string& sigma, int threads) {
  const Settings s = settings_of(fit_rfa_keys(), options);  // lambda and seed, as for attention
  RfMlpOptions opt;
  if (match_heads < 1) throw InputError("match_heads must be >= 1, got " + std::to_string(match_heads));
  opt.width = width;
  opt.match_heads = match_heads;
  opt.activation = parse_mlp_activation(sigma);
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  const RidgeFitOptions ridge = read_fit_lambda(s, opt.seed);
  const AttentionInputs in = training_inputs_of(X);
  const arma::vec yv = targets_of(y, in.n());
  check_fit_folds(s, ridge, in.n());
  const double P = width > 0 ? static_cast<double>(width) : static_cast<double>(match_heads) * (in.d + 1);
  check_memory(in, P, 0, threads, opt.block_samples, "RandomFeatureMLPRegressor.fit");
  auto model = std::make_shared<RandomFeatureMlp>(in.d, in.N, opt);
  RidgeFit fit;
  {
    ReleaseGil release;
    fit = model->fit(in, yv, ridge);
  }
  return py::make_tuple(model, ridge_dict(fit, ridge.rule));
}

// `attnrate simulate rfa` without the file (simulate_rfa_draws: the same options, checks and
// draws), as X (n, N + 1, d) with key 0 the query, y (n,) and the target's canonical name.
py::tuple simulate_rfa_data(const std::vector<Option>& options) {
  const Settings s = settings_of(simulate_rfa_keys(), options);
  AttentionSimulation sim;
  {
    ReleaseGil release;
    sim = simulate_rfa_draws(s, "simulate_rfa");
  }
  const AttentionInputs& in = sim.inputs;
  const std::size_t n = in.n(), T = static_cast<std::size_t>(in.N) + 1, d = static_cast<std::size_t>(in.d);
  Array X({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(T), static_cast<py::ssize_t>(d)});
  double* x = X.mutable_data();
  for (std::size_t m = 0; m < n; ++m) {
    std::copy(in.query.colptr(m), in.query.colptr(m) + d, x + m * T * d);
    std::copy(in.keys.colptr(m * in.N), in.keys.colptr(m * in.N) + (T - 1) * d, x + m * T * d + d);
  }
  return py::make_tuple(X, array_of(sim.y), sim.target);
}

// model.predict (Result arma::vec) or model.features (arma::mat) on X (n, N + 1, d), with the
// GIL released.
template <class Result, class Model, class Method>
Array on_inputs(const Model& model, const Array& X, Method method) {
  const AttentionInputs in = inputs_of(X);
  Result out;
  {
    ReleaseGil release;
    out = (model.*method)(in);
  }
  return array_of(out);
}

template <class Model>
Array predict(const Model& model, const Array& X) {
  return on_inputs<arma::vec>(model, X, &Model::predict);
}

template <class Model>
Array features(const Model& model, const Array& X) {
  return on_inputs<arma::mat>(model, X, static_cast<arma::mat (Model::*)(const AttentionInputs&) const>(&Model::features));
}

// Pickling: a model is its d (and N), its options and its coefficients; the frozen weights are
// redrawn from the seed on unpickling, as predict redraws them from fit.json, so an unpickled
// model predicts bit for bit as the original. The tag names the layout of the state.
constexpr const char* kRfaState = "attnrate.RandomFeatureAttention/1";
constexpr const char* kMlpState = "attnrate.RandomFeatureMlp/1";

arma::vec coefficients_of_state(const Array& a) {
  require_ndim(a, 1, "the pickled coefficients", "(features,)");
  return arma::vec(a.data(), static_cast<arma::uword>(a.shape(0)));
}

void require_state(const py::tuple& t, const char* tag, std::size_t size) {
  if (t.size() != size || !py::isinstance<py::str>(t[0]) || t[0].cast<std::string>() != tag)
    throw InputError(std::string("not a pickled state of ") + tag + " (pickled by another attnrate version?)");
}

py::tuple rfa_state(const RandomFeatureAttention& r) {
  const RfaOptions& o = r.options();
  return py::make_tuple(kRfaState, r.d(), o.heads, to_string(o.activation), to_string(o.law), o.tau, o.mu, o.seed,
                        o.block_samples, o.threads, array_of(r.coefficients()));
}

std::shared_ptr<RandomFeatureAttention> rfa_from_state(const py::tuple& t) {
  require_state(t, kRfaState, 11);
  RfaOptions o;
  o.heads = t[2].cast<int>();
  o.activation = parse_rfa_activation(t[3].cast<std::string>());
  o.law = parse_weight_law(t[4].cast<std::string>());
  o.tau = t[5].cast<double>();
  o.mu = t[6].cast<double>();
  o.seed = t[7].cast<std::uint64_t>();
  o.block_samples = t[8].cast<std::size_t>();
  o.threads = t[9].cast<int>();
  auto r = std::make_shared<RandomFeatureAttention>(t[1].cast<int>(), o);
  const arma::vec w = coefficients_of_state(t[10].cast<Array>());
  if (!w.is_empty()) r->set_coefficients(w);
  return r;
}

py::tuple mlp_state(const RandomFeatureMlp& r) {
  const RfMlpOptions& o = r.options();
  return py::make_tuple(kMlpState, r.d(), r.N(), o.width, o.match_heads, to_string(o.activation), o.seed,
                        o.block_samples, o.threads, array_of(r.coefficients()));
}

std::shared_ptr<RandomFeatureMlp> mlp_from_state(const py::tuple& t) {
  require_state(t, kMlpState, 10);
  RfMlpOptions o;
  o.width = t[3].cast<std::size_t>();
  o.match_heads = t[4].cast<int>();
  o.activation = parse_mlp_activation(t[5].cast<std::string>());
  o.seed = t[6].cast<std::uint64_t>();
  o.block_samples = t[7].cast<std::size_t>();
  o.threads = t[8].cast<int>();
  auto r = std::make_shared<RandomFeatureMlp>(t[1].cast<int>(), t[2].cast<int>(), o);
  const arma::vec a = coefficients_of_state(t[9].cast<Array>());
  if (!a.is_empty()) r->set_coefficients(a);
  return r;
}

}  // namespace

void register_random_features(py::module_& m) {
  py::class_<RandomFeatureAttention, std::shared_ptr<RandomFeatureAttention>>(m, "RandomFeatureAttention")
      .def_property_readonly("d", &RandomFeatureAttention::d)
      .def_property_readonly("heads", &RandomFeatureAttention::heads)
      .def_property_readonly("coef", [](const RandomFeatureAttention& r) { return array_of(r.coefficients()); })
      .def_property_readonly("weights",
                             [](const RandomFeatureAttention& r) {
                               // (heads, d + 1, d + 1): W_m as a row-major matrix per head.
                               const arma::cube& W = r.weights();
                               Array a({static_cast<py::ssize_t>(W.n_slices), static_cast<py::ssize_t>(W.n_rows),
                                        static_cast<py::ssize_t>(W.n_cols)});
                               auto v = a.mutable_unchecked<3>();
                               for (arma::uword k = 0; k < W.n_slices; ++k)
                                 for (arma::uword i = 0; i < W.n_rows; ++i)
                                   for (arma::uword j = 0; j < W.n_cols; ++j) v(k, i, j) = W(i, j, k);
                               return a;
                             })
      .def("__copy__", &same<RandomFeatureAttention>)
      .def("__deepcopy__", &same_deep<RandomFeatureAttention>, py::arg("memo"))
      .def(py::pickle(&rfa_state, &rfa_from_state))
      .def("predict", &predict<RandomFeatureAttention>, Guard(), py::arg("X"))
      .def("features", &features<RandomFeatureAttention>, Guard(), py::arg("X"));
  py::class_<RandomFeatureMlp, std::shared_ptr<RandomFeatureMlp>>(m, "RandomFeatureMlp")
      .def_property_readonly("d", &RandomFeatureMlp::d)
      .def_property_readonly("N", &RandomFeatureMlp::N)
      .def_property_readonly("width", &RandomFeatureMlp::feature_count)
      .def_property_readonly("coef", [](const RandomFeatureMlp& r) { return array_of(r.coefficients()); })
      .def_property_readonly("weights", [](const RandomFeatureMlp& r) { return array_of(r.weights()); })
      .def("__copy__", &same<RandomFeatureMlp>)
      .def("__deepcopy__", &same_deep<RandomFeatureMlp>, py::arg("memo"))
      .def(py::pickle(&mlp_state, &mlp_from_state))
      .def("predict", &predict<RandomFeatureMlp>, Guard(), py::arg("X"))
      .def("features", &features<RandomFeatureMlp>, Guard(), py::arg("X"));
  m.def("simulate_rfa", &simulate_rfa_data, Guard(), py::arg("options"));
  m.def("fit_rfa", &fit_rfa_model, Guard(), py::arg("X"), py::arg("y"), py::arg("options"), py::arg("threads"));
  m.def("fit_mlp", &fit_mlp_model, Guard(), py::arg("X"), py::arg("y"), py::arg("options"), py::arg("width"),
        py::arg("match_heads"), py::arg("sigma"), py::arg("threads"));
}

}  // namespace attnrate::python
