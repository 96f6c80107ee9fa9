// Studies, claims and rates in _core: run a study or verify claims into an output folder exactly as
// `attnrate study` and `attnrate verify` do (same options, checks, lock, output set), list what
// the studies offer, and fit the rate of an error table in memory with `attnrate rate`'s code.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "estimators/common/input_error.hpp"
#include "python/src/binding.hpp"
#include "studies/commands/rate.hpp"
#include "studies/commands/rate_table.hpp"
#include "studies/io/output_lock.hpp"
#include "studies/io/output_set.hpp"
#include "studies/registry.hpp"
#include "studies/sweep/study.hpp"
#include "studies/verify/verify.hpp"

namespace attnrate::python {
namespace {

std::filesystem::path required_out(const std::string& out, const std::string& what) {
  if (out.empty()) throw InputError(what + " needs out=DIR, the folder its summary.json, cells.csv and figures go to");
  return out;
}

// `attnrate study NAME [options] --out DIR`: summary.json's content as JSON text.
std::string run_study(const std::string& name, const std::vector<Option>& options, const std::string& out_text,
                      int threads, bool resume, bool progress, bool figures) {
  const StudyDefinition& def = find_study(name);
  const Settings s = settings_of(def.keys(), options);
  if (def.check) def.check(s);  // refuse bad options before the folder is locked
  const std::filesystem::path out = required_out(out_text, "run_study");
  if (threads < 0) throw InputError("threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  ReleaseGil release;
  const OutputLock lock(out, "out");
  OutputSet outputs(out, true);  // summary, cells.csv and figures: one set
  StudyContext ctx{outputs.staging(), threads, resume, progress};
  ctx.checkpoints = out / "cells";
  ctx.figures = figures;
  const nlohmann::json summary = def.run(s, ctx);
  outputs.commit();
  return summary.dump();
}

// `attnrate verify`: its summary.json as JSON text.
std::string run_verify_in(const std::vector<std::string>& claims, const std::string& profile,
                          const std::optional<std::string>& only,
                          const std::optional<std::string>& seed, const std::string& out_text, int threads, bool resume, bool progress,
                          const std::string& command_line) {
  VerifyOptions vo;
  vo.profile = profile;
  vo.only = only;
  vo.seed = seed;
  for (const auto& p : claims) vo.claims_paths.emplace_back(p);
  vo.out = required_out(out_text, "verify");
  if (threads < 0) throw InputError("threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  vo.threads = threads;
  vo.resume = resume;
  vo.progress = progress;
  vo.command_line = command_line;
  ReleaseGil release;
  const OutputLock lock(vo.out, "out");
  return run_verify(vo).dump();
}

py::list studies() {
  py::list l;
  for (const auto& s : all_studies()) l.append(py::make_tuple(s.name, s.description));
  return l;
}

py::list study_options(const std::string& name) {
  py::list l;
  for (const auto& k : find_study(name).keys()) l.append(py::make_tuple(k.key, k.default_value, k.help));
  return l;
}

py::list study_quantities(const std::string& name) {
  py::list l;
  for (const auto& q : find_study(name).quantities) l.append(py::make_tuple(q.name, q.description, q.select));
  return l;
}

// `attnrate rate` on a table in memory (make_rate_table, rate_of_table): the per-size rows, the
// fit, the verdict and the text the command prints.
py::dict rate_table(const std::vector<double>& sizes, const std::vector<double>& errors,
                    const std::vector<std::string>& seeds, const std::vector<Option>& options) {
  const Settings s = settings_of(rate_keys(), options);
  const RateFitOptions fit_options = read_rate_fit_options(s);
  const RateTable table = make_rate_table(sizes, errors, seeds, "rate_table");
  const RateOutcome outcome = [&] {
    ReleaseGil release;
    return rate_of_table(table, fit_options);
  }();
  const RateAnalysis& a = outcome.analysis;
  py::list rows;
  for (const RateSizeRow& r : a.sizes) {
    py::dict e;
    e["size"] = r.size;
    e["cells"] = r.cells;
    e["median_error"] = r.median_error;
    e["local_rate"] = r.local_rate ? py::object(py::cast(*r.local_rate)) : py::object(py::none());
    rows.append(e);
  }
  const SlopeFit& f = a.fit;
  py::dict fit;
  fit["slope"] = f.slope;
  fit["intercept"] = f.intercept;
  fit["slope_se"] = f.slope_se;
  fit["residual_sd"] = f.residual_sd;
  fit["cells"] = f.n;
  fit["distinct_sizes"] = f.distinct_x;
  fit["ci_level"] = f.level;
  fit["ci_t"] = py::make_tuple(f.ci_t_lo, f.ci_t_hi);
  fit["ci_boot"] = py::make_tuple(f.ci_boot_lo, f.ci_boot_hi);
  fit["bootstrap_resamples"] = f.bootstrap_resamples;
  py::dict r;
  r["rows"] = rows;
  r["fit"] = fit;
  if (a.rule && a.judgement) {
    py::dict claim;
    claim["bound"] = to_string(a.rule->bound);
    claim["theory"] = a.rule->bound == Bound::within ? py::object(py::make_tuple(a.rule->theory_lo, a.rule->theory_hi))
                                                     : py::object(py::cast(a.rule->theory_lo));
    claim["tolerance"] = a.rule->tolerance;
    claim["max_ci_width"] = a.rule->max_ci_width ? py::object(py::cast(*a.rule->max_ci_width)) : py::object(py::none());
    claim["rule"] = describe(*a.rule);
    claim["judged_interval"] = py::make_tuple(a.judgement->lo, a.judgement->hi);
    claim["width"] = a.judgement->width;
    claim["verdict"] = to_string(a.judgement->verdict);
    claim["reason"] = a.judgement->reason;
    r["claim"] = claim;
  } else {
    r["claim"] = py::none();
  }
  r["report"] = outcome.report.message;
  r["exit_code"] = outcome.exit_code;
  return r;
}

}  // namespace

void register_studies(py::module_& m) {
  m.def("run_study", &run_study, Guard(), py::arg("name"), py::arg("options"), py::arg("out"), py::arg("threads"),
        py::arg("resume"), py::arg("progress"), py::arg("figures"));
  m.def("verify", &run_verify_in, Guard(), py::arg("claims"), py::arg("profile"), py::arg("only"), py::arg("seed"),
        py::arg("out"), py::arg("threads"), py::arg("resume"), py::arg("progress"), py::arg("command_line"));
  m.def("studies", &studies, Guard());
  m.def("study_options", &study_options, Guard(), py::arg("name"));
  m.def("study_quantities", &study_quantities, Guard(), py::arg("name"));
  m.def("rate_table", &rate_table, Guard(), py::arg("sizes"), py::arg("errors"), py::arg("seeds"), py::arg("options"));
}

}  // namespace attnrate::python
