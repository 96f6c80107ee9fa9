#include "studies/registry.hpp"

#include "estimators/common/input_error.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/pairwise/pairwise_studies.hpp"
#include "studies/rfa/rfa_studies.hpp"

namespace attnrate {

const std::vector<StudyDefinition>& all_studies() {
  static const std::vector<StudyDefinition> studies = {
      {"minimax-rate", "A known: composed L2(rho) error vs M, slope against -2b/(2b+1)", minimax_rate_keys,
       run_minimax_rate},
      {"dimension-free", "A unknown: error vs M for d (N, r); slopes vs -2b/(2b+1), spread across d within a factor",
       dimension_free_keys, run_dimension_free},
      {"smoothness", "fitted slope vs b: bspline:3, bspline:8 (A unknown, b = P-1), weierstrass:b (A known)",
       smoothness_keys, run_smoothness},
      {"coercivity", "lambda_min of the normal matrix relative to the L2(rho) Gram matrix vs M, per token law",
       coercivity_keys, run_coercivity},
      {"rank-condition", "A unknown: error vs r d at fixed M, knee (M/log M)^(1/(2b+1))", rank_condition_keys,
       run_rank_condition},
      {"rfa-vs-mlp", "RFA vs RF-MLP: n to reach error eps, ratio >= 4 and growing with N; non-invariant control",
       rfa_vs_mlp_keys, run_rfa_vs_mlp},
      {"biased-weights", "zero-mean vs biased query-key weights: biased lower error on inner-product targets",
       biased_weights_keys, run_biased_weights},
      {"target-complexity", "n_eps of key-poly:p and inner-poly:p against p and d", target_complexity_keys,
       run_target_complexity},
      {"heads", "RFA error vs heads M -> infinite-width kernel ridge; gap slope vs -1", heads_keys, run_heads},
  };
  return studies;
}

const StudyDefinition& find_study(const std::string& name) {
  std::string names;
  for (const auto& s : all_studies()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw InputError("unknown study '" + name + "'; valid: " + names);
}

}  // namespace attnrate
