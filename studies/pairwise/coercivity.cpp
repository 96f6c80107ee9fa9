#include "studies/pairwise/coercivity.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_options.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/lazy_value.hpp"
#include "studies/sweep/sweep.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/token_law.hpp"

namespace attnrate {

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

namespace {

std::vector<KeySpec> coercivity_keys() {
  return {
      {"token-laws", "uniform,gaussian,exchangeable", "token laws compared (comma list)"},
      tokens_per_sample_key("8"),
      token_dimension_key("5"),
      interaction_rank_key("2"),
      {"knots", "8", "pieces K of the spline space (1..100000)"},
      {"degree", "2", "spline degree (0..10)"},
      {"M", "250:16000:x4", "sample sizes (each >= 16)"},
      {"seeds", "8", "repetitions per M (2..100000)"},
      base_seed_key(),
      {"gram-pairs", "200000", "fresh pairs for the L2(rho) Gram matrix Gamma (1000..10^9)"},
      {"mark", "0.01",
       "level drawn as a dotted line on the figure (1e-12..1: lambda_min lies in [0, 1]; the built-in claims' lower "
       "bound); not a verdict",
       "FLOAT"},
  };
}

struct Plan {
  std::vector<std::string> laws;      // as listed in --token-laws
  std::vector<PairwiseModelSpec> models;  // one per law
  int K = 8, degree = 2;
  std::vector<std::size_t> M;
  int seeds = 8;
  std::uint64_t seed = 1;
  std::size_t gram_pairs = 200000;
  double mark = 0.01;  // drawn on the figure only
};

Plan read_plan(const Settings& settings) {
  Plan p;
  p.laws = settings.get_list("token-laws");
  if (p.laws.empty()) throw InputError(settings.source("token-laws") + " must list at least one token law");
  PairwiseModelSpec base;
  read_token_shape(settings, base);
  p.K = static_cast<int>(settings.get_int("knots", 1, 100000));
  p.degree = static_cast<int>(settings.get_int("degree", 0, 10));
  p.M = settings.get_sizes("M", 16);
  p.seeds = static_cast<int>(settings.get_int("seeds", 2, 100000));
  p.seed = settings.get_seed("seed");
  p.gram_pairs = static_cast<std::size_t>(settings.get_int("gram-pairs", 1000, 1000000000));
  // lambda_min lies in [0, 1] (c^T G c = E[(mean_j f)^2] <= E[mean_j f^2] = c^T Gamma c), and
  // the figure's log axis spans the mark and the data, so a mark is a level in [1e-12, 1].
  p.mark = settings.get_double("mark", 1e-12, 1.0);
  for (std::size_t i = 0; i < p.laws.size(); ++i) {
    if (std::find(p.laws.begin(), p.laws.begin() + static_cast<long>(i), p.laws[i]) != p.laws.begin() + static_cast<long>(i))
      throw InputError(settings.source("token-laws") + ": " + p.laws[i] + " is listed twice");
    PairwiseModelSpec m = base;
    m.tokens = p.laws[i];
    m.activation = "tanh";  // G does not depend on phi
    settings.with_source("token-laws", [&] { validate(m); });
    p.models.push_back(m);
  }
  return p;
}

// A checkpointed cell must be a result this study could have produced.
void validate_cell(const nlohmann::json& j) {
  double lambda = 0, seconds = 0;
  read_checkpoint_field(j, "lambda_min", lambda);
  read_checkpoint_field(j, "seconds", seconds);
  if (!std::isfinite(lambda)) throw InputError("lambda_min must be finite");
}

nlohmann::json run_coercivity(const Plan& p, const Settings& settings, const StudyContext& ctx) {
  const nlohmann::json params = parameters_json(settings);

  // Per law: the model, the range of the spline space and Gamma, each drawn by the first cell that
  // needs it, so that a rank or a resumed run that computes no cell of the law draws none of them.
  struct Law {
    std::string name;  // canonical, e.g. exchangeable:0.5
    std::unique_ptr<LazyValue<PairwiseModel>> model;
    std::unique_ptr<LazyValue<std::pair<double, double>>> range;
    std::unique_ptr<LazyValue<arma::mat>> Gamma;
  };
  // The spline space of a law's cells: the plan's K and degree on the law's range.
  const auto basis_of = [&p](const Law& law) {
    return BSplineBasis(law.range->get().first, law.range->get().second, p.K, p.degree);
  };
  std::vector<std::unique_ptr<Law>> laws;
  for (std::size_t i = 0; i < p.laws.size(); ++i) {
    auto law = std::make_unique<Law>();
    Law& l = *law;
    l.name = TokenLaw::parse(p.models[i].tokens).name();
    const std::string& spec = p.laws[i];
    l.model = std::make_unique<LazyValue<PairwiseModel>>(
        [&p, i] { return PairwiseModel(p.models[i], derive_seed(p.seed, {hash_name("model")})); });
    l.range = std::make_unique<LazyValue<std::pair<double, double>>>([&p, &l, &spec] {
      return interaction_range(l.model->get(), derive_seed(p.seed, {hash_name("range"), hash_name(spec)}), 1000000,
                               1e-4);
    });
    l.Gamma = std::make_unique<LazyValue<arma::mat>>([&p, &l, &spec, basis_of] {
      const std::uint64_t gram_seed = derive_seed(p.seed, {hash_name("gram"), hash_name(spec)});
      arma::mat Gamma = basis_gram(basis_of(l), l.model->get().draw_pair_interactions(gram_seed, p.gram_pairs));
      // Singular when some basis function met (almost) none of the pairs: say which options help.
      arma::mat L;
      if (!arma::chol(L, arma::symmatu(Gamma), "lower"))
        throw InputError("--gram-pairs " + std::to_string(p.gram_pairs) + ": the L2(rho) Gram matrix of the " +
                         std::to_string(p.K) + " pieces of degree " + std::to_string(p.degree) + " under tokens " +
                         l.name + " is not positive definite (a basis function met too few of the pairs); raise "
                         "--gram-pairs or lower --knots");
      return Gamma;
    });
    laws.push_back(std::move(law));
  }

  // Cells in (law, M, rep) order, one after another, each with every thread (the accumulation of
  // the normal equations is parallel and its result does not depend on the thread count).
  SweepSpec sweep = sweep_spec("coercivity", params);
  sweep.parallelism = CellParallelism::within_cells;
  struct CellRef {
    std::size_t law, M;
    int rep;
  };
  std::vector<CellRef> refs;
  for (std::size_t l = 0; l < p.laws.size(); ++l) {
    const auto stem = [&](std::size_t M) { return file_tag(p.laws[l]).append("-M").append(std::to_string(M)); };
    for (const auto& [M, rep] : add_repeated_cells(sweep, p.M, p.seeds, stem)) refs.push_back({l, M, rep});
  }
  const auto cells = run_sweep(
      ctx, sweep,
      [&](std::size_t i, int threads) {
        const auto c0 = std::chrono::steady_clock::now();
        const CellRef& ref = refs[i];
        const Law& law = *laws[ref.law];
        const std::string& name = p.laws[ref.law];
        const BSplineBasis basis = basis_of(law);
        const std::uint64_t ds =
            derive_seed(p.seed, {hash_name("data"), hash_name(name), ref.M, static_cast<std::uint64_t>(ref.rep)});
        const PairwiseModel& model = law.model->get();
        const SampleBlockSource src = model.sample_source(ds);
        LseOptions lo;
        lo.threads = threads;
        const PairwiseModelSpec& m = p.models[ref.law];
        const NormalEquations ne = accumulate_normal_equations(basis, model.A(), m.N, m.d, ref.M, src, lo);
        const double l = generalized_min_eigenvalue(ne.G, law.Gamma->get());
        return nlohmann::json{{"lambda_min", l}, {"seconds", seconds_since(c0)}};
      },
      validate_cell);

  nlohmann::json summary = start_summary("coercivity", params);
  summary["definition"] =
      "lambda_min of G v = lambda Gamma v: G the normal matrix (1/(MN)) sum psi psi^T of the A-known least squares, "
      "Gamma_kl = E_rho[B_k(u) B_l(u)] on fresh pairs; 1 = as well posed as direct regression on (u, phi(u))";
  CsvTable table;
  table.columns = {"tokens", "N", "d", "r", "K", "degree", "a", "b", "M", "rep", "lambda_min", "seconds"};
  ConvergenceFigure fig;
  fig.title = "coercivity: lambda_min(G, Gamma) vs M";
  fig.y_label = "lambda_min of G relative to the L2(rho) Gram matrix";
  std::size_t cell = 0;
  for (std::size_t l = 0; l < p.laws.size(); ++l) {
    const Law& law = *laws[l];
    const PairwiseModelSpec& m = p.models[l];
    ConvergenceSeries cs;
    cs.label = law.name;
    cs.draw_theory = false;
    cs.draw_fit = false;  // lambda_min converges to a level: no power law to draw
    const std::size_t M_largest = *std::max_element(p.M.begin(), p.M.end());
    std::vector<double> last;  // lambda_min of the seeds at the largest M
    for (std::size_t M : p.M) {
      std::vector<double> lam;
      for (int rep = 0; rep < p.seeds; ++rep, ++cell) {
        const double v = cells[cell].at("lambda_min");
        lam.push_back(v);
        cs.x.push_back(static_cast<double>(M));
        cs.y.push_back(std::max(v, 1e-300));
        table.rows.push_back({law.name, std::to_string(m.N), std::to_string(m.d), std::to_string(m.r),
                              std::to_string(p.K), std::to_string(p.degree), format_double(law.range->get().first),
                              format_double(law.range->get().second), std::to_string(M), std::to_string(rep), format_double(v),
                              format_double(cells[cell].at("seconds").get<double>())});
      }
      if (M == M_largest) last = lam;
    }
    // Student-t with k - 1 degrees of freedom and a seed bootstrap, as every mean over seeds
    // (docs/statistics.md): with the few seeds the study allows, a normal interval is far too
    // narrow (k = 3: 1.96 against t_2 = 4.30 standard errors).
    const MeanCi mc = mean_ci(last, 0.95, 2000, derive_seed(p.seed, {hash_name("coercivity-bootstrap"), hash_name(p.laws[l])}));
    std::vector<double> x, y;
    for (std::size_t i = 0; i < cs.x.size(); ++i) {
      x.push_back(std::log(cs.x[i]));
      y.push_back(std::log(cs.y[i]));
    }
    // The drift of lambda_min with M, for the figure and the details (one size: no drift fitted).
    std::optional<SlopeFit> drift;
    if (p.M.size() >= 2) drift = fit_slope(x, y, 0.95, 200, 1);
    if (drift) {
      cs.fit_slope = drift->slope;
      cs.fit_intercept = drift->intercept;
    }
    fig.series.push_back(cs);
    Measurement q = mean_measurement(mc, "coercivity", {{"tokens", p.laws[l]}}, WidthScale::linear);
    q.details.update({{"token_law", law.name},
                      {"se", mc.sd / std::sqrt(static_cast<double>(mc.count))},
                      {"M", M_largest},
                      {"seeds", p.seeds},
                      {"slope_vs_M", drift ? nlohmann::json(drift->slope) : nlohmann::json()},
                      {"N", m.N},
                      {"d", m.d},
                      {"r", m.r},
                      {"K", p.K},
                      {"degree", p.degree},
                      {"intervals", "mean over the seeds at M: Student-t (k - 1 degrees of freedom) and seed-bootstrap "
                                    "95% intervals"}});
    summary["quantities"].push_back(to_json(q));
  }
  fig.note = "dotted: " + short_number(p.mark) + "; the drift of lambda_min with M is in summary.json (slope_vs_M)";
  fig.marks_y = {p.mark};
  write_cells_csv(table, ctx);
  summary["figure"] = write_study_figure(fig, "coercivity", ctx);
  return summary;
}

}  // namespace

StudyDefinition coercivity_study() {
  return define_study(
      "coercivity", "lambda_min of the normal matrix relative to the L2(rho) Gram matrix vs M, per token law",
      coercivity_keys, {{"coercivity", "mean lambda_min(G, Gamma) over the seeds at the largest M", {"tokens"}}},
      read_plan, run_coercivity);
}

}  // namespace attnrate
