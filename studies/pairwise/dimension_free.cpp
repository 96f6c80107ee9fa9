#include "studies/pairwise/dimension_free.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/sweep/study_figures.hpp"
#include "studies/io/output.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "theory/pairwise/activation.hpp"

namespace attnrate {

namespace {

std::vector<KeySpec> dimension_free_keys() {
  std::vector<KeySpec> k = {
      {"activations", "bspline:3,weierstrass:2", "phi for each family of series (comma list)"},
      token_law_key(),
      tokens_per_sample_key("8", "of the d and r series"),
      token_dimension_key("5", "of the N and r series"),
      interaction_rank_key("1", "of the d and N series, clipped to each d of the d series"),
      {"sigma", "2", "noise standard deviation (>= 0)", "FLOAT"},
      {"d-values", "1,5,30", "d of the d series (comma list)"},
      {"N-values", "4,8,16", "N of the N series at d (comma list; one value = no N series)"},
      {"r-values", "1,2,4", "r of the r series at d (comma list; one value = no r series)"},
  };
  for (auto& e : estimator_keys("500:8000:x2", "4")) k.push_back(e);
  for (auto& e : schedule_keys()) k.push_back(e);
  return k;
}

struct Plan {
  EstimatorConfig c;
  std::vector<std::string> activations;
  std::vector<Series> series;  // per activation: the d series, then N, then r
};

Plan read_plan(const Settings& settings) {
  Plan p;
  p.c = read_estimator(settings);
  read_schedule(settings, p.c);
  p.activations = activation_list(settings, "activations", true);
  PairwiseModelSpec base;
  base.tokens = read_token_law_name(settings);
  read_token_shape(settings, base);
  base.sigma = settings.get_double("sigma", 0.0, std::numeric_limits<double>::infinity());
  const auto dv = int_list(settings, "d-values", 1, 100000);
  const auto Nv = int_list(settings, "N-values", 2, 100000);
  const auto rv = int_list(settings, "r-values", 1, 100000);
  for (int r : rv)
    if (r > base.d)
      throw InputError(settings.source("r-values") + ": r = " + std::to_string(r) + " exceeds " +
                       settings.label("d") + " = " + std::to_string(base.d) +
                       " (A is d x d of rank r); lower the r values or raise d");
  if (p.c.M.size() < 2) throw InputError(settings.source("M") + " needs at least two distinct sample sizes");
  // One value makes no series: a value other than the base --N or --r would silently go unused.
  const auto single_unused = [&](const char* key, const std::vector<int>& values, int base_value, const char* base) {
    if (values.size() == 1 && values[0] != base_value)
      throw InputError(settings.source(key) + " has one value, " + std::to_string(values[0]) +
                       ", which makes no series (a series needs two or more) and differs from --" + base + " " +
                       std::to_string(base_value) + ", which the d series use; give two or more values, or set --" +
                       base + " " + std::to_string(values[0]));
  };
  single_unused("N-values", Nv, base.N, "N");
  single_unused("r-values", rv, base.r, "r");
  for (const auto& act : p.activations) {
    const int degree = Activation::parse(act).default_degree();
    auto add = [&](const std::string& factor, int value, PairwiseModelSpec m) {
      m.activation = act;
      validate(m);
      Series s;
      s.factor = factor;
      s.value = value;
      s.label = act + ", " + factor + " = " + std::to_string(value);
      s.model = m;
      s.degree = degree;
      s.cK = p.c.cK;
      s.M = p.c.M;
      p.series.push_back(s);
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
  return p;
}

// The label of a series' bootstrap streams (kept from earlier versions, which used it as an id,
// so that the intervals stay reproducible): dimfree.<activation tag>.<factor><value>.slope.
std::string slope_stream(const Series& s) {
  return "dimfree." + activation_tag(s.model.activation) + "." + s.factor + std::to_string(static_cast<int>(s.value)) +
         ".slope";
}

void check_dimension_free(const Settings& settings) { (void)read_plan(settings); }

nlohmann::json run_dimension_free(const Settings& settings, const StudyContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const Plan plan = read_plan(settings);
  const EstimatorConfig& c = plan.c;
  const nlohmann::json params = parameters_json(settings);
  const auto results = run_series("dimension-free", plan.series, c, params, ctx);
  if (ctx.share.root()) write_series_csv(results, c, ctx.out);

  nlohmann::json summary = start_summary("dimension-free", params);
  summary["estimator"] =
      c.adaptive ? "A unknown, spline space selected from the data (adaptive_erm): pilot ERM with --coarse-pieces "
                   "pieces, selection of degree and K at its A, ERM in the selected space continued from the pilot, "
                   "selection again at its A_hat on the training interactions with refit-trim cut at each end (phi_hat: "
                   "the mixture of every candidate with --select mixture, else the selected space)"
                 : "A unknown: pairwise_erm (variable projection, L-BFGS) started from the moment estimate of A, then "
                   "the phi-step redone on the training interactions under A_hat with refit-trim of them cut at each "
                   "end";
  summary["restart_basins"] = restart_basin_summary(results);
  summary["smoothness"] = nlohmann::json::array();
  for (const auto& a : plan.activations) summary["smoothness"].push_back(smoothness_json(a));
  std::size_t total = 0, excluded = 0;
  std::vector<std::string> figures;
  for (const auto& act : plan.activations)
    for (const std::string factor : {"d", "N", "r"}) {
      std::vector<const SeriesResult*> group;
      for (const auto& sr : results)
        if (sr.series.model.activation == act && sr.series.factor == factor) group.push_back(&sr);
      if (group.empty()) continue;
      const std::string stem = "convergence-" + file_tag(act) + "-" + factor;
      ConvergenceFigure fig;
      fig.title = "dimension-free: " + act + ", A unknown" + (c.adaptive ? ", adaptive" : "") + ", by " + factor;
      std::ostringstream note;
      double reference = 0;
      for (const SeriesResult* sr : group) {
        const auto& m = sr->series.model;
        const std::map<std::string, std::string> select = {{"activation", act},
                                                           {"series", factor},
                                                           {"d", std::to_string(m.d)},
                                                           {"N", std::to_string(m.N)},
                                                           {"r", std::to_string(m.r)}};
        const std::string stream = slope_stream(sr->series);
        const SeriesSlope s = series_slope(*sr, c, stream);
        const SeriesSlope erm = series_slope(*sr, c, stream + ".erm-only", true);
        if (factor == "d" || group.size() > 1) {
          total += sr->cells.size();
          excluded += s.excluded;
        }
        if (!s.fit) continue;
        Measurement ms = series_slope_measurement(*sr, s, "slope", select);
        ms.details["figure"] = stem + ".png";
        summary["quantities"].push_back(to_json(ms));
        if (erm.fit) {
          Measurement me = series_slope_measurement(*sr, erm, "slope-erm", select);
          me.details["error"] =
              "the ERM's own g_hat (no trimmed refit of the phi-step; the slope measures the refit's)";
          me.details["figure"] = stem + ".png";
          summary["quantities"].push_back(to_json(me));
        }
        if (c.adaptive)
          if (auto r = oracle_ratio_measurement(*sr, c, stream + ".oracle-ratio", "oracle-ratio", select)) {
            r->details["figure"] = stem + ".png";
            summary["quantities"].push_back(to_json(*r));
          }
        reference = s.reference;
        fig.series.push_back(convergence_series(*sr, s));
        if (c.adaptive)
          if (auto o = oracle_convergence_series(*sr)) fig.series.push_back(*o);
        note << factor << "=" << sr->series.value << ": slope " << short_number(s.fit->slope) << "; ";
      }
      if (group.size() > 1) {
        std::optional<Measurement> spread =
            spread_measurement(group, c, "dimfree." + activation_tag(act) + "." + factor + ".ratio", "spread",
                               {{"activation", act}, {"series", factor}});
        // The members outside the rank condition at the largest M, where the bound adds r d log M / M.
        nlohmann::json outside = nlohmann::json::array(), inside = nlohmann::json::array();
        std::vector<const SeriesResult*> below_knee;
        for (const SeriesResult* sr : group)
          if (rank_regime(sr->series, Activation::parse(act).claimed_smoothness()).holds_at_largest()) {
            below_knee.push_back(sr);
            inside.push_back(sr->series.value);
          } else {
            outside.push_back(sr->series.value);
          }
        if (spread) {
          spread->details["outside_rank_condition"] = outside;
          spread->details["figure"] = stem + ".png";
          note << "spread at the largest M " << short_number(spread->value) << "; ";
          summary["quantities"].push_back(to_json(*spread));
        } else {
          note << "no spread (a member has no usable cell at the largest M); ";
        }
        // The theorem's independence of d (N, r) holds only inside the rank condition: the same
        // ratio over the members inside it at the largest M.
        const RankRegime regime = rank_regime(group.front()->series, Activation::parse(act).claimed_smoothness());
        std::optional<Measurement> inner;
        if (below_knee.size() >= 2)
          inner = spread_measurement(below_knee, c,
                                     "dimfree." + activation_tag(act) + "." + factor + ".below-knee-ratio",
                                     "below-knee-spread", {{"activation", act}, {"series", factor}});
        if (inner) {
          inner->details["inside_rank_condition"] = inside;
          inner->details["knee_at_largest_M"] = regime.knee_max;
          inner->details["figure"] = stem + ".png";
          note << "below-knee spread " << short_number(inner->value) << "; ";
          summary["quantities"].push_back(to_json(*inner));
        } else {
          std::ostringstream why;
          why << "no below-knee-spread for " << act << " across " << factor << ": it needs two members with a usable "
              << "cell inside the rank condition r d <= (M / log M)^(1/(2b+1)) at the largest M = " << regime.M_max
              << " (knee " << short_number(regime.knee_max) << "); inside: " << inside.dump();
          summary["notes"].push_back(why.str());
        }
      }
      if (fig.series.empty()) continue;
      fig.note = note.str() + "dashed: reference -2b/(2b+1) = " + short_number(reference);
      figures.push_back(write_study_figure(fig, stem, ctx));
    }
  summary["figures"] = figures;
  if (!figures.empty()) summary["figure"] = figures.front();
  summary["cells_total"] = total;
  summary["cells_excluded"] = excluded;
  if (summary["quantities"].empty())
    summary["error"] = "no series has 3 usable cells at two or more sizes: nothing measured";
  return finish_summary(std::move(summary), t0, ctx);
}

}  // namespace

StudyDefinition dimension_free_study() {
  return {"dimension-free",
          "A unknown: error vs M for several d (and N, r); slope per series, spread of the errors at the largest M",
          dimension_free_keys,
          {{"slope", "slope of log error on log M of one series (A unknown, error after the trimmed refit)",
            {"activation", "series", "d", "N", "r"}},
           {"slope-erm", "the same slope with the ERM's own error (no trimmed refit)", {"activation", "series", "d", "N", "r"}},
           reported_only_with("schedule", "adaptive", {"oracle-ratio",
            "geometric mean over seeds at the largest M of the error over the oracle's (the "
            "candidate space with the smallest test error)",
            {"activation", "series", "d", "N", "r"}}),
           {"spread", "largest over smallest median error at the largest M across the series of one activation and factor",
            {"activation", "series"}},
           {"below-knee-spread",
            "the spread over the members of the series inside the rank condition r d <= (M / log M)^(1/(2b+1)) at the "
            "largest M (needs two such members)",
            {"activation", "series"}}},
          check_dimension_free,
          run_dimension_free};
}

}  // namespace attnrate
