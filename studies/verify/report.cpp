#include "studies/verify/report.hpp"

#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

namespace attnrate {
namespace {

std::string base64(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string num(const nlohmann::json& v, int precision = 4) {
  if (!v.is_number()) return v.is_null() ? "-" : v.dump();
  std::ostringstream s;
  s << std::setprecision(precision) << v.get<double>();
  return s.str();
}

std::string interval(const nlohmann::json& c, const char* key) {
  if (!c.contains(key) || !c.at(key).is_array() || c.at(key).size() != 2) return "-";
  return "[" + num(c.at(key)[0]) + ", " + num(c.at(key)[1]) + "]";
}

// At the quick profile, whether the claim's file promises a decision at quick sizes.
std::string quick_note(const nlohmann::json& s, const nlohmann::json& c) {
  const std::optional<bool> decisive = quick_decisive(s, c);
  if (!decisive) return {};
  return *decisive ? "decisive at quick sizes: the claims file expects a consistent verdict at this profile"
             : "not decisive at quick sizes (quick-decisive = false): an inconclusive verdict is expected at "
               "this profile";
}

}  // namespace

std::string claim_theory_text(const nlohmann::json& c) {
  if (!c.contains("theory")) return "-";
  const std::string t = c.at("theory").is_array() ? interval(c, "theory") : num(c.at("theory"));
  return c.value("bound", std::string("equal")) + " " + t;
}

std::string report_number_text(const nlohmann::json& c, const char* key) {
  return c.contains(key) ? num(c.at(key)) : "-";
}

std::string report_interval_text(const nlohmann::json& c, const char* key) { return interval(c, key); }

namespace {
// `v` marked by the censoring flags.
std::string censored_text(const std::string& v, bool higher, bool lower) {
  if (v == "-") return v;
  if (higher && lower) return v + " (censored both ways)";
  if (higher) return ">= " + v;
  if (lower) return "<= " + v;
  return v;
}
}  // namespace

std::string claim_measured_text(const nlohmann::json& c) {
  const nlohmann::json flags = c.value("censored", nlohmann::json::object());
  return censored_text(report_number_text(c, "measured"), flags.value("may_be_higher", false),
                       flags.value("may_be_lower", false));
}

std::string quantity_value_text(const nlohmann::json& q) {
  return censored_text(report_number_text(q, "value"), q.value("may_be_higher", false), q.value("may_be_lower", false));
}


std::optional<bool> quick_decisive(const nlohmann::json& s, const nlohmann::json& c) {
  if (s.value("profile", std::string()) != "quick" || !c.contains("quick_decisive")) return std::nullopt;
  return c.at("quick_decisive").get<bool>();
}

std::string verdict_counts_text(const nlohmann::json& s) {
  std::map<std::string, int> counts, not_decisive;  // per verdict; of those, marked quick-decisive = false
  for (const auto& c : s.at("claims")) {
    const std::string verdict = c.at("verdict").get<std::string>();
    ++counts[verdict];
    if (quick_decisive(s, c) == false) ++not_decisive[verdict];
  }
  std::ostringstream o;
  o << counts["consistent"] << " of " << s.at("claims").size() << " claims consistent";
  for (const auto& [verdict, n] : counts)
    if (verdict != "consistent") {
      o << ", " << n << " " << verdict;
      if (not_decisive[verdict] > 0)
        o << " (" << (not_decisive[verdict] == n ? "all" : std::to_string(not_decisive[verdict]) + " of them")
          << " marked not decisive at quick sizes)";
    }
  return o.str();
}

std::string verify_report_markdown(const nlohmann::json& s) {
  std::ostringstream o;
  std::size_t ok = 0;
  for (const auto& c : s.at("claims")) ok += c.at("verdict") == "consistent";
  o << "# attnrate verify (" << s.at("profile").get<std::string>() << " profile)\n\n";
  o << ok << " of " << s.at("claims").size() << " claims consistent. Revision "
    << s.at("build").at("git_revision").get<std::string>() << ", " << num(s.at("wall_seconds"), 3) << " s.\n\n";
  o << "| claim | quantity | theory | measured | 95% CI (t) | 95% CI (bootstrap) | tolerance | verdict |\n";
  o << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : s.at("claims"))
    o << "| " << c.at("id").get<std::string>() << " | " << c.value("quantity", "") << " | "
      << claim_theory_text(c) << " | " << claim_measured_text(c) << " | "
      << interval(c, "ci_t") << " | " << interval(c, "ci_boot") << " | " << report_number_text(c, "tolerance")
      << " | **" << c.at("verdict").get<std::string>() << "** |\n";
  o << "\n";
  for (const auto& c : s.at("claims")) {
    o << "## " << c.at("id").get<std::string>() << "\n\n";
    o << c.at("statement").get<std::string>() << "\n\n";
    o << "- source: " << c.at("source").get<std::string>() << "\n";
    if (c.contains("note")) o << "- note: " << c.at("note").get<std::string>() << "\n";
    o << "- rule: " << c.value("rule", std::string("-")) << "; defined at " << c.value("defined_at", std::string("-")) << "\n";
    o << "- verdict: **" << c.at("verdict").get<std::string>() << "**";
    if (c.contains("reason")) o << ": " << c.at("reason").get<std::string>();
    o << "\n- theory " << claim_theory_text(c) << ", measured "
      << claim_measured_text(c) << ", CI_t " << interval(c, "ci_t") << ", CI_boot "
      << interval(c, "ci_boot") << ", tolerance " << report_number_text(c, "tolerance") << ", max CI width "
      << report_number_text(c, "max_ci_width") << "\n";
    if (c.contains("error")) o << "- error: " << c.at("error").get<std::string>() << "\n";
    if (c.contains("judge_warning")) o << "- warning: " << c.at("judge_warning").get<std::string>() << "\n";
    for (const auto& w : c.value("warnings", nlohmann::json::array())) o << "- warning: " << w.get<std::string>() << "\n";
    if (const std::string q = quick_note(s, c); !q.empty()) o << "- " << q << "\n";
    if (c.contains("parameters")) o << "- parameters: `" << c.at("parameters").dump() << "`\n";
    if (c.contains("study_parameters") && c.at("study_parameters").contains("seed"))
      o << "- seed: " << c.at("study_parameters").at("seed").dump() << "\n";
    o << "- wall time " << num(c.at("wall_seconds"), 3) << " s; rerun: `" << c.at("rerun").get<std::string>() << "`\n";
    if (c.contains("figure")) o << "\n![" << c.at("id").get<std::string>() << "](" << c.at("figure").get<std::string>() << ")\n";
    o << "\n";
  }
  o << "Build: " << s.at("build").dump() << "\n\nCommand: `" << s.at("command_line").get<std::string>() << "`\n";
  return o.str();
}

std::string verify_report_html(const nlohmann::json& s, const std::filesystem::path& out) {
  std::ostringstream o;
  auto badge = [](const std::string& v) {
    const char* colour = v == "consistent" ? "#1a7f37" : v == "inconclusive" ? "#9a6700" : "#cf222e";
    return "<span class=\"badge\" style=\"background:" + std::string(colour) + "\">" + v + "</span>";
  };
  std::size_t ok = 0;
  for (const auto& c : s.at("claims")) ok += c.at("verdict") == "consistent";
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>attnrate verify</title>\n"
    << "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#1f2328}"
    << "table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}"
    << ".badge{color:#fff;border-radius:1em;padding:2px 10px;font-weight:bold}img{max-width:100%}"
    << "code{background:#f6f8fa;padding:2px 4px;word-break:break-all}</style></head><body>\n";
  o << "<h1>attnrate verify (" << html_escape(s.at("profile").get<std::string>()) << " profile)</h1>\n";
  o << "<p>" << ok << " of " << s.at("claims").size() << " claims consistent. Revision "
    << html_escape(s.at("build").at("git_revision").get<std::string>()) << ", " << num(s.at("wall_seconds"), 3)
    << " s.</p>\n<table id=\"verdicts\"><tr><th>claim</th><th>quantity</th><th>theory</th><th>measured</th><th>95% CI "
       "(t)</th><th>95% CI (bootstrap)</th><th>tolerance</th><th>verdict</th></tr>\n";
  for (const auto& c : s.at("claims"))
    o << "<tr><td><a href=\"#" << html_escape(c.at("id").get<std::string>()) << "\">"
      << html_escape(c.at("id").get<std::string>()) << "</a></td><td>" << html_escape(c.value("quantity", ""))
      << "</td><td>" << claim_theory_text(c) << "</td><td>"
      << html_escape(claim_measured_text(c)) << "</td><td>" << interval(c, "ci_t") << "</td><td>"
      << interval(c, "ci_boot") << "</td><td>" << report_number_text(c, "tolerance") << "</td><td>"
      << badge(c.at("verdict").get<std::string>()) << "</td></tr>\n";
  o << "</table>\n";
  for (const auto& c : s.at("claims")) {
    const std::string id = c.at("id").get<std::string>();
    o << "<section id=\"" << html_escape(id) << "\"><h2>" << html_escape(id) << " " << badge(c.at("verdict")) << "</h2>\n";
    o << "<p>" << html_escape(c.at("statement").get<std::string>()) << "</p><ul>";
    o << "<li>source: " << html_escape(c.at("source").get<std::string>()) << "</li>";
    o << "<li>theory " << claim_theory_text(c) << ", measured "
      << html_escape(claim_measured_text(c)) << ", CI<sub>t</sub> " << interval(c, "ci_t") << ", CI<sub>boot</sub> "
      << interval(c, "ci_boot") << ", tolerance " << report_number_text(c, "tolerance") << ", max CI width "
      << report_number_text(c, "max_ci_width") << "</li>";
    o << "<li>rule: " << html_escape(c.value("rule", std::string("-"))) << "</li>";
    if (c.contains("reason")) o << "<li>reason: " << html_escape(c.at("reason").get<std::string>()) << "</li>";
    if (c.contains("note")) o << "<li>note: " << html_escape(c.at("note").get<std::string>()) << "</li>";
    o << "<li>defined at " << html_escape(c.value("defined_at", std::string("-"))) << "</li>";
    if (c.contains("error")) o << "<li>error: " << html_escape(c.at("error").get<std::string>()) << "</li>";
    if (c.contains("judge_warning"))
      o << "<li>warning: " << html_escape(c.at("judge_warning").get<std::string>()) << "</li>";
    for (const auto& w : c.value("warnings", nlohmann::json::array()))
      o << "<li>warning: " << html_escape(w.get<std::string>()) << "</li>";
    if (const std::string q = quick_note(s, c); !q.empty()) o << "<li>" << html_escape(q) << "</li>";
    o << "<li>parameters: <code>" << html_escape(c.at("parameters").dump()) << "</code></li>";
    if (c.contains("study_parameters") && c.at("study_parameters").contains("seed"))
      o << "<li>seed: " << html_escape(c.at("study_parameters").at("seed").dump()) << "</li>";
    o << "<li>wall time " << num(c.at("wall_seconds"), 3) << " s</li>";
    o << "<li>rerun: <code>" << html_escape(c.at("rerun").get<std::string>()) << "</code></li></ul>\n";
    if (c.contains("figure")) {
      std::ifstream in(out / c.at("figure").get<std::string>(), std::ios::binary);
      const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!png.empty())
        o << "<img alt=\"" << html_escape(id) << "\" src=\"data:image/png;base64," << base64(png) << "\">\n";
      else
        o << "<p><em>figure missing: " << html_escape(c.at("figure").get<std::string>()) << "</em></p>\n";
    }
    o << "</section>\n";
  }
  o << "<h2>Build</h2><p><code>" << html_escape(s.at("build").dump()) << "</code></p>\n";
  o << "<p>Command: <code>" << html_escape(s.at("command_line").get<std::string>()) << "</code></p>\n";
  o << "</body></html>\n";
  return o.str();
}

}  // namespace attnrate
