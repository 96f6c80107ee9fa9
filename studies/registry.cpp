#include "studies/registry.hpp"

#include "estimators/input_error.hpp"
#include "studies/minimax_rate.hpp"

namespace attnrate {

const std::vector<StudyDefinition>& all_studies() {
  static const std::vector<StudyDefinition> studies = {
      {"minimax-rate", "A known: composed L2(rho) error vs M, slope against -2b/(2b+1)", minimax_rate_keys,
       run_minimax_rate},
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
