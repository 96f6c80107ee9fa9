#include "studies/commands/rate.hpp"

#include <charconv>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "estimators/common/input_error.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/byte_size.hpp"
#include "studies/io/output.hpp"
#include "studies/io/output_lock.hpp"
#include "studies/io/output_set.hpp"

namespace attnrate {
namespace {

constexpr const char* kFigureStem = "rate";

// JSON has no NaN or infinity: such values become null (docs/formats.md, general rules).
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// A whole-field finite number, or nullopt.
std::optional<double> parse_finite(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The judge's rule from --theory, --bound, --tolerance and --max-ci-width; none without --theory.
std::optional<JudgeRule> rule_of(const Settings& s) {
  if (s.raw("theory").empty()) {
    for (const char* key : {"bound", "tolerance", "max-ci-width"})
      if (s.given(key))
        throw InputError(s.source(key) + " needs --theory X (the slope the theory predicts) to judge against");
    return std::nullopt;
  }
  JudgeRule r;
  const auto bound = parse_bound(s.raw("bound"));
  if (!bound) throw InputError(s.source("bound") + " must be equal, at-most, at-least or within, got '" + s.raw("bound") + "'");
  r.bound = *bound;
  const std::string& theory = s.raw("theory");
  if (r.bound == Bound::within) {
    const std::size_t comma = theory.find(',');
    const auto lo = parse_finite(std::string_view(theory).substr(0, comma));
    const auto hi = comma == std::string::npos ? std::nullopt : parse_finite(std::string_view(theory).substr(comma + 1));
    if (!lo || !hi || *lo > *hi)
      throw InputError(s.source("theory") + " must be two finite numbers low,high with low <= high for --bound within, got '" +
                       theory + "'");
    r.theory_lo = *lo;
    r.theory_hi = *hi;
  } else {
    const auto v = parse_finite(theory);
    if (!v)
      throw InputError(s.source("theory") + " must be a finite number (the predicted slope, e.g. -0.8), got '" + theory +
                       "'" + (theory.find(',') != std::string::npos ? "; a range low,high needs --bound within" : ""));
    r.theory_lo = r.theory_hi = *v;
  }
  r.tolerance = s.get_double("tolerance", 0.0, std::numeric_limits<double>::infinity());
  if (s.raw("max-ci-width") != "none")
    r.max_ci_width = s.get_double("max-ci-width", 0.0, std::numeric_limits<double>::infinity(), false);
  return r;
}

std::string fixed(double v, int digits = 4) {
  std::ostringstream s;
  s << std::setprecision(digits) << v;
  return s.str();
}

std::string interval(double lo, double hi) {
  std::ostringstream s;
  s << std::setprecision(4) << "[" << lo << ", " << hi << "]";
  return s.str();
}

std::string table_text(const RateTable& t, const RateAnalysis& a) {
  std::ostringstream m;
  m << std::left << std::setw(14) << t.size_column << std::setw(8) << "cells" << std::setw(16)
    << ("median " + t.error_column) << "local rate\n";
  for (const auto& r : a.sizes)
    m << std::left << std::setw(14) << fixed(r.size, 8) << std::setw(8) << r.cells << std::setw(16) << fixed(r.median_error)
      << (r.local_rate ? fixed(*r.local_rate) : std::string("-")) << "\n";
  const SlopeFit& f = a.fit;
  m << "slope " << fixed(f.slope) << "  CI_t " << interval(f.ci_t_lo, f.ci_t_hi) << "  CI_boot "
    << interval(f.ci_boot_lo, f.ci_boot_hi) << "  (log-log OLS over " << f.n << " cells at " << f.distinct_x
    << " sizes, " << f.level * 100 << "% intervals, " << f.bootstrap_resamples << " bootstrap resamples)\n";
  if (a.judgement)
    m << "theory " << describe(*a.rule) << "\n  -> " << to_string(a.judgement->verdict) << ": " << a.judgement->reason
      << "\n";
  return m.str();
}

void write_figure(const RateTable& t, const RateAnalysis& a, const std::filesystem::path& stem) {
  ConvergenceFigure fig;
  fig.title = "rate of " + t.path.filename().string();
  fig.x_label = t.size_column;
  fig.y_label = t.error_column;
  ConvergenceSeries series;
  series.label = t.error_column;
  for (const auto& r : t.rows) {
    series.x.push_back(r.size);
    series.y.push_back(r.error);
  }
  series.fit_slope = a.fit.slope;
  series.fit_intercept = a.fit.intercept;
  if (a.rule && a.rule->bound != Bound::within) series.theory_slope = a.rule->theory_lo;
  else series.draw_theory = false;
  if (a.judgement) fig.note = describe(*a.rule) + ": " + to_string(a.judgement->verdict);
  fig.series.push_back(std::move(series));
  write_convergence_figure(fig, stem);
}

}  // namespace

RateAnalysis analyse_rate(const RateTable& table, const std::optional<JudgeRule>& rule, int resamples) {
  RateAnalysis a;
  std::vector<double> x, y;
  std::map<double, std::vector<double>> by_size;
  for (const auto& r : table.rows) {
    x.push_back(std::log(r.size));
    y.push_back(std::log(r.error));
    by_size[r.size].push_back(r.error);
  }
  for (const auto& [size, errors] : by_size) {
    RateSizeRow row;
    row.size = size;
    row.cells = errors.size();
    row.median_error = quantile_type7(errors, 0.5);
    if (!a.sizes.empty()) {
      const RateSizeRow& prev = a.sizes.back();
      row.local_rate = std::log(row.median_error / prev.median_error) / std::log(size / prev.size);
    }
    a.sizes.push_back(row);
  }
  a.fit = fit_slope(x, y, 0.95, resamples);
  a.slope = slope_measurement(a.fit, "slope");
  if (rule) {
    a.rule = rule;
    a.judgement = judge(*rule, a.slope);
  }
  return a;
}

nlohmann::json rate_summary(const RateTable& t, const RateAnalysis& a, const std::vector<std::string>& figures) {
  nlohmann::json j;
  j["command"] = "rate";
  j["data"] = t.path.string();
  j["columns"] = {{"size", t.size_column},
                  {"error", t.error_column},
                  {"seed", t.seed_column.empty() ? nlohmann::json() : nlohmann::json(t.seed_column)}};
  j["rows"] = t.rows.size();
  j["sizes"] = nlohmann::json::array();
  for (const auto& r : a.sizes)
    j["sizes"].push_back({{"size", r.size},
                          {"cells", r.cells},
                          {"median_error", r.median_error},
                          {"local_rate", r.local_rate ? number(*r.local_rate) : nlohmann::json()}});
  const SlopeFit& f = a.fit;
  j["fit"] = {{"x", "log(" + t.size_column + ")"},
              {"y", "log(" + t.error_column + ")"},
              {"slope", number(f.slope)},
              {"intercept", number(f.intercept)},
              {"slope_se", number(f.slope_se)},
              {"residual_sd", number(f.residual_sd)},
              {"cells", f.n},
              {"distinct_sizes", f.distinct_x},
              {"ci_level", f.level},
              {"ci_t", {number(f.ci_t_lo), number(f.ci_t_hi)}},
              {"ci_boot", {number(f.ci_boot_lo), number(f.ci_boot_hi)}},
              {"bootstrap_resamples", f.bootstrap_resamples}};
  j["quantities"] = nlohmann::json::array({to_json(a.slope)});
  if (a.rule && a.judgement) {
    const JudgeRule& r = *a.rule;
    const Judgement& g = *a.judgement;
    j["claim"] = {{"bound", to_string(r.bound)},
                  {"theory", r.bound == Bound::within ? nlohmann::json::array({r.theory_lo, r.theory_hi})
                                                      : nlohmann::json(r.theory_lo)},
                  {"tolerance", r.tolerance},
                  {"max_ci_width", r.max_ci_width ? nlohmann::json(*r.max_ci_width) : nlohmann::json()},
                  {"rule", describe(r)},
                  {"judged_interval", {number(g.lo), number(g.hi)}},
                  {"width", number(g.width)},
                  {"verdict", to_string(g.verdict)},
                  {"reason", g.reason}};
  } else {
    j["claim"] = nullptr;
  }
  j["figures"] = figures;
  j["build"] = build_info();
  return j;
}

RateFitOptions read_rate_fit_options(const Settings& s) {
  RateFitOptions o;
  o.rule = rule_of(s);
  o.resamples = s.get_count("resamples", 1, 1000000);
  return o;
}

RateOutcome rate_of_table(const RateTable& table, const RateFitOptions& options) {
  RateOutcome outcome;
  outcome.analysis = analyse_rate(table, options.rule, options.resamples);
  const RateAnalysis& a = outcome.analysis;
  outcome.exit_code = a.judgement && a.judgement->verdict != Verdict::consistent ? 1 : 0;
  outcome.report.message = table_text(table, a);
  return outcome;
}

std::vector<KeySpec> rate_keys() {
  return {
      {"data", "", "error table CSV with a header (columns size,error[,seed]; other columns ignored)", "PATH"},
      {"size-col", "size", "name of the size column (values > 0)", "NAME"},
      {"error-col", "error", "name of the error column (values > 0)", "NAME"},
      {"seed-col", "auto", "name of the seed column (auto: the column 'seed' if there is one)", "NAME|auto"},
      {"theory", "", "predicted slope of log error on log size, e.g. -0.8 (low,high with --bound within)", "FLOAT|LOW,HIGH"},
      {"bound", "equal", "what the theory states about the slope: equal, at-most, at-least or within"},
      {"tolerance", "0", "tolerance of the judgement, in slope units (>= 0)", "FLOAT"},
      {"max-ci-width", "none", "inconclusive when the interval hull is wider than this (> 0; none: no limit)", "FLOAT|none"},
      {"resamples", "2000", "bootstrap resamples of the slope interval (1..1000000)"},
      {"max-input-size", byte_size_text(kRateReadLimits.max_bytes), "largest error table read (suffixes K, M, G, T)", "SIZE"},
      {"max-line-length", byte_size_text(kRateReadLimits.max_line_bytes), "longest line of the error table", "SIZE"},
  };
}

RateOutcome rate(const Settings& s, const std::filesystem::path& out) {
  // Every option first: a bad one is refused before anything is read or created.
  if (s.raw("data").empty()) throw InputError("--data is required (the error table CSV, columns size,error[,seed])");
  RateColumns columns;
  columns.size = s.raw("size-col");
  columns.error = s.raw("error-col");
  if (s.raw("seed-col") != "auto") columns.seed = s.raw("seed-col");
  for (const char* key : {"size-col", "error-col", "seed-col"})
    if (s.raw(key).empty()) throw InputError(s.source(key) + " must name a column, got ''");
  const RateFitOptions fit_options = read_rate_fit_options(s);
  const ReadLimits limits{s.get_bytes("max-input-size"), s.get_bytes("max-line-length")};
  const std::filesystem::path data = s.raw("data");

  std::unique_ptr<OutputLock> lock;
  const std::filesystem::path summary_path = out / "summary.json";
  if (!out.empty()) {
    lock = std::make_unique<OutputLock>(out);
    check_outputs({{"--out (summary.json)", summary_path},
                   {"--out (rate.png)", out / "rate.png"},
                   {"--out (rate.svg)", out / "rate.svg"}},
                  {{"--data", data}});
    if (in_output_set(out, data))
      throw InputError("--data " + data.string() + " is one of the outputs of the run in --out " + out.string() +
                       ", which rate's outputs replace (it would be removed); write them to another folder");
  }

  const RateTable table = read_rate_table(data, columns, limits);
  RateOutcome outcome = rate_of_table(table, fit_options);
  const RateAnalysis& a = outcome.analysis;

  if (!out.empty()) {
    // One output set, as a study's: the files of another command's set in --out (a verify
    // report beside this summary.json) are removed when it is moved in.
    if (std::string w = replaced_outputs_warning(out, "rate", "rate's"); !w.empty())
      outcome.report.warnings.push_back(std::move(w));
    OutputSet outputs(out);
    std::vector<std::string> figures;
    if (gnuplot_available()) {
      write_figure(table, a, outputs.staging() / kFigureStem);
      figures = {std::string(kFigureStem) + ".png", std::string(kFigureStem) + ".svg"};
    } else {
      outcome.report.warnings.push_back("gnuplot is not installed: no figure written (summary.json is complete)");
    }
    write_file_atomic(outputs.staging() / "summary.json", rate_summary(table, a, figures).dump(2) + "\n");
    outputs.commit();
    std::string wrote = "wrote " + summary_path.string();
    for (const auto& f : figures) {
      wrote += ", ";
      wrote += (out / f).string();
    }
    outcome.report.message += wrote + "\n";
  }
  return outcome;
}

}  // namespace attnrate
