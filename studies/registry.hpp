#pragma once
// The named studies of `attnrate study NAME`, `attnrate list` and the claims files. Each study
// is a few free functions: its options (with defaults; also its TOML keys), a check of the
// options that does no work, and its runner, which runs its cells through the sweep engine
// (studies/sweep/sweep.hpp), writes summary.json, cells.csv, figures and checkpoints into
// ctx.out and returns the summary. The summary's "quantities" array holds the measurements
// (theory/claims/measurement.hpp) that claims select by quantity and select keys; a study never
// judges them. Adding a study = one entry in registry.cpp.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"
#include "theory/claims/claims_file.hpp"

namespace attnrate {

/// One quantity a study reports: its name, what it is, and the keys that tell its
/// measurements apart (empty: the study reports one measurement of it).
struct QuantitySpec {
  std::string name;
  std::string description;
  std::vector<std::string> select;
};

struct StudyDefinition {
  std::string name;
  std::string description;
  std::function<std::vector<KeySpec>()> keys;
  std::vector<QuantitySpec> quantities;
  /// Validates the options as run() would, without doing any work; throws InputError.
  std::function<void(const Settings&)> check;
  std::function<nlohmann::json(const Settings&, const StudyContext&)> run;
};

const std::vector<StudyDefinition>& all_studies();
/// Throws InputError naming the closest study when `name` is unknown.
const StudyDefinition& find_study(const std::string& name);
/// What the studies offer to claims files (options and quantities with their select keys).
StudyCatalog study_catalog();

}  // namespace attnrate
