#pragma once
// A theoretical claim as data: what a paper (or a user) states, which study measures it with
// which options, which of the study's measurements it is about, and how it is judged. Claims
// are read from TOML files (claims_file.hpp); the built-in ones live beside this header
// (minimax.toml, pairwise.toml, rfa.toml). The file format is documented in docs/claims.md.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "theory/claims/judge.hpp"

namespace attnrate {

/// Study options as (name, value) pairs, named as on the command line without the dashes;
/// values are the strings the command line would take ("500:16000:x2", "1,5", "0.05").
using StudyOptions = std::vector<std::pair<std::string, std::string>>;

/// Where a claim (or one of its fields) was written, for messages: "claims.toml:12".
struct SourcePlace {
  std::string file;
  int line = 0;
  std::string str() const { return line > 0 ? file + ":" + std::to_string(line) : file; }
};

struct Claim {
  std::string id;         ///< unique, [a-z0-9._:-]
  std::string statement;  ///< one sentence: what the theorem states
  std::string source;     ///< paper and theorem
  std::string note;       ///< optional: why the claim is stated this way (bound, range, sizes)
  std::string study;      ///< a registered study (attnrate list)
  std::string quantity;   ///< one of the quantities the study reports (attnrate list --quantities STUDY)
  JudgeRule rule;         ///< bound, theory, tolerance, max CI width
  std::map<std::string, std::string> select;  ///< picks one measurement among those of `quantity`
  StudyOptions params;    ///< study options of the full profile
  StudyOptions quick;     ///< overrides of `params` for the quick profile
  /// max-ci-width of the quick profile, when its smaller sweep is judged with a wider limit.
  std::optional<double> quick_max_ci_width;
  /// Whether the quick profile is large enough to decide the claim. The test suite requires
  /// "consistent" of decisive claims and "not inconsistent" of the others.
  bool quick_decisive = true;
  SourcePlace place;      ///< where the claim's [[claim]] table starts
  std::map<std::string, int> param_lines, quick_lines;  ///< line of each option, for messages
  std::map<std::string, int> select_lines;              ///< line of each select key, for messages

  /// The study options of a profile ("quick" or "full"): params, then the quick overrides.
  StudyOptions options(const std::string& profile) const;
  /// Where option `key` of a profile was written ("file:line"), for messages.
  std::string option_place(const std::string& profile, const std::string& key) const;
  /// The judge's rule of a profile (quick-max-ci-width replaces max-ci-width under "quick").
  JudgeRule rule_for(const std::string& profile) const;
};

/// Whether a measurement's select keys match a claim's select table: every key of the claim is
/// present with an equal value (numbers compare as numbers: "5" == "5.0"; "name:param" values by
/// the name as text and the parameter the same way: "weierstrass:1" == "weierstrass:1.0"; other
/// values as text).
bool select_matches(const std::map<std::string, std::string>& wanted, const std::map<std::string, std::string>& have);

/// Glob match over claim ids: '*' any run, '?' one character.
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace attnrate
