#pragma once
// `attnrate verify` (issue 5): runs every registered claim's study with the claim's profile
// settings, collects the verdicts, and writes report.md, a self-contained report.html (figures
// embedded) and summary.json into one directory.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace attnrate {

struct VerifyOptions {
  std::string profile = "full";  ///< "quick" or "full"
  std::string only;              ///< glob over claim ids; empty = all
  std::filesystem::path out;
  int threads = 0;
  bool resume = false;
  bool progress = true;
  std::string command_line;      ///< recorded in the report
};

/// Runs the claims and writes the reports; returns the summary ({"claims": [...], ...}).
/// Throws InputError for an unknown profile or a pattern that selects no claim.
nlohmann::json run_verify(const VerifyOptions& options);

/// Exit code of a verify summary: 0 when every claim is consistent, 1 otherwise.
int verify_exit_code(const nlohmann::json& summary);

/// The Markdown and HTML reports of a verify summary (exposed for tests).
/// A claim's theory as the reports show it: "[lo, hi]" for a claim judged against a theory range
/// (its "theory_range"), else its "theory_value".
std::string claim_theory_text(const nlohmann::json& claim);

std::string verify_report_markdown(const nlohmann::json& summary);
std::string verify_report_html(const nlohmann::json& summary, const std::filesystem::path& out);

}  // namespace attnrate
