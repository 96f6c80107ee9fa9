#include "studies/rfa/target_complexity.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/stats/sample_complexity.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> target_complexity_keys() {
  const std::vector<KeySpec> own = {
      {"N", "4", "keys per sample (1..10^6)"},
      {"d", "4,8,16", "token dimensions (list, each 1..10000)"},
      {"p", "1,2,3,4", "polynomial degrees (list, each 1..10)"},
      {"family", "key-poly,inner-poly", "target families (list): key-poly | inner-poly"},
  };
  return sample_complexity_study_keys(own, {.heads = "64", .heads_detail = "", .n = "32:8192:x2", .seeds = "4", .eps = "0.5"});
}

// The study's options: the attention layer's, the sample-complexity runs', then its own.
struct Config : AttentionLayerOptions, SampleComplexityOptions {
  AttentionLaw law;
  int N = 4;
  std::vector<std::size_t> d, p;
  std::vector<std::string> families;
};

template <class T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string target_name(const std::string& family, std::size_t p) { return family + ":" + std::to_string(p); }

Config read_config(const Settings& s) {
  Config c;
  c.law = s.get_parsed("inputs", AttentionLaw::parse);
  c.N = static_cast<int>(s.get_int("N", 1, 1000000));
  c.d = s.get_sizes("d", 1, 10000);
  static_cast<AttentionLayerOptions&>(c) = read_attention_layer(s);
  c.p = s.get_sizes("p", 1);
  for (auto p : c.p)
    if (p > 10) throw InputError(s.source("p") + ": degrees must be in 1..10, got " + std::to_string(p));
  c.families = get_string_list(s, "family");
  for (std::size_t k = 0; k < c.families.size(); ++k) {
    const std::string& f = c.families[k];
    if (f != "key-poly" && f != "inner-poly")
      throw InputError(s.source("family") + ": unknown family '" + f + "'; valid: key-poly, inner-poly");
    if (std::find(c.families.begin(), c.families.begin() + static_cast<std::ptrdiff_t>(k), f) !=
        c.families.begin() + static_cast<std::ptrdiff_t>(k))
      throw InputError(s.source("family") + " has repeated entries: '" + s.raw("family") + "'");
  }
  static_cast<SampleComplexityOptions&>(c) = read_sample_complexity(s);
  sort_unique(c.d);
  sort_unique(c.p);
  if (c.p.size() < 2)  // the quantity compares consecutive degrees
    throw InputError(s.source("p") + " needs at least two distinct degrees (n-eps-ratio compares n_eps at consecutive p), got '" +
                     s.raw("p") + "'");
  for (std::size_t d : c.d)
    for (const auto& f : c.families)
      for (std::size_t p : c.p) StudyTarget(target_name(f, p), static_cast<int>(d), c.law, 0);
  return c;
}

// One group: one d and one repetition; the RFA features are shared by every target.
nlohmann::json run_group(const Config& c, std::size_t d, int rep) {
  const auto urep = static_cast<std::uint64_t>(rep);
  const int di = static_cast<int>(d);
  std::vector<StudyTarget> targets;
  for (const auto& f : c.families)
    for (std::size_t p : c.p)
      targets.emplace_back(target_name(f, p), di, c.law, derive_seed(c.seed, {hash_name("target"), d}));
  RandomFeatureAttention rfa(
      di, cell_layer(c.heads, c.act, c.weights, c.mu, c.tau, derive_seed(c.seed, {hash_name("rfa-weights"), d, urep})));
  const AttentionInputs test = c.law.sample(di, c.N, c.test_n, derive_seed(c.seed, {hash_name("test"), d, urep}));
  std::vector<arma::vec> truth;
  for (const auto& t : targets) truth.push_back(t.evaluate(test));
  const TargetFitSeeds seeds{
      [&](std::size_t n) { return derive_seed(c.seed, {hash_name("train"), d, urep, n}); },
      [&](std::size_t n) { return derive_seed(c.seed, {hash_name("folds"), d, urep, n}); },
      [&](std::size_t n, const std::string& t) {
        return derive_seed(c.seed, {hash_name("noise"), d, urep, n, hash_name(t)});
      }};
  return fit_targets_over_n(rfa, c.law, di, c.N, c.n, targets, rfa.features(test), truth, c.sigma, c.ridge, seeds,
                            {{"d", d}, {"rep", rep}});
}

// A checkpointed cell must be the rows run_group writes, in its order, with finite errors.
void validate_group(const Config& c, const nlohmann::json& value) {
  check_rows(value, c.n.size() * c.families.size() * c.p.size());
  std::size_t d = 0;
  int rep = 0;
  read_checkpoint_field(value[0], "d", d);
  read_checkpoint_field(value[0], "rep", rep);
  if (std::find(c.d.begin(), c.d.end(), d) == c.d.end() || rep < 0 || rep >= c.seeds)
    throw InputError("d or rep of a cell out of range");
  std::size_t k = 0;
  for (std::size_t n : c.n)
    for (const auto& f : c.families)
      for (std::size_t p : c.p) {
        check_target_row(value[k], k + 1, {{"d", d}, {"rep", rep}}, n, target_name(f, p));
        ++k;
      }
}

nlohmann::json run_target_complexity(const Config& c, const Settings& settings, const StudyContext& ctx) {

  std::filesystem::create_directories(ctx.out);
  nlohmann::json params = ridge_study_parameters(settings);
  SweepSpec sweep = sweep_spec("target-complexity", params);
  const auto groups =
      add_repeated_cells(sweep, c.d, c.seeds, [](std::size_t d) { return std::string("d").append(std::to_string(d)); });
  const auto results = run_sweep(
      ctx, sweep, [&](std::size_t g, int) { return run_group(c, groups[g].first, groups[g].second); },
      [&](const nlohmann::json& value) { validate_group(c, value); });

  // error[(target, d)][rep][n index]
  std::map<std::size_t, std::size_t> n_index;
  for (std::size_t i = 0; i < c.n.size(); ++i) n_index[c.n[i]] = i;
  std::map<std::pair<std::string, std::size_t>, std::vector<std::vector<double>>> err;
  TargetRowTable table(
      {"target", "inputs", "N", "d", "heads", "sigma_act", "weights", "mu", "tau", "sigma", "lambda_rule"}, c.seed,
      c.test_n, c.ridge);
  for (const auto& group : results)
    for (const auto& r : group) {
      const std::string t = r.at("target");
      const std::size_t d = r.at("d"), n = r.at("n");
      auto& e = err[{t, d}];
      if (e.empty()) e.assign(c.seeds, std::vector<double>(c.n.size(), std::numeric_limits<double>::quiet_NaN()));
      e[r.at("rep").get<int>()][n_index.at(n)] = r.at("error");
      table.add({t, c.law.name(), std::to_string(c.N), std::to_string(d), std::to_string(c.heads), to_string(c.act),
                 to_string(c.weights), format_double(c.mu), format_double(c.tau), format_double(c.sigma),
                 settings.raw("lambda")},
                r);
    }
  table.write(ctx);

  const std::vector<double> ns(c.n.begin(), c.n.end());
  std::map<std::pair<std::string, std::size_t>, std::vector<Crossing>> cross;
  nlohmann::json neps = nlohmann::json::array();
  for (const auto& [key, reps] : err) {
    std::vector<double> at_largest_n;
    for (const auto& curve : reps) {
      cross[key].push_back(crossing_n(ns, curve, c.eps));
      at_largest_n.push_back(curve.back());
    }
    nlohmann::json entry = {{"target", key.first}, {"d", key.second}, {"error_at_largest_n_per_rep", at_largest_n}};
    entry.update(n_eps_record(cross[key]));
    neps.push_back(std::move(entry));
  }

  nlohmann::json summary = start_summary("target-complexity", params);
  table.summarise(summary);
  summary["eps"] = c.eps;
  summary["n_eps"] = neps;

  // n_eps(p') / n_eps(p) for each family, d and consecutive pair of degrees p < p'.
  const std::uint64_t boot_seed = derive_seed(c.seed, {hash_name("bootstrap")});
  const bool figure_drawn = std::any_of(cross.begin(), cross.end(), [](const auto& entry) {
    return std::any_of(entry.second.begin(), entry.second.end(),
                       [](const Crossing& x) { return x.censoring == Censoring::none; });
  });
  for (const auto& f : c.families)
    for (std::size_t d : c.d)
      for (std::size_t i = 0; i + 1 < c.p.size(); ++i) {
        const auto& a = cross.at({target_name(f, c.p[i]), d});
        const auto& b = cross.at({target_name(f, c.p[i + 1]), d});
        std::vector<double> lr;
        for (int r = 0; r < c.seeds; ++r) lr.push_back(std::log(b[r].n / a[r].n));
        Measurement m = exp_mean_measurement(mean_ci(lr, 0.95, c.bootstrap, boot_seed), "n-eps-ratio",
                                             {{"family", f}, {"d", std::to_string(d)}, {"p", std::to_string(c.p[i])}});
        for (int r = 0; r < c.seeds; ++r) {
          add_censoring(m, b[r].censoring, +1);
          add_censoring(m, a[r].censoring, -1);
        }
        m.details["p_next"] = c.p[i + 1];
        m.details["eps"] = c.eps;
        m.details["per_rep"] = nlohmann::json::array();
        for (double x : lr) m.details["per_rep"].push_back(std::exp(x));
        m.details["figure"] = figure_drawn ? "n-eps-vs-p.png" : "target-complexity-d" + std::to_string(d) + ".png";
        summary["quantities"].push_back(to_json(m));
      }

  // Figures: n_eps against p (curves per family and d, uncensored repetitions only) and the
  // error curves per d.
  nlohmann::json figures = nlohmann::json::array();
  {
    SampleComplexityFigure fig;
    fig.title = "target-complexity: n_eps (error " + format_short(c.eps) + ") against degree p, N = " + std::to_string(c.N) +
                ", M = " + std::to_string(c.heads);
    fig.x_label = "degree p";
    fig.y_label = "n_eps (training samples to reach error " + format_short(c.eps) + ")";
    int censored = 0;
    for (const auto& f : c.families)
      for (std::size_t d : c.d) {
        SampleComplexityCurve cu;
        cu.label = f + ", d = " + std::to_string(d);
        for (std::size_t p : c.p)
          for (const auto& x : cross.at({target_name(f, p), d})) {
            if (x.censoring != Censoring::none) {
              ++censored;
              continue;
            }
            cu.add(static_cast<double>(p), x.n);
          }
        fig.add_curve(std::move(cu));
      }
    fig.note = std::to_string(censored) + " censored repetitions (n_eps outside the n grid) not drawn; see summary.json";
    if (!fig.curves.empty()) {
      figures.push_back(write_study_figure(fig, "n-eps-vs-p", ctx));
    } else {
      summary["figure_note"] = "every n_eps is censored: no n_eps-vs-p figure";
    }
  }
  for (std::size_t d : c.d) {
    SampleComplexityFigure fig;
    fig.title = "target-complexity: error vs n, d = " + std::to_string(d) + ", N = " + std::to_string(c.N) +
                ", M = " + std::to_string(c.heads);
    fig.note = "dotted: eps = " + format_short(c.eps) + ", open markers: n_eps (geometric mean), sigma = " + format_short(c.sigma) + ", lambda " + settings.raw("lambda") + ", " + to_string(c.weights);
    for (const auto& f : c.families)
      for (std::size_t p : c.p) {
        SampleComplexityCurve cu;
        cu.label = target_name(f, p);
        for (const auto& curve : err.at({target_name(f, p), d}))
          for (std::size_t i = 0; i < c.n.size(); ++i) cu.add(static_cast<double>(c.n[i]), curve[i]);
        mark_n_eps(cu, cross.at({target_name(f, p), d}));
        fig.add_curve(std::move(cu));
      }
    fig.marks_y = {c.eps};
    fig.eps = c.eps;
    figures.push_back(write_study_figure(fig, "target-complexity-d" + std::to_string(d), ctx));
  }
  summary["figures"] = figures;
  return summary;
}

}  // namespace

StudyDefinition target_complexity_study() {
  return define_study(
      "target-complexity", "n_eps of key-poly:p and inner-poly:p against p and d", target_complexity_keys,
      {{"n-eps-ratio", "n_eps(next p) / n_eps(p), geometric mean over repetitions", {"family", "d", "p"}}}, read_config,
      run_target_complexity);
}

}  // namespace attnrate
