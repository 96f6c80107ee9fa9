#pragma once
// The Markdown and HTML reports of a verify summary (summary.json of `attnrate verify`).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace attnrate {

/// A claim's theory as the reports show it: "[lo, hi]" for a range, else the value.
std::string claim_theory_text(const nlohmann::json& claim);
/// Number `key` of a claim or quantity record (4 significant digits), "-" when absent or null.
std::string report_number_text(const nlohmann::json& claim, const char* key);
/// Interval `key` of a claim or quantity record as "[lo, hi]", "-" when absent.
std::string report_interval_text(const nlohmann::json& claim, const char* key);
/// The measured value, marked when censored repetitions make it a bound: ">= v" when the truth
/// may only be higher, "<= v" when only lower, "v (censored both ways)" when either.
std::string claim_measured_text(const nlohmann::json& claim);
/// A study's quantity record's `value`, marked the same way by its `may_be_higher` and
/// `may_be_lower` flags.
std::string quantity_value_text(const nlohmann::json& quantity);
/// At the quick profile, whether the claim's file expects a decision at quick sizes
/// (quick-decisive); nullopt at the other profiles or when the claim record does not say.
std::optional<bool> quick_decisive(const nlohmann::json& summary, const nlohmann::json& claim);
/// The verdict counts `attnrate verify` closes with: "35 of 44 claims consistent, 9 inconclusive
/// (all marked not decisive at quick sizes)", each non-consistent verdict with how many of its
/// claims are so marked.
std::string verdict_counts_text(const nlohmann::json& summary);

std::string verify_report_markdown(const nlohmann::json& summary);
/// Self-contained HTML: the figures named by the claims (relative to `out`) are embedded.
std::string verify_report_html(const nlohmann::json& summary, const std::filesystem::path& out);

}  // namespace attnrate
