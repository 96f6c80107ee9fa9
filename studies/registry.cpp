#include "studies/registry.hpp"

#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/pairwise/coercivity.hpp"
#include "studies/pairwise/dimension_free.hpp"
#include "studies/pairwise/rank_condition.hpp"
#include "studies/pairwise/smoothness.hpp"
#include "studies/rfa/rfa_studies.hpp"

namespace attnrate {

const std::vector<StudyDefinition>& all_studies() {
  static const std::vector<StudyDefinition> studies = {
      {"minimax-rate",
       "A known: composed L2(rho) error vs M and its slope",
       minimax_rate_keys,
       {{"slope", "slope of log error on log M (on log(M / log M) with --schedule paper)", {}}},
       check_minimax_rate,
       run_minimax_rate},
      {"dimension-free",
       "A unknown: error vs M for several d (and N, r); slope per series, spread of the errors at the largest M",
       dimension_free_keys,
       {{"slope", "slope of log error on log M of one series (A unknown, error after the trimmed refit)",
         {"activation", "series", "d", "N", "r"}},
        {"slope-erm", "the same slope with the ERM's own error (no trimmed refit)", {"activation", "series", "d", "N", "r"}},
        {"spread", "largest over smallest median error at the largest M across the series of one activation and factor",
         {"activation", "series"}}},
       check_dimension_free,
       run_dimension_free},
      {"smoothness", "fitted slope vs b: bspline:3, bspline:8 (A unknown, b = P-1), weierstrass:b (A known)",
       smoothness_keys,
       {{"slope", "slope of log error on log M of one activation", {"activation", "A"}}},
       check_smoothness,
       run_smoothness},
      {"coercivity", "lambda_min of the normal matrix relative to the L2(rho) Gram matrix vs M, per token law",
       coercivity_keys,
       {{"coercivity", "mean lambda_min(G, Gamma) over the seeds at the largest M", {"tokens"}}},
       check_coercivity,
       run_coercivity},
      {"rank-condition", "A unknown: error vs r d at fixed M, knee (M/log M)^(1/(2b+1))",
       rank_condition_keys,
       {{"below-knee-spread", "largest over smallest median error across the r d below the knee", {}},
        {"above-knee-slope", "slope of log error on log(r d) above the knee", {}}},
       check_rank_condition,
       run_rank_condition},
      {"rfa-vs-mlp", "RFA vs RF-MLP: n to reach error eps, ratio >= 4 and growing with N; non-invariant control",
       rfa_vs_mlp_keys, {}, nullptr, run_rfa_vs_mlp},
      {"biased-weights", "zero-mean vs biased query-key weights: biased lower error on inner-product targets",
       biased_weights_keys, {}, nullptr, run_biased_weights},
      {"target-complexity", "n_eps of key-poly:p and inner-poly:p against p and d", target_complexity_keys, {}, nullptr, run_target_complexity},
      {"heads", "RFA error vs heads M -> infinite-width kernel ridge; gap slope vs -1", heads_keys, {}, nullptr, run_heads},
  };
  return studies;
}

const StudyDefinition& find_study(const std::string& name) {
  std::vector<std::string> names;
  std::string list;
  for (const auto& s : all_studies()) {
    if (s.name == name) return s;
    names.push_back(s.name);
    list += (list.empty() ? "" : ", ") + s.name;
  }
  throw InputError("unknown study '" + name + "'" + did_you_mean(name, names) + " (studies: " + list + ")");
}

StudyCatalog study_catalog() {
  StudyCatalog catalog;
  for (const auto& s : all_studies()) {
    StudyCatalogEntry e;
    e.name = s.name;
    for (const auto& k : s.keys()) e.options.push_back(k.key);
    for (const auto& q : s.quantities) e.quantities[q.name] = q.select;
    catalog.push_back(std::move(e));
  }
  return catalog;
}

}  // namespace attnrate
