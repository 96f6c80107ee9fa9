#include "studies/verify/verify.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>

#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"
#include "studies/io/output.hpp"
#include "studies/io/output_set.hpp"
#include "studies/io/shell_quote.hpp"
#include "studies/registry.hpp"
#include "studies/sweep/distributed.hpp"
#include "studies/sweep/study_options.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/verify/report.hpp"
#include "theory/claims/builtin_claims.hpp"
#include "theory/claims/claims_file.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/token_law.hpp"

namespace attnrate {

std::vector<Claim> builtin_claims() {
  const StudyCatalog catalog = study_catalog();
  std::vector<Claim> out;
  for (const auto& f : builtin_claims_files()) {
    auto c = parse_claims(f.text, std::string(f.file), catalog);
    out.insert(out.end(), std::make_move_iterator(c.begin()), std::make_move_iterator(c.end()));
  }
  check_unique_ids(out);
  return out;
}

std::vector<Claim> load_claims(const std::vector<std::filesystem::path>& paths) {
  if (paths.empty()) return builtin_claims();
  const StudyCatalog catalog = study_catalog();
  std::vector<Claim> out;
  for (const auto& p : paths) {
    auto c = load_claims(p, catalog);
    out.insert(out.end(), std::make_move_iterator(c.begin()), std::make_move_iterator(c.end()));
  }
  check_unique_ids(out);
  return out;
}

namespace {

Settings claim_settings(const Claim& c, const std::string& profile, const StudyDefinition& def) {
  Settings s(def.keys());
  for (const auto& [k, v] : c.options(profile)) s.set(k, v, c.option_place(profile, k) + ": " + k);
  return s;
}

std::string select_text(const std::map<std::string, std::string>& select) {
  std::string s;
  for (const auto& [k, v] : select) s += (s.empty() ? "" : ", ") + k + " = " + v;
  return s.empty() ? "(no select keys)" : s;
}

// Select values that name an activation or a token law are checked as such before the run (a
// typo would otherwise come out as "missing" after it), and a token law must be one the run's
// --token-laws lists.
void check_select_values(const Claim& c, const std::string& profile, const Settings& s) {
  for (const auto& [key, value] : c.select) {
    const auto line = c.select_lines.find(key);
    const std::string place = line == c.select_lines.end() ? c.place.str() : SourcePlace{c.place.file, line->second}.str();
    const std::string where = place + ": [claim.select] " + key + " = \"" + value + "\": ";
    try {
      if (key == "activation") (void)Activation::parse(value);
      if (key == "tokens") (void)TokenLaw::parse(value);
    } catch (const InputError& e) {
      throw InputError(where + e.what());
    }
    if (key == "tokens" && s.has_key("token-laws")) {
      const std::vector<std::string> laws = s.get_list("token-laws");
      if (std::find(laws.begin(), laws.end(), value) == laws.end())
        throw InputError(where + "the run's token-laws are \"" + s.raw("token-laws") + "\" (" +
                         c.option_place(profile, "token-laws") +
                         "), so it would measure none with this law; add it to token-laws");
    }
  }
}

}  // namespace

void check_claim_options(const std::vector<Claim>& claims, const std::string& profile) {
  // The profile to run first, then the other: a bad [claim.quick] value is found by a full run
  // too, not only when someone runs quick. A problem both profiles share is listed once.
  const std::string other = profile == "quick" ? "full" : "quick";
  std::string problems;
  for (const auto& c : claims) {
    std::vector<std::pair<std::string, std::string>> found;  // message, profile
    for (const std::string& p : {profile, other}) {
      try {
        const StudyDefinition& def = find_study(c.study);
        const Settings s = claim_settings(c, p, def);
        if (def.check) def.check(s);
        check_select_values(c, p, s);
        // A quantity reported only under some option would come out "missing" after the run.
        for (const QuantitySpec& q : def.quantities) {
          const std::string& key = q.only_with_key;
          if (q.name != c.quantity || key.empty() || s.raw(key) == q.only_with_value) continue;
          const bool given = c.param_lines.count(key) || (p == "quick" && c.quick_lines.count(key));
          const std::string now = given ? "sets " + key + " = \"" + s.raw(key) + "\""
                                        : "leaves " + key + " at its default \"" + s.raw(key) + "\"";
          throw InputError(c.option_place(p, key) + ": " + c.study + " reports '" + q.name + "' only with " + key +
                           " = \"" + q.only_with_value + "\", but the claim " + now + "; set " + key + " = \"" +
                           q.only_with_value + "\" in [claim.params]");
        }
      } catch (const InputError& e) {
        if (!found.empty() && found.front().first == e.what()) found.front().second += " and " + p;
        else found.emplace_back(e.what(), p);
      }
    }
    for (const auto& [message, p] : found) {
      if (!problems.empty()) problems += '\n';
      problems.append(message).append(" (claim '").append(c.id).append("', ").append(p).append(" profile");
      problems.append(p.find(" and ") != std::string::npos ? "s)" : ")");
    }
  }
  if (!problems.empty()) throw InputError(problems);
}

nlohmann::json judge_claim(const Claim& claim, const std::string& profile, const nlohmann::json& study_summary) {
  const JudgeRule rule = claim.rule_for(profile);
  nlohmann::json e;
  e["id"] = claim.id;
  e["statement"] = claim.statement;
  e["source"] = claim.source;
  if (!claim.note.empty()) e["note"] = claim.note;
  e["defined_at"] = claim.place.str();
  e["study"] = claim.study;
  e["quantity"] = claim.quantity;
  e["select"] = claim.select;
  e["bound"] = to_string(rule.bound);
  e["theory"] = rule.bound == Bound::within ? nlohmann::json{rule.theory_lo, rule.theory_hi}
                                            : nlohmann::json(rule.theory_lo);
  e["tolerance"] = rule.tolerance;
  e["max_ci_width"] = rule.max_ci_width ? nlohmann::json(*rule.max_ci_width) : nlohmann::json();
  e["rule"] = describe(rule);
  e["quick_decisive"] = claim.quick_decisive;

  std::vector<Measurement> matches;
  std::vector<std::string> available;
  if (study_summary.contains("quantities") && study_summary.at("quantities").is_array())
    for (const auto& q : study_summary.at("quantities")) {
      Measurement m = measurement_from_json(q);
      if (m.quantity != claim.quantity) continue;
      available.push_back(select_text(m.select));
      if (select_matches(claim.select, m.select)) matches.push_back(std::move(m));
    }
  if (matches.size() != 1) {
    std::string list;
    for (const auto& a : available) list += "\n  " + a;
    if (matches.empty()) {
      e["verdict"] = "missing";
      // None of that quantity: the study's own reason if it gave one, and what the quantity is
      // (it may be reported only under some option, e.g. --schedule adaptive).
      std::string why;
      if (study_summary.contains("error") && study_summary.at("error").is_string())
        why = ": " + study_summary.at("error").get<std::string>();
      for (const QuantitySpec& q : find_study(claim.study).quantities)
        if (q.name == claim.quantity) why += "; " + q.name + ": " + q.description;
      e["error"] = "the study reported no '" + claim.quantity + "' measurement" +
                   (claim.select.empty() ? std::string() : " with " + select_text(claim.select)) +
                   (available.empty() ? " (it reported none of that quantity" + why + ")" : "; it reported:" + list);
    } else {
      e["verdict"] = "ambiguous";
      e["error"] = std::to_string(matches.size()) + " '" + claim.quantity + "' measurements match " +
                   select_text(claim.select) + "; add select keys to pick one of:" + list;
    }
    return e;
  }
  const Measurement& m = matches.front();
  e["measured"] = m.value;
  e["ci_t"] = {m.ci_t_lo, m.ci_t_hi};
  e["ci_boot"] = {m.ci_boot_lo, m.ci_boot_hi};
  e["width_scale"] = to_string(m.width_scale);
  e["measurement_select"] = m.select;
  e["details"] = m.details;
  if (m.may_be_higher || m.may_be_lower) e["censored"] = {{"may_be_higher", m.may_be_higher}, {"may_be_lower", m.may_be_lower}};
  try {
    const Judgement j = judge(rule, m);
    e["judged_interval"] = {j.lo, j.hi};
    e["width"] = j.width;
    e["verdict"] = to_string(j.verdict);
    e["reason"] = j.reason;
    // A two-sided claim with no width rule is consistent however little the run measured.
    if (j.verdict == Verdict::consistent && !rule.max_ci_width && (rule.bound == Bound::equal || rule.bound == Bound::within)) {
      std::ostringstream w;
      w << "consistent with no max-ci-width: any interval that meets the theory passes, however wide (this one: "
        << (m.width_scale == WidthScale::log ? "log width " : "width ") << j.width
        << "), so a run too small to decide is consistent too; set max-ci-width"
        << (profile == "quick" ? " (or quick-max-ci-width)" : "") << " to the widest interval that decides the claim";
      e["judge_warning"] = w.str();
    }
  } catch (const InputError& err) {
    e["verdict"] = "no-verdict";
    e["error"] = err.what();
  }
  return e;
}

nlohmann::json run_verify(const VerifyOptions& opt) {
  if (opt.profile != "quick" && opt.profile != "full")
    throw InputError("--profile must be quick or full, got '" + opt.profile + "'");
  if (opt.only && opt.only->empty())
    throw InputError("--only needs a glob over claim ids, e.g. 'minimax.*', got ''");
  std::vector<Claim> claims;
  std::vector<std::string> names;  // every id, and each family's glob 'family.*', for the suggestion
  for (auto& c : load_claims(opt.claims_paths)) {
    names.push_back(c.id);
    names.push_back(c.id.substr(0, c.id.find('.')) + ".*");
    if (!opt.only || glob_match(*opt.only, c.id)) claims.push_back(std::move(c));
  }
  if (claims.empty()) {
    // A family glob that extends what was typed ('rfa.*' -> 'rfa-vs-mlp.*') before the nearest name.
    const std::string typed = opt.only.value_or(""), stem = typed.substr(0, typed.find_first_of(".*?["));
    std::string hint;
    for (const auto& n : names)
      if (hint.empty() && !stem.empty() && n.ends_with(".*") && n.starts_with(stem)) hint = "; did you mean '" + n + "'?";
    if (hint.empty()) hint = did_you_mean(typed, names);
    std::string list = "attnrate list";
    for (const auto& p : opt.claims_paths) list += " --claims " + shell_quote(p.string());
    throw InputError("--only '" + typed + "' matches no claim" + hint + (hint.empty() ? "; see" : " See") + " `" +
                     list + "` for the ids");
  }
  std::optional<std::uint64_t> base_seed;
  if (opt.seed) {
    Settings seed({base_seed_key()});
    seed.set("seed", *opt.seed, "--seed");
    base_seed = seed.get_seed("seed");  // the range check, with the option named
    for (auto& c : claims) {
      std::erase_if(c.params, [](const auto& kv) { return kv.first == "seed"; });
      std::erase_if(c.quick, [](const auto& kv) { return kv.first == "seed"; });
      c.params.emplace_back("seed", std::to_string(*base_seed));
    }
  }
  check_claim_options(claims, opt.profile);
  const auto t0 = std::chrono::steady_clock::now();
  std::filesystem::create_directories(opt.out);
  // The reports and every claim's study outputs form one set (checkpoints stay in place).
  const CellShare share = world_share();
  // Said once the claims are known to be good (a refused run replaces nothing).
  if (const std::string w = replaced_outputs_warning(opt.out, "verify", "verify's"); !w.empty() && share.root())
    std::cerr << "attnrate: warning: " << w << "\n";
  OutputSet outputs(opt.out, share.root());

  // Claims measured by the same study with the same options share one run.
  struct Run {
    std::string study;
    StudyOptions options;
    std::filesystem::path dir;
    nlohmann::json summary;
    double seconds = 0;
  };
  std::map<std::string, Run> runs;
  std::vector<std::string> run_order, claim_run;
  for (const auto& c : claims) {
    const StudyOptions options = c.options(opt.profile);
    StudyOptions sorted = options;  // the same options in another order are the same run
    std::sort(sorted.begin(), sorted.end());
    std::string key = c.study;
    for (const auto& [k, v] : sorted) key += "|" + k + "=" + v;
    if (!runs.count(key)) {
      runs[key] = Run{c.study, options, opt.out / "claims" / c.id, {}, 0.0};
      run_order.push_back(key);
    }
    claim_run.push_back(key);
  }
  if (opt.before_runs) {
    std::vector<std::filesystem::path> dirs;
    for (const auto& key : run_order) dirs.push_back(runs[key].dir);
    opt.before_runs(dirs);
  }
  for (const auto& key : run_order) {
    Run& r = runs[key];
    const StudyDefinition& def = find_study(r.study);
    Settings settings(def.keys());
    for (const auto& [k, v] : r.options) settings.set(k, v, "claim option " + k);
    StudyContext ctx{outputs.staging() / std::filesystem::relative(r.dir, opt.out), opt.threads, opt.resume,
                     opt.progress};
    ctx.checkpoints = r.dir / "cells";
    const auto s0 = std::chrono::steady_clock::now();
    r.summary = def.run(settings, ctx);
    r.seconds = seconds_since(s0);
  }

  nlohmann::json summary;
  summary["profile"] = opt.profile;
  summary["only"] = opt.only.value_or("");
  if (base_seed) summary["seed"] = *base_seed;
  summary["claims_files"] = nlohmann::json::array();
  for (const auto& p : opt.claims_paths) summary["claims_files"].push_back(p.string());
  summary["command_line"] = opt.command_line;
  summary["build"] = build_info();
  summary["claims"] = nlohmann::json::array();
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const Claim& c = claims[i];
    const Run& r = runs.at(claim_run[i]);
    nlohmann::json e = judge_claim(c, opt.profile, r.summary);
    nlohmann::json params = nlohmann::json::object();
    std::string rerun = "attnrate study " + c.study;
    for (const auto& [k, v] : r.options) {
      params[k] = option_value_json(v);
      rerun += " --" + k + " " + shell_quote(v);
    }
    rerun += " --out " + shell_quote(r.dir.string());
    e["parameters"] = params;
    if (r.summary.contains("parameters")) e["study_parameters"] = r.summary.at("parameters");
    e["rerun"] = rerun;
    e["wall_seconds"] = r.seconds;
    if (const auto warnings = summary_warnings(r.summary); !warnings.empty()) e["warnings"] = warnings;
    e["directory"] = std::filesystem::relative(r.dir, opt.out).string();
    // The measurement's own figure, else the study's.
    std::string figure;
    if (e.contains("details") && e.at("details").contains("figure"))
      figure = e.at("details").at("figure").get<std::string>();
    else if (r.summary.contains("figure"))
      figure = r.summary.at("figure").get<std::string>();
    if (!figure.empty()) e["figure"] = e.at("directory").get<std::string>() + "/" + figure;
    summary["claims"].push_back(e);
  }
  summary["wall_seconds"] = seconds_since(t0);
  // Under MPI every rank holds the same claims; rank 0 writes the reports once every rank is
  // done writing (the HTML report embeds the studies' figures).
  barrier(share);
  if (share.root()) {
    write_file_atomic(outputs.staging() / "summary.json", summary.dump(2) + "\n");
    write_file_atomic(outputs.staging() / "report.md", verify_report_markdown(summary));
    write_file_atomic(outputs.staging() / "report.html", verify_report_html(summary, outputs.staging()));
    outputs.commit();
  }
  return summary;
}

int verify_exit_code(const nlohmann::json& summary) {
  for (const auto& c : summary.at("claims"))
    if (c.at("verdict") != "consistent") return 1;
  return 0;
}

}  // namespace attnrate
