#include "studies/registry.hpp"

#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"
#include "studies/io/study_memory.hpp"
#include "studies/pairwise/approximation.hpp"
#include "studies/rfa/kernel_limit.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/pairwise/coercivity.hpp"
#include "studies/pairwise/dimension_free.hpp"
#include "studies/pairwise/rank_condition.hpp"
#include "studies/pairwise/smoothness.hpp"
#include "studies/rfa/biased_weights.hpp"
#include "studies/rfa/heads.hpp"
#include "studies/rfa/rfa_vs_mlp.hpp"
#include "studies/rfa/target_complexity.hpp"

namespace attnrate {
namespace {

// Every study gets --max-memory, and its check also weighs its sizes against that budget.
std::vector<StudyDefinition> with_memory_checks(std::vector<StudyDefinition> studies) {
  for (auto& def : studies) {
    def.keys = [keys = def.keys] {
      auto k = keys();
      k.push_back(study_memory_key());
      return k;
    };
    def.check = [check = def.check, name = def.name](const Settings& s) {
      if (check) check(s);
      check_study_memory(name, s);
    };
  }
  return studies;
}

}  // namespace

const std::vector<StudyDefinition>& all_studies() {
  static const std::vector<StudyDefinition> studies = with_memory_checks({
      {"minimax-rate",
       "A known: composed L2(rho) error vs M and its slope",
       minimax_rate_keys,
       {{"slope", "slope of log error on log M (on log(M / log M) with --schedule paper)", {}}},
       check_minimax_rate,
       run_minimax_rate},
      {"approximation",
       "noiseless, A known: spline approximation error vs K, the L2 smoothness of phi measured",
       approximation_keys,
       {{"smoothness", "b_approx = -slope/2 of log error on log K (squared L2 error ~ K^(-2 b_approx))", {"activation"}}},
       check_approximation,
       run_approximation},
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
      {"rfa-vs-mlp",
       "RFA vs RF-MLP with as many trainable parameters: n to reach error eps per target and N, their ratio, its "
       "growth with N, RFA's spread across N, errors at the largest n (non-invariant controls)",
       rfa_vs_mlp_keys,
       {{"n-ratio", "n_eps(RF-MLP) / n_eps(RFA), geometric mean over repetitions", {"target", "N"}},
        {"ratio-growth", "n-ratio at to-N / n-ratio at from-N (consecutive N), geometric mean over repetitions",
         {"target", "from-N", "to-N"}},
        {"rfa-n-spread", "max / min over N of RFA's geometric-mean n_eps", {"target"}},
        {"rfa-error", "RFA's mean normalised test error at the largest n (details: invariant_floor)", {"target", "N"}},
        {"mlp-error", "the RF-MLP's mean normalised test error at the largest n (details: invariant_floor)",
         {"target", "N"}}},
       check_rfa_vs_mlp,
       run_rfa_vs_mlp},
      {"biased-weights",
       "zero-mean vs biased query-key weights: error ratio biased / zero-mean per target, mu and n",
       biased_weights_keys,
       {{"error-ratio", "error(biased) / error(zero-mean) at one n, geometric mean over repetitions", {"target", "mu", "n"}},
        {"error-ratio-max", "error-ratio at the n >= from-n whose interval reaches highest", {"target", "mu"}},
        {"error-ratio-min", "error-ratio at the n >= from-n whose interval reaches lowest", {"target", "mu"}}},
       check_biased_weights,
       run_biased_weights},
      {"target-complexity",
       "n_eps of key-poly:p and inner-poly:p against p and d",
       target_complexity_keys,
       {{"n-eps-ratio", "n_eps(next p) / n_eps(p), geometric mean over repetitions", {"family", "d", "p"}}},
       check_target_complexity,
       run_target_complexity},
      {"kernel-limit",
       "RFA vs RF-MLP as kernel ridge with their infinite-width kernels: n_eps ratio per N and its growth",
       kernel_limit_keys,
       {{"n-ratio", "MLP/RFA ratio of n_eps (geometric mean over repetitions)", {"N"}},
        {"ratio-growth", "n-ratio at to-N over n-ratio at from-N (paired repetitions)", {"from-N", "to-N"}},
        {"n-eps", "n_eps of one model (geometric mean over repetitions)", {"model", "N"}}},
       check_kernel_limit,
       run_kernel_limit},
      {"heads",
       "RFA error vs heads M -> infinite-width kernel ridge; slope of the gap against M",
       heads_keys,
       {{"gap-slope", "slope of log(||f_M - f_inf||^2 / Var f*) on log M", {}}},
       check_heads,
       run_heads},
  });
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
