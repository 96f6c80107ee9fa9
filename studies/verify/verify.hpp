#pragma once
// `attnrate verify`: reads claims (the built-in claims files, or the files given with
// --claims), checks every claim against the study registry before anything runs, runs each
// study once per distinct set of options, judges every claim on the measurement it selects
// (theory/claims/judge.hpp), and writes summary.json, report.md and a self-contained
// report.html (figures embedded) into one directory. Report rendering: verify/report.hpp.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <optional>
#include <vector>

#include "theory/claims/claim.hpp"

namespace attnrate {

struct VerifyOptions {
  std::string profile = "full";                     ///< "quick" or "full"
  /// Glob over claim ids (--only); nullopt = every claim. Given, it must not be empty.
  std::optional<std::string> only;
  /// Base seed of every claim's study run (--seed), replacing the claims' own `seed` in both
  /// profiles; nullopt = the claims' seeds (or the studies' defaults). Given, it must be a valid
  /// seed (an empty text is refused).
  std::optional<std::string> seed;
  std::vector<std::filesystem::path> claims_paths;  ///< claims files or folders; empty = built-in
  std::filesystem::path out;
  int threads = 0;
  bool resume = false;
  bool progress = true;
  std::string command_line;  ///< recorded in the report
  /// Called once the claims and their options are valid, before any study runs, with the folders
  /// of the study runs (each with its cells/ checkpoints); the command line notes there what a
  /// run without --resume will recompute.
  std::function<void(const std::vector<std::filesystem::path>&)> before_runs;
};

/// The built-in claims (theory/claims/*.toml as compiled into the program), validated.
std::vector<Claim> builtin_claims();

/// The claims of `paths` (each a file or a folder of *.toml files), or the built-in claims when
/// `paths` is empty; validated against the study registry, ids unique across all files.
/// Throws InputError with file:line messages.
std::vector<Claim> load_claims(const std::vector<std::filesystem::path>& paths);

/// Checks that every claim's options are valid for its study in `profile` and in the other profile
/// (the study's own option checks, without running it; a study stops at the first bad option, so
/// one problem per claim and profile). Throws InputError listing every bad claim by file:line.
void check_claim_options(const std::vector<Claim>& claims, const std::string& profile);

/// Runs the claims and writes the reports; returns the summary ({"claims": [...], ...}).
/// Throws InputError for an unknown profile, a bad claims file, or a pattern that selects no
/// claim, before any study runs.
nlohmann::json run_verify(const VerifyOptions& options);

/// Judges `claim` on the measurements of its study's summary ("quantities"): the one whose
/// quantity is the claim's and whose select keys match. Returns the claim's entry of verify's
/// summary.json (docs/formats.md): verdict "missing" when no measurement matches, "ambiguous"
/// when several do (with the candidates' select keys in "error"), else the judge's verdict.
nlohmann::json judge_claim(const Claim& claim, const std::string& profile, const nlohmann::json& study_summary);

/// Exit code of a verify summary: 0 when every claim is consistent, 1 otherwise.
int verify_exit_code(const nlohmann::json& summary);

}  // namespace attnrate
