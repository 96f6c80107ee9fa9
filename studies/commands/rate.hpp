#pragma once
// `attnrate rate`: the convergence rate of a researcher's own error table (rate_table.hpp), fitted
// and judged exactly as the studies fit and judge theirs: the OLS slope of log error on log size
// with its Student-t and seed-bootstrap intervals (studies/stats/rate_fit.hpp), and, when a theory
// value is given, the verdict of the project's one judge (theory/claims/judge.hpp) on the hull of
// both intervals. With an output folder it writes summary.json and the log-log figure rate.png /
// rate.svg (docs/formats.md, section 9).
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "studies/commands/command.hpp"
#include "studies/commands/rate_table.hpp"
#include "studies/stats/rate_fit.hpp"
#include "theory/claims/judge.hpp"
#include "theory/claims/measurement.hpp"

namespace attnrate {

/// One distinct size of the table.
struct RateSizeRow {
  double size = 0.0;
  std::size_t cells = 0;      ///< rows at this size
  double median_error = 0.0;  ///< type-7 median (quantile_type7) of their errors
  /// log(median / previous median) / log(size / previous size); none for the smallest size.
  std::optional<double> local_rate;
};

/// The fit of a table, and its judgement when a rule was given.
struct RateAnalysis {
  std::vector<RateSizeRow> sizes;  ///< by increasing size
  SlopeFit fit;                    ///< fit_slope(log size, log error) over every row
  Measurement slope;               ///< slope_measurement(fit, "slope")
  std::optional<JudgeRule> rule;
  std::optional<Judgement> judgement;  ///< judge(*rule, slope) when a rule was given
};

/// Fits a table (read_rate_table guarantees >= 3 rows and >= 2 sizes) with `resamples` bootstrap
/// refits (>= 1) and the studies' bootstrap seed, and judges the slope when `rule` is set.
/// Throws InputError when fit_slope or judge refuse their input (e.g. a malformed rule).
RateAnalysis analyse_rate(const RateTable& table, const std::optional<JudgeRule>& rule, int resamples = 2000);

/// summary.json of a rate run (docs/formats.md, section 9): the table's columns and sizes, the
/// per-size rows, the fit, the slope as a measurement record, the claim and its verdict (or null),
/// `figures` and the build information. Numbers are JSON numbers.
nlohmann::json rate_summary(const RateTable& table, const RateAnalysis& analysis,
                            const std::vector<std::string>& figures);

/// Its options: --data, --size-col, --error-col, --seed-col, --theory, --bound, --tolerance,
/// --max-ci-width, --resamples, --max-input-size, --max-line-length.
std::vector<KeySpec> rate_keys();

/// What `rate` reports: the printed table and verdict, and the exit code (0: fitted, and
/// consistent when judged; 1: judged inconsistent or inconclusive).
struct RateOutcome {
  CommandReport report;
  int exit_code = 0;
  RateAnalysis analysis;
};

/// The options of `rate` that shape the fit and its verdict: the judge's rule from --theory,
/// --bound, --tolerance and --max-ci-width (none without --theory) and --resamples. Throws
/// InputError naming the option (e.g. --bound without --theory).
struct RateFitOptions {
  std::optional<JudgeRule> rule;
  int resamples = 2000;
};
RateFitOptions read_rate_fit_options(const Settings& s);

/// What `rate` computes and prints for a table already in memory, without reading or writing any
/// file: analyse_rate, the printed table and verdict (report.message, without the "wrote" line of
/// --out) and the exit code. `rate` is this on the table it reads, plus its output files; the
/// Python module's rate_table calls it on a make_rate_table table.
RateOutcome rate_of_table(const RateTable& table, const RateFitOptions& options);

/// The whole command: validates every option (InputError naming it, e.g. "--tolerance must be
/// >= 0, got -1"; --bound, --tolerance or --max-ci-width without --theory), then, when `out` is
/// not empty, locks the folder (OutputLock, created if needed) and checks its outputs (not
/// --data), reads and fits the table, and writes `out`/summary.json (AtomicFile) and the figure
/// `out`/rate.png and .svg (skipped with a warning when gnuplot is not installed). Nothing
/// outside `out` is written.
RateOutcome rate(const Settings& s, const std::filesystem::path& out);

}  // namespace attnrate
