#include "studies/rfa/biased_weights.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> biased_weights_keys() {
  std::vector<KeySpec> k = attention_shape_keys("8");
  k.insert(k.end(), {
      {"heads", "64", "RFA heads M (1..10^6)"},
      score_activation_key(),
      weight_noise_key(),
      {"mu", "1,2,4", "mean scales of the biased law W = mu diag(I_d, 0) + noise (list, each > 0)"},
      {"target", "inner-poly:2,inner-poly:3,cos-inner,key-poly:2",
       "targets (list); inner-poly:p and cos-inner are the inner-product targets, the others the controls"},
  });
  for (auto& e : ridge_training_keys("250:8000:x2")) k.push_back(e);
  k.push_back({"from-n", "1000", "error-ratio-max and -min are taken over the grid n >= this (>= 1)"});
  for (auto& e : ridge_repetition_keys("10")) k.push_back(e);
  k.push_back(bootstrap_key());
  return k;
}

// The study's options: the ridge runs', then its own.
struct Config : RidgeRunOptions {
  AttentionLaw law;
  int N = 8, d = 8, heads = 64;
  RfaActivation act = RfaActivation::relu;
  double tau = 0.5;
  std::vector<double> mu;
  std::vector<std::string> targets;
  std::size_t from_n = 1000;
};

Config read_config(const Settings& s) {
  Config c;
  read_attention_shape(s, c.law, c.N, c.d);
  c.heads = static_cast<int>(s.get_int("heads", 1, 1000000));
  c.act = s.get_parsed("sigma-act", parse_rfa_activation);
  c.tau = s.get_double("tau", 0.0, 1e6, false);
  c.mu = get_double_list(s, "mu", 1e-12, 1e6);
  // Each mu names its cells and measurements by its short form: two that share it are one.
  for (std::size_t i = 0; i < c.mu.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (format_short(c.mu[i]) == format_short(c.mu[j]))
        throw InputError(s.source("mu") + (c.mu[i] == c.mu[j] ? " has repeated entries: '"
                                                               : " has entries too close to tell apart in the "
                                                                 "measurements' names (mu = " +
                                                                     format_short(c.mu[i]) + "): '") +
                         s.raw("mu") + "'");
  c.targets = get_string_list(s, "target");
  static_cast<RidgeRunOptions&>(c) = read_ridge_runs(s);
  c.from_n = static_cast<std::size_t>(s.get_int("from-n", 1, std::numeric_limits<long long>::max()));
  if (c.n.back() < c.from_n)
    throw InputError(s.source("from-n") + " = " + s.raw("from-n") + " exceeds every n of '" + s.raw("n") +
                     "': no n to measure error-ratio-max and -min at");
  check_study_targets(s, "target", c.targets, c.d, c.law);
  return c;
}

std::string law_label(double mu) {
  if (mu == 0) return "zero-mean";
  std::ostringstream s;
  s << "biased mu=" << mu;
  return s.str();
}

// One group: one weight law (mu = 0: zero-mean) and one repetition; rows per (n, target).
nlohmann::json run_group(const Config& c, const std::vector<StudyTarget>& targets, double mu, int rep) {
  const auto urep = static_cast<std::uint64_t>(rep);
  RandomFeatureAttention rfa(
      c.d, cell_layer(c.heads, c.act, mu == 0 ? WeightLaw::zero_mean : WeightLaw::biased, mu == 0 ? 1.0 : mu, c.tau,
                      derive_seed(c.seed, {hash_name("rfa-weights"), hash_name(law_label(mu)), urep})));
  // Inputs and noise do not depend on the law: the laws are compared on the same data.
  const AttentionInputs test = c.law.sample(c.d, c.N, c.test_n, derive_seed(c.seed, {hash_name("test"), urep}));
  std::vector<arma::vec> truth;
  for (const auto& t : targets) truth.push_back(t.evaluate(test));
  const TargetFitSeeds seeds{
      [&](std::size_t n) { return derive_seed(c.seed, {hash_name("train"), urep, n}); },
      [&](std::size_t n) { return derive_seed(c.seed, {hash_name("folds"), urep, n}); },
      [&](std::size_t n, const std::string& t) { return derive_seed(c.seed, {hash_name("noise"), urep, n, hash_name(t)}); }};
  return fit_targets_over_n(rfa, c.law, c.d, c.N, c.n, targets, rfa.features(test), truth, c.sigma, c.ridge, seeds,
                            {{"mu", mu}, {"law", law_label(mu)}, {"rep", rep}});
}

// A checkpointed cell must be the rows run_group writes, in its order, with finite errors.
void validate_group(const Config& c, const std::vector<StudyTarget>& targets, const std::vector<double>& laws,
                    const nlohmann::json& value) {
  check_rows(value, c.n.size() * targets.size());
  double mu = 0;
  int rep = 0;
  read_checkpoint_field(value[0], "mu", mu);
  read_checkpoint_field(value[0], "rep", rep);
  if (std::find(laws.begin(), laws.end(), mu) == laws.end() || rep < 0 || rep >= c.seeds)
    throw InputError("mu or rep of a cell out of range");
  std::size_t k = 0;
  for (std::size_t n : c.n)
    for (const auto& t : targets) {
      check_target_row(value[k], k + 1, {{"mu", mu}, {"law", law_label(mu)}, {"rep", rep}}, n, t.name());
      ++k;
    }
}

nlohmann::json run_biased_weights(const Config& c, const Settings& settings, const StudyContext& ctx) {
  std::vector<StudyTarget> targets;
  for (const auto& t : c.targets) targets.emplace_back(t, c.d, c.law, derive_seed(c.seed, {hash_name("target")}));

  std::filesystem::create_directories(ctx.out);
  nlohmann::json params = ridge_study_parameters(settings);
  params["pairing"] = "every law sees the same training inputs, noise and test inputs in a repetition";

  std::vector<double> laws = {0.0};
  for (double m : c.mu) laws.push_back(m);
  SweepSpec sweep = sweep_spec("biased-weights", params);
  const auto groups = add_repeated_cells(sweep, laws, c.seeds, [](double mu) {
    return file_stem(mu == 0 ? "zero-mean" : std::string("mu").append(format_short(mu)));
  });
  const auto results = run_sweep(
      ctx, sweep, [&](std::size_t g, int) { return run_group(c, targets, groups[g].first, groups[g].second); },
      [&](const nlohmann::json& value) { validate_group(c, targets, laws, value); });

  // error[(target, mu)][rep][n]
  std::map<std::pair<std::string, double>, std::vector<std::map<std::size_t, double>>> err;
  TargetRowTable table({"target", "law", "mu", "tau", "inputs", "N", "d", "heads", "sigma_act", "sigma", "lambda_rule"},
                       c.seed, c.test_n, c.ridge);
  for (const auto& group : results)
    for (const auto& r : group) {
      const std::string t = r.at("target");
      const double mu = r.at("mu");
      auto& e = err[{t, mu}];
      if (e.empty()) e.resize(c.seeds);
      e[r.at("rep").get<int>()][r.at("n").get<std::size_t>()] = r.at("error");
      table.add({t, r.at("law"), format_double(mu), format_double(c.tau), c.law.name(), std::to_string(c.N),
                 std::to_string(c.d), std::to_string(c.heads), to_string(c.act), format_double(c.sigma),
                 settings.raw("lambda")},
                r);
    }
  table.write(ctx);

  nlohmann::json summary = start_summary("biased-weights", params);
  table.summarise(summary);
  // The error ratio per n, and at the n >= from-n whose interval reaches highest and lowest.
  const std::uint64_t boot_seed = derive_seed(c.seed, {hash_name("bootstrap")});
  for (const auto& t : targets) {
    const std::string figure = "biased-weights-" + file_stem(t.name()) + ".png";
    for (double mu : c.mu) {
      const std::string mu_text = format_short(mu);
      nlohmann::json per_n = nlohmann::json::array();
      std::optional<std::pair<MeanCi, std::size_t>> highest, lowest;
      for (std::size_t n : c.n) {
        std::vector<double> lr;
        for (int r = 0; r < c.seeds; ++r) lr.push_back(std::log(err.at({t.name(), mu})[r].at(n) / err.at({t.name(), 0.0})[r].at(n)));
        const MeanCi m = mean_ci(lr, 0.95, c.bootstrap, boot_seed);
        Measurement at_n = exp_mean_measurement(m, "error-ratio", {{"target", t.name()}, {"mu", mu_text}, {"n", std::to_string(n)}});
        at_n.details["figure"] = figure;
        summary["quantities"].push_back(to_json(at_n));
        if (n < c.from_n) continue;
        per_n.push_back({{"n", n}, {"ratio", at_n.value}, {"ci_t", {at_n.ci_t_lo, at_n.ci_t_hi}},
                         {"ci_boot", {at_n.ci_boot_lo, at_n.ci_boot_hi}}});
        if (!highest || m.hi() > highest->first.hi()) highest = {m, n};
        if (!lowest || m.lo() < lowest->first.lo()) lowest = {m, n};
      }
      for (const auto& [quantity, extreme] : {std::pair{"error-ratio-max", highest}, std::pair{"error-ratio-min", lowest}}) {
        Measurement e = exp_mean_measurement(extreme->first, quantity, {{"target", t.name()}, {"mu", mu_text}});
        e.details["n"] = extreme->second;
        e.details["from_n"] = c.from_n;
        e.details["per_n"] = per_n;
        e.details["figure"] = figure;
        summary["quantities"].push_back(to_json(e));
      }
    }
  }

  nlohmann::json figures = nlohmann::json::array();
  for (const auto& t : targets) {
    SampleComplexityFigure fig;
    fig.title = "biased-weights: " + t.name() + ", N = " + std::to_string(c.N) + ", d = " + std::to_string(c.d) +
                ", M = " + std::to_string(c.heads) + ", tau = " + format_short(c.tau);
    fig.note = "sigma = " + format_short(c.sigma) + ", lambda " + settings.raw("lambda") + ", " + std::to_string(c.seeds) +
               " repetitions, paired data across laws";
    for (double mu : laws) {
      SampleComplexityCurve cu;
      cu.label = law_label(mu);
      const auto& e = err.at({t.name(), mu});
      for (const auto& rep : e)
        for (const auto& [n, v] : rep) cu.add(static_cast<double>(n), v);
      fig.add_curve(std::move(cu));
    }
    figures.push_back(write_study_figure(fig, "biased-weights-" + file_stem(t.name()), ctx));
  }
  summary["figures"] = figures;
  return summary;
}

}  // namespace

StudyDefinition biased_weights_study() {
  return define_study(
      "biased-weights", "zero-mean vs biased query-key weights: error ratio biased / zero-mean per target, mu and n",
      biased_weights_keys,
      {{"error-ratio",
        "error(biased) / error(zero-mean) at one n, geometric mean over repetitions",
        {"target", "mu", "n"}},
       {"error-ratio-max", "error-ratio at the n >= from-n whose interval reaches highest", {"target", "mu"}},
       {"error-ratio-min", "error-ratio at the n >= from-n whose interval reaches lowest", {"target", "mu"}}},
      read_config, run_biased_weights);
}

}  // namespace attnrate
