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
  // In the order of `attnrate list`.
  static const std::vector<StudyDefinition> studies = with_memory_checks({
      minimax_rate_study(),   approximation_study(),     dimension_free_study(), smoothness_study(),
      coercivity_study(),     rank_condition_study(),    rfa_vs_mlp_study(),     biased_weights_study(),
      target_complexity_study(), kernel_limit_study(),  heads_study(),
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
