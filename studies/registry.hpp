#pragma once
// The named studies of `attnrate study NAME` and `attnrate verify`. Each study is a pair of
// free functions: its settings keys (with defaults; also its TOML keys) and its runner, which
// writes summary.json, cells.csv, figures and checkpoints into ctx.out and returns the summary
// (with a "claims" array as SPEC §5). Adding a study = one entry in registry.cpp.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

struct StudyDefinition {
  std::string name;
  std::string description;
  std::function<std::vector<KeySpec>()> keys;
  std::function<nlohmann::json(const Settings&, const StudyContext&)> run;
};

const std::vector<StudyDefinition>& all_studies();
/// Throws InputError naming the valid studies when `name` is unknown.
const StudyDefinition& find_study(const std::string& name);

}  // namespace attnrate
