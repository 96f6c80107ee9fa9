#include "studies/rfa/rfa_vs_mlp.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/stats/sample_complexity.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"
#include "studies/sweep/cell_fields.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> rfa_vs_mlp_keys() {
  const std::vector<KeySpec> own = {
      {"N", "2,8,32", "numbers of keys (list, each 1..10^6)"},
      dimension_key(),
      {"mlp-act", "relu", "RF-MLP activation: relu | exp"},
      {"target", "key-poly:2,mixed:2,first-key,first-key-poly:2",
       "targets (list): inner-poly:p | key-poly:p | mixed:p | cos-inner[:w] | first-key | first-key-poly:p"},
  };
  return sample_complexity_study_keys(
      own, {.heads = "64", .heads_detail = "the RF-MLP gets M(d+1) neurons", .n = "250:16000:x2", .seeds = "10", .eps = "0.2"});
}

// The study's options: the attention layer's, the sample-complexity runs', then its own.
struct Config : AttentionLayerOptions, SampleComplexityOptions {
  AttentionLaw law;
  std::vector<std::size_t> N;
  int d = 8;
  MlpActivation mlp_act = MlpActivation::relu;
  std::vector<std::string> targets;
};

Config read_config(const Settings& s) {
  Config c;
  c.law = s.get_parsed("inputs", AttentionLaw::parse);
  c.N = s.get_sizes("N", 1, 1000000);
  c.d = static_cast<int>(s.get_int("d", 1, 10000));
  static_cast<AttentionLayerOptions&>(c) = read_attention_layer(s);
  c.mlp_act = s.get_parsed("mlp-act", parse_mlp_activation);
  c.targets = get_string_list(s, "target");
  static_cast<SampleComplexityOptions&>(c) = read_sample_complexity(s);
  std::sort(c.N.begin(), c.N.end());
  c.N.erase(std::unique(c.N.begin(), c.N.end()), c.N.end());
  check_study_targets(s, "target", c.targets, c.d, c.law);
  return c;
}

struct Row {
  std::size_t N = 0, n = 0;
  int rep = 0;
  std::string target, model;
  double error = 0, error_se = 0, lambda = 0, seconds = 0;
  bool lambda_at_edge = false;
  std::string solver;
};

template <class R>  // Row or const Row
auto fields_of(R& r) {
  return std::make_tuple(field("N", r.N), field("n", r.n), field("rep", r.rep), field("target", r.target),
                         field("model", r.model), field("error", r.error), field("error_se", r.error_se),
                         field("lambda", r.lambda), field("lambda_at_edge", r.lambda_at_edge),
                         field("seconds", r.seconds), field("solver", r.solver));
}

nlohmann::json to_json(const Row& r) { return fields_to_json(fields_of(r)); }

Row from_json(const nlohmann::json& j) {
  Row r;
  fields_from_json(j, fields_of(r));
  return r;
}

nlohmann::json run_group(const Config& c, const std::vector<StudyTarget>& targets, std::size_t N, int rep) {
  const auto urep = static_cast<std::uint64_t>(rep);
  RandomFeatureAttention rfa(
      c.d, cell_layer(c.heads, c.act, c.weights, c.mu, c.tau, derive_seed(c.seed, {hash_name("rfa-weights"), N, urep})));
  RfMlpOptions mo;
  mo.match_heads = c.heads;
  mo.activation = c.mlp_act;
  mo.seed = derive_seed(c.seed, {hash_name("mlp-weights"), N, urep});
  mo.threads = 1;
  RandomFeatureMlp mlp(c.d, static_cast<int>(N), mo);

  const AttentionInputs test = c.law.sample(c.d, static_cast<int>(N), c.test_n, derive_seed(c.seed, {hash_name("test"), N, urep}));
  std::vector<arma::vec> truth;
  for (const auto& t : targets) truth.push_back(t.evaluate(test));
  const arma::mat test_rfa = rfa.features(test), test_mlp = mlp.features(test);

  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t n : c.n) {
    const AttentionInputs train =
        c.law.sample(c.d, static_cast<int>(N), n, derive_seed(c.seed, {hash_name("train"), N, urep, n}));
    auto t0 = std::chrono::steady_clock::now();
    const arma::mat F_rfa = rfa.features(train);
    const double feat_rfa = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const arma::mat F_mlp = mlp.features(train);
    const double feat_mlp = seconds_since(t0);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      arma::vec y = targets[k].evaluate(train);
      add_noise(y, c.sigma, derive_seed(c.seed, {hash_name("noise"), N, urep, n, hash_name(targets[k].name())}));
      RidgeFitOptions ridge = c.ridge;
      ridge.fold_seed = derive_seed(c.seed, {hash_name("folds"), N, urep, n});
      for (int model = 0; model < 2; ++model) {
        t0 = std::chrono::steady_clock::now();
        const RidgeFit fit = model == 0 ? rfa.fit_features(F_rfa, y, ridge) : mlp.fit_features(F_mlp, y, ridge);
        const arma::vec pred = (model == 0 ? test_rfa : test_mlp) * fit.solution.w;
        const TestError e = normalised_test_error(pred, truth[k]);
        Row r;
        r.N = N;
        r.n = n;
        r.rep = rep;
        r.target = targets[k].name();
        r.model = model == 0 ? "rfa" : "mlp";
        r.error = e.error;
        r.error_se = e.se;
        r.lambda = fit.solution.lambda;
        r.lambda_at_edge = fit.selection.at_edge;
        r.solver = fit.solution.solver;
        r.seconds = seconds_since(t0) + (model == 0 ? feat_rfa : feat_mlp) / static_cast<double>(targets.size());
        rows.push_back(to_json(r));
      }
    }
  }
  return rows;
}

// Crossings per (target, N, model): one per repetition, in rep order.
using CurveKey = std::tuple<std::string, std::size_t, std::string>;

struct Curves {
  std::map<CurveKey, std::vector<std::vector<double>>> error;  // [rep][n index]
  std::map<CurveKey, std::vector<Crossing>> crossing;
};

Curves build_curves(const Config& c, const std::vector<Row>& rows) {
  Curves cv;
  std::map<std::size_t, std::size_t> n_index;
  for (std::size_t i = 0; i < c.n.size(); ++i) n_index[c.n[i]] = i;
  for (const auto& r : rows) {
    auto& e = cv.error[{r.target, r.N, r.model}];
    if (e.empty()) e.assign(c.seeds, std::vector<double>(c.n.size(), std::numeric_limits<double>::quiet_NaN()));
    e[r.rep][n_index.at(r.n)] = r.error;
  }
  std::vector<double> ns(c.n.begin(), c.n.end());
  for (const auto& [key, reps] : cv.error)
    for (const auto& curve : reps) cv.crossing[key].push_back(crossing_n(ns, curve, c.eps));
  return cv;
}

// A checkpointed cell must be the rows run_group writes, in its order, with finite errors.
void validate_group(const Config& c, const std::vector<StudyTarget>& targets, const nlohmann::json& value) {
  check_rows(value, c.n.size() * targets.size() * 2);
  const Row first = from_json(value[0]);
  if (std::find(c.N.begin(), c.N.end(), first.N) == c.N.end() || first.rep < 0 || first.rep >= c.seeds)
    throw InputError("N or rep of a cell out of range");
  std::size_t k = 0;
  for (std::size_t n : c.n)
    for (const auto& t : targets)
      for (const char* model : {"rfa", "mlp"}) {
        const Row r = from_json(value[k++]);
        if (r.N != first.N || r.rep != first.rep || r.n != n || r.target != t.name() || r.model != model)
          throw InputError("row " + std::to_string(k) + " of a cell is not the expected (N, rep, n, target, model)");
        check_nonnegative(r.error, "error");
        check_nonnegative(r.error_se, "error_se");
        check_nonnegative(r.lambda, "lambda");
      }
}

// The mean over repetitions of per-repetition log ratios of n_eps as a ratio measurement; the
// per-repetition ratios go to details.
Measurement log_ratio_measurement(const Config& c, const std::string& quantity, std::map<std::string, std::string> select,
                                  const std::vector<double>& log_values) {
  const MeanCi m = mean_ci(log_values, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
  Measurement r = exp_mean_measurement(m, quantity, std::move(select));
  r.details["per_rep"] = nlohmann::json::array();
  for (double x : log_values) r.details["per_rep"].push_back(std::exp(x));
  r.details["eps"] = c.eps;
  return r;
}

// RFA's spread of n_eps across N: max over N / min over N of the geometric means. Its t-interval
// is that of the log ratio for the (argmax, argmin) pair, repetitions paired by index, clamped at
// 1 (the spread is >= 1 by construction); its bootstrap resamples repetitions within each N and
// recomputes the spread.
Measurement spread_measurement(const Config& c, const Curves& cv, const std::string& target) {
  std::vector<std::vector<double>> logs;
  std::vector<std::vector<Censoring>> cens;
  for (std::size_t N : c.N) {
    logs.emplace_back();
    cens.emplace_back();
    for (const auto& x : cv.crossing.at({target, N, "rfa"})) {
      logs.back().push_back(std::log(x.n));
      cens.back().push_back(x.censoring);
    }
  }
  auto spread = [](const std::vector<std::vector<double>>& L, std::size_t* imax, std::size_t* imin) {
    std::vector<double> means;
    for (const auto& l : L) {
      double s = 0;
      for (double x : l) s += x;
      means.push_back(s / static_cast<double>(l.size()));
    }
    const auto mx = std::max_element(means.begin(), means.end()), mn = std::min_element(means.begin(), means.end());
    if (imax) *imax = static_cast<std::size_t>(mx - means.begin());
    if (imin) *imin = static_cast<std::size_t>(mn - means.begin());
    return *mx - *mn;
  };
  std::size_t imax = 0, imin = 0;
  const double s_log = spread(logs, &imax, &imin);
  const std::uint64_t boot_seed = derive_seed(c.seed, {hash_name("bootstrap")});
  std::vector<double> diff;
  for (int r = 0; r < c.seeds; ++r) diff.push_back(logs[imax][r] - logs[imin][r]);
  const MeanCi m = mean_ci(diff, 0.95, 1, boot_seed);
  Rng rng(boot_seed);
  std::vector<double> boot;
  for (int b = 0; b < c.bootstrap; ++b) {
    std::vector<std::vector<double>> L = logs;
    for (std::size_t i = 0; i < L.size(); ++i)
      for (auto& x : L[i]) x = logs[i][rng.below(logs[i].size())];
    boot.push_back(spread(L, nullptr, nullptr));
  }
  Measurement r;
  r.quantity = "rfa-n-spread";
  r.select = {{"target", target}};
  r.value = std::exp(s_log);
  r.ci_t_lo = std::exp(std::max(0.0, m.t_lo));
  r.ci_t_hi = std::exp(std::max(0.0, m.t_hi));
  r.ci_boot_lo = std::exp(quantile_type7(boot, 0.025));
  r.ci_boot_hi = std::exp(quantile_type7(boot, 0.975));
  r.width_scale = WidthScale::log;
  for (int k = 0; k < c.seeds; ++k) {
    add_censoring(r, cens[imax][k], +1);
    add_censoring(r, cens[imin][k], -1);
  }
  r.details["N_max"] = c.N[imax];
  r.details["N_min"] = c.N[imin];
  r.details["ci_t_note"] = "t-interval of the log ratio for the (N_max, N_min) pair, repetitions paired by index, clamped at 1";
  r.details["eps"] = c.eps;
  return r;
}

nlohmann::json run_rfa_vs_mlp(const Config& c, const Settings& settings, const StudyContext& ctx) {

  std::vector<StudyTarget> targets;
  for (const auto& t : c.targets) targets.emplace_back(t, c.d, c.law, derive_seed(c.seed, {hash_name("target")}));

  std::filesystem::create_directories(ctx.out);
  nlohmann::json params = ridge_study_parameters(settings);
  params["mlp_width"] = static_cast<std::size_t>(c.heads) * (c.d + 1);

  SweepSpec sweep = sweep_spec("rfa-vs-mlp", params);
  const auto groups =
      add_repeated_cells(sweep, c.N, c.seeds, [](std::size_t N) { return std::string("N").append(std::to_string(N)); });
  const auto results = run_sweep(
      ctx, sweep, [&](std::size_t g, int) { return run_group(c, targets, groups[g].first, groups[g].second); },
      [&](const nlohmann::json& value) { validate_group(c, targets, value); });
  std::vector<Row> rows;
  for (const auto& group : results)
    for (const auto& j : group) rows.push_back(from_json(j));

  // cells.csv
  CsvTable table;
  table.columns = {"target", "model", "inputs", "N", "d", "heads", "params", "sigma_act", "mlp_act", "weights", "mu",
                   "tau", "sigma", "lambda_rule", "n", "rep", "seed", "test_n", "error", "error_se", "lambda",
                   "lambda_at_edge", "solver", "seconds"};
  for (const auto& r : rows)
    table.rows.push_back({r.target, r.model, c.law.name(), std::to_string(r.N), std::to_string(c.d),
                          std::to_string(c.heads), std::to_string(static_cast<std::size_t>(c.heads) * (c.d + 1)),
                          to_string(c.act), to_string(c.mlp_act), to_string(c.weights), format_double(c.mu),
                          format_double(c.tau), format_double(c.sigma), settings.raw("lambda"), std::to_string(r.n),
                          std::to_string(r.rep), std::to_string(c.seed), std::to_string(c.test_n),
                          format_double(r.error), format_double(r.error_se), format_double(r.lambda),
                          r.lambda_at_edge ? "1" : "0", r.solver, format_double(r.seconds)});
  write_cells_csv(table, ctx);

  const Curves cv = build_curves(c, rows);
  nlohmann::json summary = start_summary("rfa-vs-mlp", params);
  summary["cells_total"] = rows.size();

  // n_eps table per (target, N, model).
  nlohmann::json neps = nlohmann::json::array();
  for (const auto& [key, cr] : cv.crossing) {
    nlohmann::json entry = {{"target", std::get<0>(key)}, {"N", std::get<1>(key)}, {"model", std::get<2>(key)}};
    entry.update(n_eps_record(cr));
    neps.push_back(std::move(entry));
  }
  summary["eps"] = c.eps;
  summary["n_eps"] = neps;

  std::vector<Measurement> measured;
  for (const auto& t : targets) {
    const std::string& tn = t.name();
    const std::string figure = "rfa-vs-mlp-" + file_stem(tn) + ".png";
    const std::size_t first = measured.size();
    // The MLP/RFA n_eps ratio at each N.
    for (std::size_t N : c.N) {
      const auto& mlp = cv.crossing.at({tn, N, "mlp"});
      const auto& rfa = cv.crossing.at({tn, N, "rfa"});
      std::vector<double> lr;
      for (int r = 0; r < c.seeds; ++r) lr.push_back(std::log(mlp[r].n / rfa[r].n));
      Measurement m = log_ratio_measurement(c, "n-ratio", {{"target", tn}, {"N", std::to_string(N)}}, lr);
      for (int r = 0; r < c.seeds; ++r) {
        add_censoring(m, mlp[r].censoring, +1);
        add_censoring(m, rfa[r].censoring, -1);
      }
      measured.push_back(m);
    }
    // Its growth between consecutive N: [n_mlp / n_rfa](Nb) / [n_mlp / n_rfa](Na).
    for (std::size_t i = 0; i + 1 < c.N.size(); ++i) {
      const std::size_t Na = c.N[i], Nb = c.N[i + 1];
      const auto& ma = cv.crossing.at({tn, Na, "mlp"});
      const auto& ra = cv.crossing.at({tn, Na, "rfa"});
      const auto& mb = cv.crossing.at({tn, Nb, "mlp"});
      const auto& rb = cv.crossing.at({tn, Nb, "rfa"});
      std::vector<double> lr;
      for (int r = 0; r < c.seeds; ++r) lr.push_back(std::log(mb[r].n / rb[r].n) - std::log(ma[r].n / ra[r].n));
      Measurement m = log_ratio_measurement(
          c, "ratio-growth", {{"target", tn}, {"from-N", std::to_string(Na)}, {"to-N", std::to_string(Nb)}}, lr);
      for (int r = 0; r < c.seeds; ++r) {
        add_censoring(m, mb[r].censoring, +1);
        add_censoring(m, rb[r].censoring, -1);
        add_censoring(m, ma[r].censoring, -1);
        add_censoring(m, ra[r].censoring, +1);
      }
      measured.push_back(m);
    }
    if (c.N.size() >= 2) measured.push_back(spread_measurement(c, cv, tn));
    // The errors at the largest n; for a non-invariant target, compare with the best
    // permutation-invariant error.
    for (std::size_t N : c.N)
      for (const std::string model : {"rfa", "mlp"}) {
        std::vector<double> last;
        for (const auto& cu : cv.error.at({tn, N, model})) last.push_back(cu.back());
        const MeanCi e = mean_ci(last, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("bootstrap")}));
        Measurement m = mean_measurement(e, model + "-error", {{"target", tn}, {"N", std::to_string(N)}}, WidthScale::log);
        m.details["n"] = c.n.back();
        m.details["per_rep"] = last;
        if (!t.is_permutation_invariant()) m.details["invariant_floor"] = t.invariant_floor(static_cast<int>(N));
        measured.push_back(m);
      }
    for (std::size_t k = first; k < measured.size(); ++k) {
      measured[k].details["permutation_invariant"] = t.is_permutation_invariant();
      measured[k].details["figure"] = figure;
    }
  }
  for (const auto& m : measured) summary["quantities"].push_back(to_json(m));

  // Figures: one per target, curves per (model, N).
  nlohmann::json figures = nlohmann::json::array();
  for (const auto& t : targets) {
    SampleComplexityFigure fig;
    fig.title = "rfa-vs-mlp: " + t.name() + ", d = " + std::to_string(c.d) + ", M = " + std::to_string(c.heads) +
                " heads vs RF-MLP width " + std::to_string(c.heads * (c.d + 1));
    fig.note = "dotted: eps = " + format_short(c.eps) + ", open markers: n_eps (geometric mean), sigma = " + format_short(c.sigma) + ", lambda " + settings.raw("lambda") + ", " +
               std::to_string(c.seeds) + " repetitions";
    for (const std::string model : {"rfa", "mlp"})
      for (std::size_t N : c.N) {
        SampleComplexityCurve cu;
        cu.label = std::string(model == "rfa" ? "RFA" : "RF-MLP") + ", N = " + std::to_string(N);
        for (const auto& r : rows)
          if (r.target == t.name() && r.model == model && r.N == N) cu.add(static_cast<double>(r.n), r.error);
        if (const auto it = cv.crossing.find({t.name(), N, model}); it != cv.crossing.end()) mark_n_eps(cu, it->second);
        fig.add_curve(std::move(cu));
      }
    fig.marks_y = {c.eps};
    fig.eps = c.eps;
    figures.push_back(write_study_figure(fig, "rfa-vs-mlp-" + file_stem(t.name()), ctx));
  }
  summary["figures"] = figures;
  LambdaEdgeCount edges(searched_lambda_grid(c.ridge));
  for (const auto& r : rows) edges.add(c.ridge.rule != LambdaRule::fixed, r.lambda_at_edge, r.lambda);
  summary["lambda_at_grid_edge"] = edges.to_json();
  return summary;
}

}  // namespace

StudyDefinition rfa_vs_mlp_study() {
  return define_study(
      "rfa-vs-mlp",
      "RFA vs RF-MLP with as many trainable parameters: n to reach error eps per target and N, their ratio, its "
      "growth with N, RFA's spread across N, errors at the largest n (non-invariant controls)",
      rfa_vs_mlp_keys,
      {{"n-ratio", "n_eps(RF-MLP) / n_eps(RFA), geometric mean over repetitions", {"target", "N"}},
       {"ratio-growth",
        "n-ratio at to-N / n-ratio at from-N (consecutive N), geometric mean over repetitions",
        {"target", "from-N", "to-N"}},
       {"rfa-n-spread", "max / min over N of RFA's geometric-mean n_eps", {"target"}},
       {"rfa-error", "RFA's mean normalised test error at the largest n (details: invariant_floor)", {"target", "N"}},
       {"mlp-error",
        "the RF-MLP's mean normalised test error at the largest n (details: invariant_floor)",
        {"target", "N"}}},
      read_config, run_rfa_vs_mlp);
}

}  // namespace attnrate
