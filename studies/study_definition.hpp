#pragma once
// What a study is to the rest of attnrate: its name, options, quantities, a check of the options
// and its runner. Each study file defines one (e.g. minimax_rate_study()); studies/registry.cpp
// lists them.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

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
  /// The options with their defaults; also the study's TOML keys and claim params.
  std::function<std::vector<KeySpec>()> keys;
  std::vector<QuantitySpec> quantities;
  /// Validates the options as run() would, without doing any work; throws InputError.
  std::function<void(const Settings&)> check;
  /// Runs the sweep, writes summary.json, cells.csv, figures and cells/ checkpoints into ctx.out
  /// and returns the summary. Invalid settings throw InputError before any work.
  std::function<nlohmann::json(const Settings&, const StudyContext&)> run;
};

}  // namespace attnrate
