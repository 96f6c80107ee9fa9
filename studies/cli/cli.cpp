#include "studies/cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <utility>
#include <vector>

#include "estimators/common/blas.hpp"
#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"
#include "plots/gnuplot_script.hpp"
#include "studies/cli/version.hpp"
#include "studies/commands/fit_pairwise.hpp"
#include "studies/commands/fit_rfa.hpp"
#include "studies/commands/predict.hpp"
#include "studies/commands/rate.hpp"
#include "studies/commands/score.hpp"
#include "studies/commands/simulate_pairwise.hpp"
#include "studies/commands/simulate_rfa.hpp"
#include "studies/io/byte_size.hpp"
#include "studies/io/output_lock.hpp"
#include "studies/io/output_set.hpp"
#include "studies/io/settings.hpp"
#include "studies/io/shell_quote.hpp"
#include "studies/registry.hpp"
#include "studies/sweep/distributed.hpp"
#include "studies/sweep/study_summary.hpp"
#include "studies/sweep/sweep.hpp"
#include "studies/verify/report.hpp"
#include "studies/verify/verify.hpp"

namespace attnrate {
namespace {

void print_claims(const nlohmann::json& summary) {
  // A run's warnings once, after the table, naming the claims that share the run (its directory).
  struct RunWarnings {
    std::string directory, claims;
    nlohmann::json warnings;
  };
  std::vector<RunWarnings> runs;
  for (const auto& c : summary.at("claims")) {
    const std::string id = c.at("id").get<std::string>();
    std::cout << std::left << std::setw(44) << id << " " << claim_theory_text(c) << "  measured "
              << claim_measured_text(c) << "  CI_t " << report_interval_text(c, "ci_t") << "  CI_boot "
              << report_interval_text(c, "ci_boot") << "  tolerance " << report_number_text(c, "tolerance") << "  -> "
              << c.at("verdict").get<std::string>() << "\n";
    // missing, ambiguous or a failed run: why, as the reports give it
    if (c.contains("error") && c.at("error").is_string())
      std::cout << "    " << c.at("error").get<std::string>() << "\n";
    if (c.contains("judge_warning") && world_share().root())
      std::cerr << "attnrate: warning: " << id << ": " << c.at("judge_warning").get<std::string>() << "\n";
    if (!c.contains("warnings")) continue;
    const std::string dir = c.value("directory", id);
    const auto run = std::find_if(runs.begin(), runs.end(), [&](const RunWarnings& r) { return r.directory == dir; });
    if (run == runs.end()) runs.push_back({dir, id, c.at("warnings")});
    else run->claims += ", " + id;
  }
  if (world_share().root())  // every rank has the summary; one says its warnings
    for (const RunWarnings& r : runs)
      for (const auto& w : r.warnings)
        std::cerr << "attnrate: warning: " << r.claims << ": " << w.get<std::string>() << "\n";
}

// What a study measured, one line per measurement.
void print_quantities(const nlohmann::json& summary) {
  for (const auto& q : summary.value("quantities", nlohmann::json::array())) {
    std::string select;
    for (const auto& [k, v] : q.at("select").items()) select += (select.empty() ? "" : ", ") + k + "=" + v.get<std::string>();
    std::cout << std::left << std::setw(20) << q.at("quantity").get<std::string>() << std::setw(40)
              << (select.empty() ? "-" : select) << " " << quantity_value_text(q) << "  CI_t " << report_interval_text(q, "ci_t")
              << "  CI_boot " << report_interval_text(q, "ci_boot") << "\n";
  }
}

// Rows in columns as wide as their longest entry plus two blanks, so that a long entry never runs
// into the next column; the last column is not padded.
void print_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (std::size_t k = 0; k < r.size(); ++k) width[k] = std::max(width[k], r[k].size() + 2);
  }
  for (const auto& r : rows) {
    std::cout << "  ";
    for (std::size_t k = 0; k + 1 < r.size(); ++k) std::cout << std::left << std::setw(static_cast<int>(width[k])) << r[k];
    if (!r.empty()) std::cout << r.back();
    std::cout << "\n";
  }
}

// The checkpoint files in a study's cells/ folder (0 when there is none; a hint only).
std::size_t checkpoint_count(const std::filesystem::path& cells) {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it(cells, ec), end; !ec && it != end; it.increment(ec))
    n += it->path().extension() == ".json" && it->is_regular_file(ec);
  return n;
}

// A rerun without --resume over saved checkpoints: say that they are not reused (a note, not an
// error: recomputing is what the user may want).
void note_recomputed_checkpoints(const std::string& where_hold, std::size_t saved) {
  if (saved > 0)
    std::cerr << "attnrate: note: " << where_hold << " " << saved
              << " checkpoints of an earlier run; without --resume every cell is computed anew (with --resume the "
                 "cells whose settings match are reused)\n";
}

int cmd_list(const std::vector<std::filesystem::path>& claims_paths, const std::string& quantities_of) {
  if (!quantities_of.empty()) {
    const StudyDefinition& def = find_study(quantities_of);
    std::cout << "quantities of study " << def.name << " (a claim's `quantity`; its [claim.select] keys):\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& q : def.quantities) {
      std::string keys;
      for (const auto& k : q.select) keys += (keys.empty() ? "" : ", ") + k;
      rows.push_back({q.name, keys.empty() ? "(one measurement)" : keys, q.description});
    }
    print_columns(rows);
    std::cout << "\noptions (a claim's [claim.params] and [claim.quick] keys):\n";
    rows = {{"option", "default", "meaning"}};
    for (const auto& k : def.keys()) rows.push_back({k.key, k.default_value.empty() ? "-" : k.default_value, k.help});
    print_columns(rows);
    return 0;
  }
  const std::vector<Claim> claims = load_claims(claims_paths);  // a bad file: its problems alone
  std::cout << "studies (attnrate list --quantities STUDY for what each reports):\n";
  std::vector<std::vector<std::string>> studies;
  for (const auto& s : all_studies()) studies.push_back({s.name, s.description});
  print_columns(studies);
  std::cout << "\nclaims (" << (claims_paths.empty() ? std::string("built in") : std::string("--claims")) << "):\n";
  std::vector<std::vector<std::string>> rows = {{"id", "study", "quantity", "bound theory", "tolerance", "defined at"}};
  for (const auto& c : claims) {
    std::ostringstream theory, tolerance;
    theory << std::setprecision(4) << to_string(c.rule.bound) << " ";
    if (c.rule.bound == Bound::within) theory << "[" << c.rule.theory_lo << ", " << c.rule.theory_hi << "]";
    else theory << c.rule.theory_lo;
    tolerance << c.rule.tolerance;
    rows.push_back({c.id, c.study, c.quantity, theory.str(), tolerance.str(), c.place.str()});
  }
  print_columns(rows);
  return 0;
}

// CLI11 reports an unknown study or command as "A subcommand is required" and an unknown option
// as "The following arguments were not expected". Walks the words as CLI11 would and names the
// first one it cannot place, with the closest valid one; "" when every word fits (then CLI11's
// own message stands).
std::string explain_parse_error(CLI::App& app, int argc, char** argv) {
  CLI::App* cur = &app;
  std::string path = "attnrate";
  const auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  const auto subcommand_names = [](CLI::App* a) {
    std::vector<std::string> names;
    for (CLI::App* sc : a->get_subcommands(std::function<bool(CLI::App*)>{})) names.push_back(sc->get_name());
    return names;
  };
  std::map<const CLI::Option*, int> given;  // occurrences of single-valued options
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;
    if (word.starts_with("--")) {
      const std::string name = word.substr(0, word.find('='));
      std::vector<std::string> names;
      const CLI::Option* found = nullptr;
      for (const CLI::Option* opt : std::as_const(*cur).get_options())
        for (const auto& l : opt->get_lnames()) {
          names.push_back("--" + l);
          if ("--" + l == name) found = opt;
        }
      if (found == nullptr) return "unknown option '" + name + "' of '" + path + "'" + did_you_mean(name, names);
      if (found->get_type_size_max() > 0 && found->get_expected_max() == 1 &&
          found->get_multi_option_policy() == CLI::MultiOptionPolicy::Throw && ++given[found] == 2)
        return "option '" + name + "' of '" + path + "' is given twice; give it once";
      // A flag (no value expected) stands alone; an option's value is the next word, unless there
      // is none or it is the next option.
      if (word.find('=') == std::string::npos && found->get_type_size_max() > 0 && found->get_expected_max() > 0) {
        if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) ++i;
        else if (found->get_expected_min() > 0)
          return "option '" + name + "' of '" + path + "' needs a value: " + name + " " + found->get_type_name();
      }
      continue;
    }
    if (word.starts_with("-")) continue;  // short options and negative numbers: CLI11 decides
    const std::vector<std::string> names = subcommand_names(cur);
    if (names.empty()) return "unexpected argument '" + word + "' after '" + path + "'";
    CLI::App* next = nullptr;
    for (CLI::App* sc : cur->get_subcommands(std::function<bool(CLI::App*)>{}))
      if (sc->get_name() == word) next = sc;
    if (next == nullptr) {
      const std::string kind = cur == &app ? "command" : cur->get_name() == "study" ? "study" : "model";
      const std::string hint = did_you_mean(word, names);
      return "unknown " + kind + " '" + word + "'" + (hint.empty() ? "; valid: " + join(names) : hint);
    }
    cur = next;
    path += " " + word;
  }
  if (cur->get_require_subcommand_min() > 0 && !cur->get_subcommands(std::function<bool(CLI::App*)>{}).empty())
    return "'" + path + "' needs one of: " + join(subcommand_names(cur));
  return "";
}

void print_report(const CommandReport& report) {
  std::cout << report.message;
  for (const auto& w : report.warnings) std::cerr << "attnrate: warning: " << w << "\n";
}

// The output folder of `study` and `verify`, held for the whole run. Under MPI only rank 0 writes
// the outputs, so only rank 0 locks.
std::unique_ptr<OutputLock> lock_output(const std::string& out) {
  return world_share().root() ? std::make_unique<OutputLock>(out) : nullptr;
}


}  // namespace

int run_cli(int argc, char** argv) {
  pin_blas_to_one_thread();
  CLI::App app{"attnrate: statistical learning theory of attention layers, checked against experiment"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(), "print the version, git revision and library versions, then exit");
  int threads = 0;
  std::string out, config, profile = "full", only, quantities_of, verify_seed;
  std::string config_size = byte_size_text(kConfigReadLimits.max_bytes),
              config_line = byte_size_text(kConfigReadLimits.max_line_bytes);
  std::vector<std::string> claims_paths;
  bool resume = false, no_figures = false;
  const auto add_threads = [&threads](CLI::App* sc) {
    sc->add_option("--threads", threads, "threads (0 = all cores; at most " + std::to_string(kMaxThreads) + ")")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              int n = -1;
              const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
              if (ec != std::errc() || end != v.data() + v.size() || n < 0 || n > kMaxThreads)
                return "must be in 0.." + std::to_string(kMaxThreads) + " (0 = all cores), got '" + v + "'";
              return {};
            },
            "", "threads"))
        ->type_name("INT");
  };

  // The data commands: one row each (group, name, description, options, --out help, runner,
  // whether --out may be left out); group "" is a command of its own.
  struct DataCommand {
    const char* group;
    const char* name;
    const char* description;
    std::vector<KeySpec> (*keys)();
    const char* out_help;
    bool threaded;
    std::function<CommandReport(const Settings&, const std::filesystem::path&, int threads)> run;
    bool out_optional = false;
  };
  const std::vector<DataCommand> data_commands = {
      {"simulate", "pairwise", "pairwise-interaction model (writes the data CSV, its A and its truth)",
       simulate_pairwise_keys, "data CSV to write (NAME.csv; NAME.A.csv and NAME.truth.json beside it)", false,
       [](const Settings& s, const std::filesystem::path& o, int) { return simulate_pairwise(s, o); }},
      {"simulate", "rfa", "attention inputs and a target (writes sample,key,x1..xd,y)", simulate_rfa_keys,
       "data CSV to write", false,
       [](const Settings& s, const std::filesystem::path& o, int) { return simulate_rfa(s, o); }},
      {"fit", "pairwise", "least squares over B-splines: A known (--A) or learned (--rank)", fit_pairwise_keys,
       "fit JSON to write (NAME.json; NAME.phi.csv beside it)", true, fit_pairwise},
      {"fit", "rfa", "random-feature attention (--model mlp: the RF-MLP): frozen random weights, ridge on the rest",
       fit_rfa_keys, "fit.json to write", true, fit_rfa},
      {"", "predict", "predictions of a fit (fit.json) on a data file", predict_keys,
       "predictions CSV to write (pairwise: sample,token,y_hat; attention: sample,y_hat)", true, predict},
      {"", "score", "MSE and R^2 of a fit on data; with --truth the composed L2(rho) error of g_hat", score_keys,
       "score JSON to write (optional; without it nothing is written)", true, score, true},
  };
  auto* simulate = app.add_subcommand("simulate", "simulate data from a model");
  simulate->require_subcommand(1);
  auto* fit = app.add_subcommand("fit", "fit an estimator to data");
  fit->require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::unique_ptr<Settings>>> data_subcommands;
  for (const auto& c : data_commands) {
    const std::string group = c.group;
    auto* sc = (group == "fit" ? fit : group == "simulate" ? simulate : &app)->add_subcommand(c.name, c.description);
    auto settings = std::make_unique<Settings>(c.keys());
    settings->add_to_cli(*sc);
    auto* out_option = sc->add_option("--out", out, c.out_help)->type_name("PATH");
    if (!c.out_optional) out_option->required();
    if (c.threaded) add_threads(sc);
    data_subcommands.emplace_back(sc, std::move(settings));
  }

  auto* rate_cmd = app.add_subcommand("rate", "fit (and judge) the convergence rate of your own error table");
  Settings rate_settings(rate_keys());
  rate_settings.add_to_cli(*rate_cmd);
  rate_cmd->add_option("--out", out, "output directory for summary.json and the figure (optional)")->type_name("PATH");

  auto* study = app.add_subcommand("study", "run a named study (sweep, measurements, figures)");
  study->require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::unique_ptr<Settings>>> study_commands;
  for (const auto& def : all_studies()) {
    auto* sc = study->add_subcommand(def.name, def.description);
    auto settings = std::make_unique<Settings>(def.keys());
    settings->add_to_cli(*sc);
    sc->add_option("--config", config, "TOML file with the same keys (command line wins)")->type_name("PATH");
    sc->add_option("--max-input-size", config_size, "largest --config file read [default: " + config_size + "]")
        ->type_name("SIZE");
    sc->add_option("--max-line-length", config_line, "longest line of the --config file [default: " + config_line + "]")
        ->type_name("SIZE");
    sc->add_option("--out", out, "output directory")->required()->type_name("PATH");
    add_threads(sc);
    sc->add_flag("--resume", resume, "reuse finished cells whose parameters and code revision match");
    sc->add_flag("--no-figures", no_figures, "write summary.json and cells.csv only: no figures, gnuplot not run");
    study_commands.emplace_back(sc, std::move(settings));
  }

  auto* verify = app.add_subcommand("verify", "check claims (built in, or --claims); write report.md, report.html, summary.json");
  verify->add_option("--claims", claims_paths, "claims file or folder of *.toml files (repeatable); default: the built-in claims")
      ->type_name("PATH");
  verify->add_option("--profile", profile, "quick (the claims' small [claim.quick] sizes, about a minute on 2 cores) or full (the claims' [claim.params] sizes) [default: full]")
      ->type_name("NAME");
  verify->add_option("--only", only, "glob over claim ids, e.g. 'minimax.*'")->type_name("GLOB");
  verify->add_option("--seed", verify_seed,
                     "base seed of every claim's study, replacing the claims' own seeds (default: theirs)")
      ->type_name("INT");
  verify->add_option("--out", out, "output directory")->required()->type_name("PATH");
  add_threads(verify);
  verify->add_flag("--resume", resume, "reuse finished cells whose parameters and code revision match");

  auto* list = app.add_subcommand("list", "list studies and claims; --quantities STUDY: what a study reports");
  list->add_option("--claims", claims_paths, "claims file or folder of *.toml files (repeatable); default: the built-in claims")
      ->type_name("PATH");
  list->add_option("--quantities", quantities_of, "a study: its quantities, their select keys and its options")
      ->type_name("NAME");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion&) {
    std::cout << version_text();
    return 0;
  } catch (const CLI::ParseError& e) {
    const std::string better = explain_parse_error(app, argc, argv);
    std::cerr << "attnrate: error: " << (better.empty() ? std::string(e.what()) : better)
              << "\nRun with --help for more information.\n";
    return 2;
  }

  install_interrupt_handler();
  try {
    for (std::size_t k = 0; k < data_commands.size(); ++k) {
      auto& [sc, settings] = data_subcommands[k];
      if (!*sc) continue;
      settings->apply_cli();
      if (sc->count("--out") > 0 && out.empty()) throw InputError("--out must name a file, got ''");
      set_interrupt_mode(InterruptMode::at_once);  // nothing to resume: stop now, not after the fit
      print_report(data_commands[k].run(*settings, out, threads));
      return 0;
    }
    if (*rate_cmd) {
      rate_settings.apply_cli();
      if (rate_cmd->count("--out") > 0 && out.empty()) throw InputError("--out must name a folder, got ''");
      const RateOutcome outcome = rate(rate_settings, out);
      print_report(outcome.report);
      return outcome.exit_code;
    }
    for (auto& [sc, settings] : study_commands) {
      if (!*sc) continue;
      if (!config.empty())
        settings->load_toml(config, {parse_byte_size(config_size, "--max-input-size"),
                                     parse_byte_size(config_line, "--max-line-length")});
      settings->apply_cli();
      const StudyDefinition& def = find_study(sc->get_name());
      if (def.check) def.check(*settings);  // refuse bad options before the folder is locked
      if (!no_figures && !gnuplot_available())
        throw InputError("study " + def.name +
                         " draws its figures with gnuplot, which is not on PATH: install gnuplot-nox "
                         "(./scripts/install-deps.sh does), or pass --no-figures");
      const auto lock = lock_output(out);
      if (const std::string w = replaced_outputs_warning(out, "study " + def.name, "this study's");
          !w.empty() && world_share().root())
        std::cerr << "attnrate: warning: " << w << "\n";
      if (!resume && world_share().root())
        note_recomputed_checkpoints(out + "/cells holds", checkpoint_count(std::filesystem::path(out) / "cells"));
      OutputSet outputs(out, world_share().root());  // summary, cells.csv and figures: one set
      StudyContext ctx{outputs.staging(), threads, resume, true};
      ctx.checkpoints = std::filesystem::path(out) / "cells";
      ctx.figures = !no_figures;
      const nlohmann::json summary = def.run(*settings, ctx);
      outputs.commit();
      print_quantities(summary);
      if (world_share().root())  // every rank has the summary; one says its warnings
        for (const std::string& w : summary_warnings(summary)) std::cerr << "attnrate: warning: " << w << "\n";
      const bool measured = !summary.value("quantities", nlohmann::json::array()).empty();
      std::cout << "results in " << out << "/ (summary.json, cells.csv" << (measured && ctx.figures ? ", figures" : "")
                << ")\n";
      if (!measured) {
        std::cerr << "attnrate: no quantity could be measured"
                  << (summary.contains("error") ? ": " + summary.at("error").get<std::string>() : std::string()) << "\n";
        return 1;
      }
      return 0;
    }
    if (*verify) {
      VerifyOptions vo;
      vo.profile = profile;
      if (verify->count("--only") > 0) vo.only = only;
      if (verify->count("--seed") > 0) vo.seed = verify_seed;
      for (const auto& p : claims_paths) vo.claims_paths.emplace_back(p);
      vo.out = out;
      vo.threads = threads;
      vo.resume = resume;
      vo.command_line = shell_command_line(argc, argv);
      if (!gnuplot_available())
        throw InputError("verify draws each claim's figure with gnuplot, which is not on PATH: install gnuplot-nox "
                         "(./scripts/install-deps.sh does)");
      const auto lock = lock_output(out);
      if (!resume && world_share().root())
        vo.before_runs = [&out](const std::vector<std::filesystem::path>& runs) {
          std::size_t saved = 0;  // of the claims this run computes (not those --only leaves out)
          for (const auto& dir : runs) saved += checkpoint_count(dir / "cells");
          note_recomputed_checkpoints(out + "/claims/*/cells hold", saved);
        };
      const nlohmann::json summary = run_verify(vo);
      print_claims(summary);
      std::cout << verdict_counts_text(summary) << " (exit code 0 only when every claim is consistent)\n";
      std::cout << "report: " << (std::filesystem::path(out) / "report.html").string() << " (and report.md, summary.json)\n";
      return verify_exit_code(summary);
    }
    if (*list) return cmd_list(std::vector<std::filesystem::path>(claims_paths.begin(), claims_paths.end()), quantities_of);
  } catch (const Interrupted&) {
    const int signal = interrupt_signal();
    std::cerr << "\nattnrate: interrupted (" << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
              << "); finished cells are saved. Rerun the same command with --resume to continue.\n";
    return 128 + signal;
  } catch (const InputError& e) {
    std::cerr << "attnrate: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "attnrate: failed: out of memory; reduce the sizes of the run (see README, validated inputs)\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "attnrate: failed: " << e.what() << "\n";
    return 3;
  }
  return 2;
}

}  // namespace attnrate
