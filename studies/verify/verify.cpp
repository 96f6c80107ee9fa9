#include "studies/verify/verify.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "studies/sweep/distributed.hpp"
#include "studies/io/output.hpp"
#include "studies/registry.hpp"
#include "theory/claims/old_claims.hpp"

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

}  // namespace

std::string claim_theory_text(const nlohmann::json& c) {
  return c.contains("theory_range") ? interval(c, "theory_range") : num(c.value("theory_value", nlohmann::json()));
}

namespace {

std::string shell_quote(const std::string& s) {
  if (s.find_first_of(" \t'\"$`\\*?") == std::string::npos && !s.empty()) return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

nlohmann::json run_verify(const VerifyOptions& opt) {
  if (opt.profile != "quick" && opt.profile != "full")
    throw InputError("--profile must be quick or full, got '" + opt.profile + "'");
  const std::vector<ClaimSpec> claims = select_claims(opt.only);
  if (claims.empty()) throw InputError("--only '" + opt.only + "' matches no claim; see `attnrate list`");
  const auto t0 = std::chrono::steady_clock::now();
  std::filesystem::create_directories(opt.out);

  // Claims measured by the same study with the same settings share one run.
  struct Run {
    std::string study;
    SettingOverrides settings;
    std::filesystem::path dir;
    nlohmann::json summary;
    double seconds = 0;
  };
  std::map<std::string, Run> runs;
  std::vector<std::string> run_order;
  std::vector<std::string> claim_run;
  for (const auto& c : claims) {
    const SettingOverrides& s = opt.profile == "quick" ? c.quick : c.full;
    std::string key = c.study;
    for (const auto& [k, v] : s) key += "|" + k + "=" + v;
    if (!runs.count(key)) {
      Run r{c.study, s, opt.out / "claims" / c.id, {}, 0.0};
      runs[key] = r;
      run_order.push_back(key);
    }
    claim_run.push_back(key);
  }

  for (const auto& key : run_order) {
    Run& r = runs[key];
    const StudyDefinition& def = find_study(r.study);
    Settings settings(def.keys());
    for (const auto& [k, v] : r.settings) settings.set(k, v, "claim registry (" + opt.profile + "): " + k);
    StudyContext ctx{r.dir, opt.threads, opt.resume, opt.progress};
    const auto s0 = std::chrono::steady_clock::now();
    r.summary = def.run(settings, ctx);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
  }

  nlohmann::json summary;
  summary["profile"] = opt.profile;
  summary["only"] = opt.only;
  summary["command_line"] = opt.command_line;
  summary["build"] = build_info();
  summary["claims"] = nlohmann::json::array();
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const ClaimSpec& spec = claims[i];
    const Run& r = runs.at(claim_run[i]);
    nlohmann::json measured;
    for (const auto& c : r.summary.at("claims"))
      if (c.at("id") == spec.id) measured = c;
    nlohmann::json entry = measured.is_null() ? nlohmann::json::object() : measured;
    entry["id"] = spec.id;
    entry["statement"] = spec.statement;
    entry["source"] = spec.source;
    entry["study"] = spec.study;
    entry["quantity"] = spec.quantity;
    entry["quick_decisive"] = spec.quick_decisive;
    if (measured.is_null()) {
      entry["verdict"] = "missing";
      entry["error"] = "the study did not report this claim" +
                       (r.summary.contains("error") ? ": " + r.summary.at("error").get<std::string>() : "");
    }
    nlohmann::json params = nlohmann::json::object();
    std::string rerun = "attnrate study " + spec.study;
    for (const auto& [k, v] : r.settings) {
      params[k] = v;
      rerun += " --" + k + " " + shell_quote(v);
    }
    rerun += " --out " + shell_quote(r.dir.string());
    entry["parameters"] = params;
    entry["study_parameters"] = r.summary.at("parameters");
    entry["rerun"] = rerun;
    entry["wall_seconds"] = r.seconds;
    entry["directory"] = std::filesystem::relative(r.dir, opt.out).string();
    // The claim's own figure, else the study's, else the one of the study's figures whose name
    // is <study>-<target>.png (claim ids are study.target...., ':' written '-' in file names).
    std::string figure;
    if (measured.is_object() && measured.contains("figure")) figure = measured.at("figure").get<std::string>();
    else if (r.summary.contains("figure")) figure = r.summary.at("figure").get<std::string>();
    else if (r.summary.contains("figures") && r.summary.at("figures").is_array() && !r.summary.at("figures").empty()) {
      const auto& figs = r.summary.at("figures");
      figure = figs[0].get<std::string>();
      const auto dot = spec.id.find('.');
      std::string target = dot == std::string::npos ? "" : spec.id.substr(dot + 1, spec.id.find('.', dot + 1) - dot - 1);
      std::replace(target.begin(), target.end(), ':', '-');
      const std::string wanted = spec.study + "-" + target + ".png";
      for (const auto& f : figs)
        if (f.get<std::string>() == wanted) {
          figure = f.get<std::string>();
          break;
        }
    }
    if (!figure.empty()) entry["figure"] = entry["directory"].get<std::string>() + "/" + figure;
    summary["claims"].push_back(entry);
  }
  summary["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Under MPI every rank holds the same claims; rank 0 writes the reports, once every rank is
  // done writing (the HTML report embeds the studies' figures).
  const CellShare share = world_share();
  barrier(share);
  if (share.root()) {
    write_file_atomic(opt.out / "summary.json", summary.dump(2) + "\n");
    write_file_atomic(opt.out / "report.md", verify_report_markdown(summary));
    write_file_atomic(opt.out / "report.html", verify_report_html(summary, opt.out));
  }
  return summary;
}

int verify_exit_code(const nlohmann::json& summary) {
  for (const auto& c : summary.at("claims"))
    if (c.at("verdict") != "consistent") return 1;
  return 0;
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
      << claim_theory_text(c) << " | " << num(c.value("measured", nlohmann::json())) << " | "
      << interval(c, "ci_t") << " | " << interval(c, "ci_boot") << " | " << num(c.value("tolerance", nlohmann::json()))
      << " | **" << c.at("verdict").get<std::string>() << "** |\n";
  o << "\n";
  for (const auto& c : s.at("claims")) {
    o << "## " << c.at("id").get<std::string>() << "\n\n";
    o << c.at("statement").get<std::string>() << "\n\n";
    o << "- source: " << c.at("source").get<std::string>() << "\n";
    o << "- verdict: **" << c.at("verdict").get<std::string>() << "**";
    if (c.contains("verdict_rule")) o << " (" << c.at("verdict_rule").get<std::string>() << ")";
    o << "\n- theory " << claim_theory_text(c) << ", measured "
      << num(c.value("measured", nlohmann::json())) << ", CI_t " << interval(c, "ci_t") << ", CI_boot "
      << interval(c, "ci_boot") << ", tolerance " << num(c.value("tolerance", nlohmann::json())) << ", max CI width "
      << num(c.value("max_ci_width", nlohmann::json())) << "\n";
    if (c.contains("error")) o << "- error: " << c.at("error").get<std::string>() << "\n";
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
      << num(c.value("measured", nlohmann::json())) << "</td><td>" << interval(c, "ci_t") << "</td><td>"
      << interval(c, "ci_boot") << "</td><td>" << num(c.value("tolerance", nlohmann::json())) << "</td><td>"
      << badge(c.at("verdict").get<std::string>()) << "</td></tr>\n";
  o << "</table>\n";
  for (const auto& c : s.at("claims")) {
    const std::string id = c.at("id").get<std::string>();
    o << "<section id=\"" << html_escape(id) << "\"><h2>" << html_escape(id) << " " << badge(c.at("verdict")) << "</h2>\n";
    o << "<p>" << html_escape(c.at("statement").get<std::string>()) << "</p><ul>";
    o << "<li>source: " << html_escape(c.at("source").get<std::string>()) << "</li>";
    o << "<li>theory " << claim_theory_text(c) << ", measured "
      << num(c.value("measured", nlohmann::json())) << ", CI<sub>t</sub> " << interval(c, "ci_t") << ", CI<sub>boot</sub> "
      << interval(c, "ci_boot") << ", tolerance " << num(c.value("tolerance", nlohmann::json())) << ", max CI width "
      << num(c.value("max_ci_width", nlohmann::json())) << "</li>";
    if (c.contains("verdict_rule")) o << "<li>rule: " << html_escape(c.at("verdict_rule").get<std::string>()) << "</li>";
    if (c.contains("error")) o << "<li>error: " << html_escape(c.at("error").get<std::string>()) << "</li>";
    o << "<li>parameters: <code>" << html_escape(c.at("parameters").dump()) << "</code></li>";
    if (c.at("study_parameters").contains("seed"))
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
