#pragma once
// What a study is to the rest of attnrate: its name, options, quantities, a check of the options
// and its runner. Each study file defines one (e.g. minimax_rate_study()); studies/registry.cpp
// lists them.
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/study_summary.hpp"

namespace attnrate {

/// One quantity a study reports: its name, what it is, and the keys that tell its
/// measurements apart (empty: the study reports one measurement of it).
struct QuantitySpec {
  QuantitySpec(std::string name_, std::string description_, std::vector<std::string> select_ = {})
      : name(std::move(name_)), description(std::move(description_)), select(std::move(select_)) {}
  std::string name;
  std::string description;
  std::vector<std::string> select;
  /// The option (TOML key) and value under which the study reports the quantity at all, e.g.
  /// schedule = adaptive; empty: always. verify refuses, before running anything, a claim on the
  /// quantity whose options give another value.
  std::string only_with_key, only_with_value;
};

/// `q` reported only when option `key` has `value`; its description is prefixed "--key value: ".
inline QuantitySpec reported_only_with(const std::string& key, const std::string& value, QuantitySpec q) {
  q.description = "--" + key + " " + value + ": " + q.description;
  q.only_with_key = key;
  q.only_with_value = value;
  return q;
}

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

/// A study from its parts. `read` validates the options and returns what the study runs on
/// (it is the study's check, and the first step of a run); `run` does the work and returns the
/// content of summary.json, to which the wall time (from before `read`) and the build are added
/// before it is written (finish_summary).
template <class Config>
StudyDefinition define_study(std::string name, std::string description, std::function<std::vector<KeySpec>()> keys,
                             std::vector<QuantitySpec> quantities, Config (*read)(const Settings&),
                             nlohmann::json (*run)(const Config&, const Settings&, const StudyContext&)) {
  return {std::move(name),
          std::move(description),
          std::move(keys),
          std::move(quantities),
          [read](const Settings& s) { (void)read(s); },
          [read, run](const Settings& s, const StudyContext& ctx) {
            const auto t0 = std::chrono::steady_clock::now();
            return finish_summary(run(read(s), s, ctx), t0, ctx);
          }};
}

}  // namespace attnrate
