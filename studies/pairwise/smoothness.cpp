#include "studies/pairwise/smoothness.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "plots/convergence_plot.hpp"
#include "plots/slope_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_options.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "studies/stats/smoothness_estimate.hpp"
#include "estimators/common/random.hpp"
#include "theory/pairwise/activation.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> smoothness_keys() {
  std::vector<KeySpec> k = {
      {"erm-activations", "bspline:3,bspline:8", "phi fitted with A unknown (the paper's P_true = P_est)"},
      {"known-activations", "weierstrass:0.5,weierstrass:1,weierstrass:1.5,weierstrass:2,weierstrass:3",
       "phi fitted with A known (least squares, as minimax-rate)"},
      token_law_key(),
      tokens_per_sample_key("8"),
      token_dimension_key("5"),
      interaction_rank_key("1"),
      {"sigma", "2", "noise level of the A-unknown series (>= 0; see README: variance-dominated regime)", "FLOAT"},
      {"sigma-known", "2", "noise level of the A-known series (>= 0; see README: variance-dominated regime)", "FLOAT"},
      {"M-known", "500:32000:x2", "sample sizes of the A-known series"},
      {"cK-known", "4", "schedule constant of the A-known series (README: tuned for sigma = 2; > 0)", "FLOAT"},
  };
  for (auto& e : estimator_keys("500:8000:x2", "4")) k.push_back(e);
  for (auto& e : schedule_keys()) k.push_back(e);
  return k;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Plan {
  EstimatorConfig c;
  std::vector<Series> series;  // the A-unknown series, then the A-known ones
};

Plan read_plan(const Settings& settings) {
  Plan p;
  p.c = read_estimator(settings);
  read_schedule(settings, p.c);
  if (p.c.adaptive && settings.given("cK-known"))
    throw InputError(settings.source("cK-known") + " has no effect with --schedule adaptive (K is selected from the "
                     "data, up to --max-knots); leave it out");
  const auto erm_acts = settings.get_list("erm-activations").empty()
                            ? std::vector<std::string>{}
                            : activation_list(settings, "erm-activations", true);
  const auto known_acts = settings.get_list("known-activations").empty()
                              ? std::vector<std::string>{}
                              : activation_list(settings, "known-activations", false);
  if (erm_acts.empty() && known_acts.empty())
    throw InputError("smoothness: --erm-activations and --known-activations are both empty");
  PairwiseModelSpec base;
  base.tokens = read_token_law_name(settings);
  read_token_shape(settings, base);
  const double sigma = settings.get_double("sigma", 0.0, kInf);
  const double sigma_known = settings.get_double("sigma-known", 0.0, kInf);
  const auto M_known = settings.get_sizes("M-known", 16);
  const double cK_known = settings.get_double("cK-known", 0.0, kInf, false);
  // A slope needs two sizes.
  if (!erm_acts.empty() && p.c.M.size() < 2)
    throw InputError(settings.source("M") + " needs at least two distinct sample sizes");
  if (!known_acts.empty() && M_known.size() < 2)
    throw InputError(settings.source("M-known") + " needs at least two distinct sample sizes");
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
    s.cK = known ? cK_known : p.c.cK;
    s.M = known ? M_known : p.c.M;
    s.label = act + (known ? " (A known)" : " (A unknown)");
    p.series.push_back(s);
  };
  for (const auto& a : erm_acts) add(a, false);
  for (const auto& a : known_acts) add(a, true);
  return p;
}

nlohmann::json run_smoothness(const Plan& plan, const Settings& settings, const StudyContext& ctx) {
  const EstimatorConfig& c = plan.c;
  const nlohmann::json params = parameters_json(settings);
  const auto results = run_series("smoothness", plan.series, c, params, ctx);
  if (ctx.share.root()) write_series_csv(results, c, ctx.out);

  nlohmann::json summary = start_summary("smoothness", params);
  summary["smoothness"] = nlohmann::json::array();
  SlopeFigure sfig;
  sfig.title = "smoothness: fitted slope of the error against b";
  // Two conventions of b share the axis; the label says which series uses which.
  sfig.x_label = "b (weierstrass:b, A known: Hoelder b; bspline:P, A unknown: the paper's b = P-1)";
  SlopeSeries erm_pts{"bspline:P, A unknown (b = P-1)", {}}, known_pts{"weierstrass:b, A known", {}};
  SlopeSeries erm_b_hat = erm_pts, known_b_hat = known_pts;  // adaptive: b_hat from the error's slope
  ConvergenceFigure cfig;
  cfig.title = "smoothness: composed error vs M";
  std::size_t total = 0, excluded = 0;
  for (const auto& sr : results) {
    const auto& s = sr.series;
    const std::string A = s.a_known ? "known" : "unknown";
    nlohmann::json sm = smoothness_json(s.model.activation);
    sm["A"] = A;
    sm["degree"] = s.degree;
    summary["smoothness"].push_back(sm);
    // The bootstrap stream label of earlier versions (their claim id), kept for reproducibility.
    const SeriesSlope o = series_slope(sr, c, "smoothness." + activation_tag(s.model.activation) + ".slope");
    total += sr.cells.size();
    excluded += o.excluded;
    if (!o.fit) continue;
    Measurement m = series_slope_measurement(sr, o, "slope", {{"activation", s.model.activation}, {"A", A}});
    m.details["smoothness"] = sm;
    summary["quantities"].push_back(to_json(m));
    (s.a_known ? known_pts : erm_pts).points.push_back({s.value, o.fit->slope, m.lo(), m.hi()});
    cfig.series.push_back(convergence_series(sr, o));
    if (c.adaptive) {
      // b was never given to the estimator: estimate it from the error's slope and from the
      // growth of the selected K.
      const std::map<std::string, std::string> select = {{"activation", s.model.activation}, {"A", A}};
      if (auto r = oracle_ratio_measurement(sr, c, "smoothness." + activation_tag(s.model.activation) + ".oracle-ratio",
                                            "oracle-ratio", select))
        summary["quantities"].push_back(to_json(*r));
      if (auto oc = oracle_convergence_series(sr)) cfig.series.push_back(*oc);
      Measurement be = b_hat_measurement(*o.fit, b_from_error_slope, "error-slope", select);
      be.details["smoothness"] = sm;
      summary["quantities"].push_back(to_json(be));
      (s.a_known ? known_b_hat : erm_b_hat).points.push_back({s.value, be.value, be.lo(), be.hi()});
      std::vector<double> x, y;
      for (const auto& r : sr.cells)
        if (r.status == "ok") {
          x.push_back(std::log(static_cast<double>(r.M)));
          y.push_back(std::log(static_cast<double>(r.K)));
        }
      if (slope_fittable(x)) {
        const SlopeFit fk = fit_slope(x, y, 0.95, c.bootstrap,
                                      derive_seed(c.seed, {hash_name("bootstrap"), hash_name("pieces." + s.label)}));
        Measurement bk = b_hat_measurement(fk, b_from_pieces_slope, "pieces", select);
        bk.details["note"] = "K_hat on a dyadic grid: log2 K_hat moves in unit steps";
        summary["quantities"].push_back(to_json(bk));
      }
    }
  }
  if (!erm_pts.points.empty()) sfig.series.push_back(erm_pts);
  if (!known_pts.points.empty()) sfig.series.push_back(known_pts);
  if (!sfig.series.empty()) {
    sfig.note = "bars: hull of t and bootstrap 95% intervals; dashed: reference -2b/(2b+1)";
    summary["figure"] = write_study_figure(sfig, "slopes", ctx);
    summary["figures"] = {summary["figure"], write_study_figure(cfig, "convergence", ctx)};
    if (c.adaptive) {
      SlopeFigure bfig;
      bfig.title = "smoothness: b estimated from the adaptive error's slope against the true b";
      bfig.x_label = sfig.x_label;
      bfig.y_label = "b_hat = -s / (2 (1 + s)), s the fitted slope";
      bfig.reference = SlopeReference::identity;
      bfig.point_name = "b_hat";
      bfig.note = "bars: the slope's intervals mapped to b (clipped to [0, 100]); dashed: b_hat = b";
      // A slope near or past -1 maps to b_hat up to the clip at 100, which would flatten the rest:
      // the figure (not summary.json) caps the values at 3 times the largest true b.
      double cap = 0.0;
      for (const SlopeSeries* ss : {&erm_b_hat, &known_b_hat})
        for (const SlopePoint& pt : ss->points) cap = std::max(cap, 3.0 * pt.b);
      bool capped = false;
      for (SlopeSeries* ss : {&erm_b_hat, &known_b_hat}) {
        for (SlopePoint& pt : ss->points) {
          capped = capped || pt.ci_hi > cap;
          pt.slope = std::min(pt.slope, cap);
          pt.ci_lo = std::min(pt.ci_lo, cap);
          pt.ci_hi = std::min(pt.ci_hi, cap);
        }
        if (!ss->points.empty()) bfig.series.push_back(*ss);
      }
      if (capped) bfig.note += "; values above " + short_number(cap) + " (3 times the largest b) drawn at it";
      summary["figures"].push_back(write_study_figure(bfig, "b-hat", ctx));
    }
  } else {
    summary["error"] = "no series has 3 usable cells at two or more sizes: nothing measured";
  }
  summary["cells_total"] = total;
  summary["cells_excluded"] = excluded;
  return summary;
}

}  // namespace

StudyDefinition smoothness_study() {
  return define_study(
      "smoothness", "fitted slope vs b: bspline:3, bspline:8 (A unknown, b = P-1), weierstrass:b (A known)",
      smoothness_keys,
      {{"slope", "slope of log error on log M of one activation", {"activation", "A"}},
       reported_only_with("schedule", "adaptive", {"b-hat",
        "b estimated from the error's slope (from = error-slope) or from the growth of the "
        "selected K (from = pieces), intervals mapped from the slope's",
        {"activation", "A", "from"}}),
       reported_only_with("schedule", "adaptive", {"oracle-ratio",
        "geometric mean over seeds at the largest M of the error over the oracle's (the "
        "candidate with the smallest test error)",
        {"activation", "A"}})},
      read_plan,
      run_smoothness);
}

}  // namespace attnrate
