#include "studies/pairwise/rank_condition.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/sweep/study_options.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "theory/pairwise/activation.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> rank_condition_keys() {
  std::vector<KeySpec> k = {
      activation_key("bspline:3"),
      token_law_key(),
      tokens_per_sample_key("8"),
      interaction_rank_key("1"),
      {"d-values", "1,2,4,8,16,32", "token dimensions (r d spans the knee)"},
      {"sigma", "0.5", "noise level (>= 0)"},
  };
  for (auto& e : estimator_keys("4000", "4")) {
    if (e.key == "M") e.help = "the one sample size every d is fitted at (>= 16)";  // the rank ratio compares d at one M
    k.push_back(e);
  }
  return k;
}

struct Plan {
  EstimatorConfig c;
  PairwiseModelSpec base;
  double knee = 0;
  std::vector<Series> series;  // one per d, value r d
};

Plan read_plan(const Settings& settings) {
  Plan p;
  p.c = read_estimator(settings);
  if (p.c.M.size() != 1) throw InputError(settings.source("M") + " must be a single sample size for rank-condition");
  PairwiseModelSpec& base = p.base;
  base.activation = settings.get_string("activation");  // parsed below, with the option's source
  base.tokens = read_token_law_name(settings);
  base.N = static_cast<int>(settings.get_int("N", 2, 100000));
  base.r = static_cast<int>(settings.get_int("r", 1, 100000));
  base.sigma = settings.get_double("sigma", 0.0, std::numeric_limits<double>::infinity());
  const auto dv = int_list(settings, "d-values", 1, 100000);
  const Activation phi = settings.with_source("activation", [&] { return Activation::parse(base.activation); });
  check_rate_activation(settings, "activation", phi, true);
  const double b = std::min(phi.claimed_smoothness(), phi.default_degree() + 1.0);
  p.knee = rank_knee(static_cast<double>(p.c.M.front()), b);
  for (int d : dv) {
    Series s;
    s.factor = "rd";
    s.model = base;
    s.model.d = d;
    if (base.r > d)
      throw InputError(settings.source("d-values") + ": d = " + std::to_string(d) + " is below " +
                       settings.label("r") + " = " + std::to_string(base.r) +
                       " (A is d x d of rank r); drop it or lower r");
    validate(s.model);
    s.value = static_cast<double>(base.r) * d;
    s.degree = phi.default_degree();
    s.cK = p.c.cK;
    s.M = p.c.M;
    s.label = "d = " + std::to_string(d);
    p.series.push_back(s);
  }
  return p;
}

nlohmann::json run_rank_condition(const Plan& plan, const Settings& settings, const StudyContext& ctx) {
  const EstimatorConfig& c = plan.c;
  const double knee = plan.knee;
  const std::size_t M = c.M.front();
  const nlohmann::json params = parameters_json(settings);
  const auto results = run_series("rank-condition", plan.series, c, params, ctx);
  if (ctx.share.root()) write_series_csv(results, c, ctx.out);
  std::vector<double> x_above, y_above, all_rd, all_med;
  nlohmann::json rd_below = nlohmann::json::array(), rd_above = nlohmann::json::array();
  std::vector<const SeriesResult*> below_group;
  for (const auto& sr : results) {
    all_rd.push_back(sr.series.value);
    all_med.push_back(median_error_at(sr, M));
    if (sr.series.value <= knee) {
      below_group.push_back(&sr);
      rd_below.push_back(sr.series.value);
    } else {
      rd_above.push_back(sr.series.value);
      for (const auto& cl : sr.cells)
        if (cl.status == "ok") {
          x_above.push_back(std::log(sr.series.value));
          y_above.push_back(std::log(cl.error));
        }
    }
  }
  nlohmann::json summary = start_summary("rank-condition", params);
  summary["restart_basins"] = restart_basin_summary(results);
  summary["knee"] = knee;
  summary["knee_formula"] = "(M / log M)^(1/(2b+1))";
  summary["smoothness"] = smoothness_json(plan.base.activation);
  nlohmann::json notes = nlohmann::json::array();
  // The bootstrap stream labels are those of earlier versions, kept for reproducibility.
  std::optional<Measurement> below;
  if (below_group.size() >= 2) below = spread_measurement(below_group, c, "rank.below-knee.ratio", "below-knee-spread", {});
  if (below) {
    below->details["knee"] = knee;
    below->details["r_d_values"] = rd_below;
    summary["quantities"].push_back(to_json(*below));
  } else {
    notes.push_back(below_group.size() < 2 ? "fewer than two r d values below the knee: no below-knee-spread"
                                           : "an r d below the knee has no usable cell: no below-knee-spread");
  }
  std::vector<double> xs = x_above;
  std::sort(xs.begin(), xs.end());
  std::optional<SlopeFit> above_fit;  // also the figure's fit line, over the same cells
  if (x_above.size() >= 3 && std::unique(xs.begin(), xs.end()) - xs.begin() >= 2) {
    const SlopeFit f = fit_slope(x_above, y_above, 0.95, c.bootstrap, derive_seed(c.seed, {hash_name("rank-boot")}));
    above_fit = f;
    Measurement m = slope_measurement(f, "above-knee-slope");
    m.details["abscissa"] = "log(r d)";
    m.details["knee"] = knee;
    m.details["M"] = M;
    m.details["r_d_values"] = rd_above;
    m.details["reference_slope"] = 1.0;
    m.details["reference"] = "slope 1 where the parametric term r d log M / M dominates the bound";
    summary["quantities"].push_back(to_json(m));
  } else {
    notes.push_back("fewer than 3 usable cells at two or more r d above the knee: no above-knee-slope");
  }
  if (!notes.empty()) summary["notes"] = notes;
  ConvergenceFigure fig;
  fig.title = "rank-condition: error vs r d at M = " + std::to_string(M) + ", knee " + short_number(knee);
  fig.x_label = "r d (knee (M/log M)^(1/(2b+1)) = " + short_number(knee) + ")";
  ConvergenceSeries cs;
  cs.label = plan.base.activation + ", A unknown";
  for (const auto& sr : results)
    for (const auto& cl : sr.cells)
      if (cl.status == "ok") {
        cs.x.push_back(sr.series.value);
        cs.y.push_back(cl.error);
      }
  cs.draw_theory = false;
  if (!cs.x.empty()) {
    // The line is the above-knee-slope fit, drawn over the r d it was fitted to.
    cs.draw_fit = above_fit.has_value();
    if (above_fit) {
      cs.fit_slope = above_fit->slope;
      cs.fit_intercept = above_fit->intercept;
      cs.fit_x_lo = std::exp(*std::min_element(x_above.begin(), x_above.end()));
      cs.fit_x_hi = std::exp(*std::max_element(x_above.begin(), x_above.end()));
    }
    fig.series.push_back(cs);
    fig.note = "dotted: the predicted knee at r d = " + short_number(knee) + "; the line: the above-knee fit";
    fig.marks_x = {knee};
    summary["figure"] = write_study_figure(fig, "rank", ctx);
  }
  summary["median_error_by_rd"] = nlohmann::json::array();
  for (std::size_t i = 0; i < all_rd.size(); ++i) summary["median_error_by_rd"].push_back({all_rd[i], all_med[i]});
  if (summary["quantities"].empty()) summary["error"] = "nothing measured: " + notes.dump();
  return summary;
}

}  // namespace

StudyDefinition rank_condition_study() {
  return define_study("rank-condition", "A unknown: error vs r d at fixed M, knee (M/log M)^(1/(2b+1))",
                      rank_condition_keys,
                      {{"below-knee-spread", "largest over smallest median error across the r d below the knee", {}},
                       {"above-knee-slope", "slope of log error on log(r d) above the knee", {}}},
                      read_plan, run_rank_condition);
}

}  // namespace attnrate
