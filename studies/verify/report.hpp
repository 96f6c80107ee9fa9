#pragma once
// The Markdown and HTML reports of a verify summary (summary.json of `attnrate verify`).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace attnrate {

/// A claim's theory as the reports show it: "[lo, hi]" for a range, else the value.
std::string claim_theory_text(const nlohmann::json& claim);

std::string verify_report_markdown(const nlohmann::json& summary);
/// Self-contained HTML: the figures named by the claims (relative to `out`) are embedded.
std::string verify_report_html(const nlohmann::json& summary, const std::filesystem::path& out);

}  // namespace attnrate
