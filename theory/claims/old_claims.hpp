#pragma once
// The registry of theoretical claims that `attnrate verify` checks (issue 5). A claim names
// what the papers state, which study measures it with which parameters, the quantity compared
// (a slope, a ratio, ...), the theoretical value, and the verdict parameters. Two profiles:
// `quick` (seconds; run by the test suite) and `full` (the sizes README quotes).
#include <string>
#include <utility>
#include <vector>

namespace attnrate {

using SettingOverrides = std::vector<std::pair<std::string, std::string>>;

struct ClaimSpec {
  std::string id;            ///< e.g. "minimax.weierstrass.b1.slope"; also the id in the study's summary
  std::string statement;     ///< one line
  std::string source;        ///< paper and theorem
  std::string study;         ///< the study that measures it (attnrate study NAME)
  std::string quantity;      ///< "slope", "ratio", ...
  double theory_value = 0;   ///< what the theory predicts for the quantity
  double tolerance = 0;      ///< delta of SPEC §4
  double max_ci_width = 0;   ///< wider intervals are inconclusive
  SettingOverrides quick;    ///< study settings for the quick profile
  /// Whether the quick profile is large enough to decide the claim. The test suite requires
  /// `consistent` for decisive claims and "not inconsistent" for the others (their quick
  /// interval is too wide to exclude either side; the full profile decides them).
  bool quick_decisive = true;
  SettingOverrides full;     ///< study settings for the full profile
};

const std::vector<ClaimSpec>& claim_registry();

/// Claims whose id matches a glob pattern ('*' any run, '?' one character; empty = all).
std::vector<ClaimSpec> select_claims(const std::string& pattern);

bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace attnrate
