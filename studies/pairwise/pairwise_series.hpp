#pragma once
// What the pairwise studies dimension-free, smoothness and rank-condition share: a *series* is
// one model and estimator (A unknown, or A known) whose cells are (M, rep); series run through
// the sweep engine; each series gives a slope of log error on log M, and a group of series a
// spread of their median errors at the largest M. Studies turn these into measurements and
// never judge them.
//
// The A-unknown estimator ("erm+refit") is estimators/pairwise_erm with the options set here
// (--restarts, --coarse-pieces, --restart-samples, --refit-trim):
//  * restart 0 starts from the moment estimate of A, the others from seeded random draws; all
//    run with --coarse-pieces pieces on the first --restart-samples samples, and the best is
//    run again on all M and refined by the continuation in K up to K_M (at K = K_M the reduced
//    risk of a rough phi has local minima that restarts alone did not escape);
//  * after the ERM, the phi-step is redone with A_hat on the range of the training interactions
//    with refit-trim of them cut at each end, instead of the ERM's [min u, max u]: with min/max
//    the outer pieces carry a handful of interactions, their coefficients fit noise and the
//    composed error is dominated by them. A fixed count (not a fixed quantile) lets the clamped
//    region shrink with M, so it adds no bias floor. Both errors are in cells.csv (error = after
//    the refit, error_erm = the ERM's own g_hat);
//  * each A-unknown cell records how its restarts ended (restarts, restarts_in_best_basin,
//    basin_levels: estimators/pairwise_erm/restart_basins.hpp), summed per series and M in
//    summary.json (restart_basin_summary).
//
// Schedule. `fixed` (the default) uses K_M = c_K M^(1/(2b+1)) and the activation's degree;
// `adaptive` selects degree and K from the data in every cell and never uses b: with A known
// through estimators/pairwise_lse/adaptive_spline, with A unknown through
// estimators/pairwise_erm/adaptive_erm (pilot ERM, selection, ERM in the selected space,
// selection again, the last on the training interactions under A_hat with refit-trim cut at each
// end). Adaptive cells also record every candidate's composed test error and its smallest, the
// oracle (it uses the test pairs, so it is reported, never selected).
//
// Rank condition. The rate M^(-2b/(2b+1)) is proved for r d <= (M / log M)^(1/(2b+1)) (the knee,
// growing with M); beyond it the bound adds r d log M / M, so the local slope of the error lies
// between -1 and -2b/(2b+1). Slope measurements of A-unknown series report where their r d lies
// against the knee (details "rank_condition"), spreads the members outside it at the largest M.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "plots/convergence_plot.hpp"
#include "studies/io/settings.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/sweep/study.hpp"
#include "theory/claims/measurement.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

// ---- option lists

/// Integers in [lo, hi], at least one, none twice. Throws InputError naming the option.
std::vector<int> int_list(const Settings& settings, const std::string& key, int lo, int hi);
/// Activations (canonical names), at least one, none twice, each with a rate to measure
/// (check_rate_activation; `joint`: fitted with A unknown). Throws InputError naming the option.
std::vector<std::string> activation_list(const Settings& settings, const std::string& key, bool joint);

// ---- estimator and sweep options

/// The estimator and sweep options common to the A-unknown studies.
struct EstimatorConfig {
  double cK = 8.0;
  int refit_trim = 50;
  int restarts = 8;
  int coarse_pieces = 4;
  std::size_t restart_samples = 2000;
  double rel_tol = 1e-8;
  int max_iterations = 200;
  std::vector<std::size_t> M;
  int seeds = 4;
  std::uint64_t seed = 1;
  std::size_t test_pairs = 100000;
  int bootstrap = 2000;
  bool adaptive = false;        ///< --schedule adaptive, for every series (their degree and cK are unused)
  AdaptiveSplineOptions adapt;  ///< its selection options (lse.threads is set per cell)
};

/// Their keys, with the study's own defaults for M and seeds.
std::vector<KeySpec> estimator_keys(const std::string& M_default, const std::string& seeds_default);
/// Reads and validates them; throws InputError naming the option.
EstimatorConfig read_estimator(const Settings& settings);

/// --schedule (fixed | adaptive) and the adaptive selection options (select, folds, max-degree,
/// max-knots, penalty), for a study whose series may select their spline space from the data.
std::vector<KeySpec> schedule_keys();
/// Reads them into `c` (after read_estimator). Throws InputError naming the option when a
/// selection option is given without --schedule adaptive, --cK with it (K is selected), or an M
/// is smaller than --folds.
void read_schedule(const Settings& settings, EstimatorConfig& c);

// ---- series and their cells

/// One model/estimator combination; its cells are (M, rep).
struct Series {
  std::string factor;  ///< what varies across the study's series: "d", "N", "r", "b", "rd"
  std::string label;   ///< legend text
  double value = 0;    ///< the factor's value
  PairwiseModelSpec model;
  bool a_known = false;
  int degree = 0;
  double cK = 4.0;
  std::vector<std::size_t> M;
};

struct SeriesCell {
  std::size_t M = 0;
  int rep = 0, K = 0;
  double error = 0, error_se = 0, error_erm = 0, error_erm_se = 0, train_mse = 0, a = 0, b = 0, seconds = 0;
  double rcond = 0;  ///< reciprocal condition estimate of the (final) phi-step's normal matrix
  int iterations = 0, evaluations = 0, rejected = 0;
  /// A unknown: the ERM's restarts, those in the best basin and the distinct risk levels
  /// (estimators/pairwise_erm/restart_basins.hpp, relative width kBasinRelTol); 0 with A known.
  int restarts = 0, restarts_in_best_basin = 0, basin_levels = 0;
  std::string stop, solver, status;  ///< status: ok | rank-deficient | non-finite
  /// Adaptive series only: the selected degree (K is the selected pieces), the candidates, and
  /// the oracle (the candidate with the smallest test error) with its space.
  int degree = 0, candidates = 0, oracle_degree = 0, oracle_K = 0;
  double oracle_error = 0;
};

struct SeriesResult {
  Series series;
  std::vector<SeriesCell> cells;  ///< in (M, rep) order
};

/// Runs every series through run_sweep, one cell after another with every thread (as the
/// estimators' results do not depend on the thread count, neither do the cells). Series with the
/// same model and estimator share their cells. Cells are named s<hash of the model>-M<M>-rep<rep>.
std::vector<SeriesResult> run_series(const std::string& study, const std::vector<Series>& series,
                                     const EstimatorConfig& c, const nlohmann::json& parameters,
                                     const StudyContext& ctx);

/// Writes cells.csv: one row per cell of every series.
void write_series_csv(const std::vector<SeriesResult>& results, const EstimatorConfig& c,
                      const std::filesystem::path& out);

/// The restart basins of the A-unknown series for summary.json: the definition, then per series
/// (activation, factor, value, d, N, r) and per M the cells, the restarts they ran, how many of
/// those ended in their cell's best basin, and the cells whose restarts all did. Series sharing
/// their cells are listed once per series. An empty array when no series has A unknown.
nlohmann::json restart_basin_summary(const std::vector<SeriesResult>& results);

// ---- small helpers

/// Mean and Monte Carlo standard error of T >= 2 values (the composed error and its SE).
/// Throws InputError for fewer than two values.
std::pair<double, double> mean_and_se(const std::vector<double>& values);

/// The knee of the rank condition: (M / log M)^(1/(2b+1)). Throws InputError unless M > e, b > 0.
double rank_knee(double M, double b);

/// Median of the ok errors of a series at size M (NaN if none).
double median_error_at(const SeriesResult& sr, std::size_t M);

/// Activation tag of the bootstrap stream labels: bspline:3 -> bspline.P3, weierstrass:1.5 -> weierstrass.b1.5.
std::string activation_tag(const std::string& name);
/// A name safe in file names: alphanumerics kept, '.' -> 'p', anything else -> '-'.
std::string file_tag(const std::string& s);
/// Short number text (3 significant digits by default).
std::string short_number(double v, int precision = 3);
/// Smoothness of an activation: name, Hoelder exponent, claimed smoothness, convention.
nlohmann::json smoothness_json(const std::string& activation);

// ---- measurements

/// The rank condition over the sweep of an A-unknown series with smoothness b: r d against the
/// knee at the smallest and the largest M. A slope over the sweep follows the rate only if the
/// condition holds at the smallest M (then at every M); a spread at the largest M needs it there.
struct RankRegime {
  int rd = 0;
  std::size_t M_min = 0, M_max = 0;
  double knee_min = 0, knee_max = 0;
  bool holds_everywhere() const { return rd <= knee_min; }
  bool holds_at_largest() const { return rd <= knee_max; }
};
RankRegime rank_regime(const Series& s, double b);

/// OLS slope of log error on log M over the ok cells of a series.
struct SeriesSlope {
  std::optional<SlopeFit> fit;  ///< none: fewer than 3 usable cells or fewer than 2 sizes
  std::size_t excluded = 0;     ///< cells not ok
  double reference = 0;         ///< -2b/(2b+1) of the series' activation and degree (figures only)
};
/// `use_erm_error`: the ERM's own error (error_erm) instead of the refit's. The bootstrap draws
/// come from derive_seed(seed, {hash_name("bootstrap"), hash_name(stream)}): each study passes a
/// fixed label per series, so the intervals are reproducible across versions.
SeriesSlope series_slope(const SeriesResult& sr, const EstimatorConfig& c, const std::string& stream,
                         bool use_erm_error = false);

/// Adaptive series: the geometric mean over the reps at the largest M of error / oracle error
/// (ratio_measurement; bootstrap draws from derive_seed(seed, {hash_name("bootstrap"),
/// hash_name(stream)})), details M. None when no cell there is ok.
std::optional<Measurement> oracle_ratio_measurement(const SeriesResult& sr, const EstimatorConfig& c,
                                                    const std::string& stream, std::string quantity,
                                                    std::map<std::string, std::string> select);
/// A curve of log-log points (natural logs) for a figure with its fitted line and no theory
/// line; none unless slope_fittable(log_x).
std::optional<ConvergenceSeries> fitted_curve(std::string label, const std::vector<double>& log_x,
                                              const std::vector<double>& log_y);
/// Adaptive series: the oracle's curve (fitted_curve of its ok cells).
std::optional<ConvergenceSeries> oracle_convergence_series(const SeriesResult& sr);

/// The series' convergence curve for a figure: its ok cells (M, error), the fitted line and the
/// reference slope. `slope.fit` must hold a fit.
ConvergenceSeries convergence_series(const SeriesResult& sr, const SeriesSlope& slope);

/// The fitted slope of a series as a measurement (slope_measurement) with details: abscissa,
/// cells_excluded, reference_slope, smoothness_convention and, for A unknown, rank_condition.
/// Requires s.fit.
Measurement series_slope_measurement(const SeriesResult& sr, const SeriesSlope& s, std::string quantity,
                                     std::map<std::string, std::string> select);

/// Spread of a group of series at the largest M of the first: the largest over the smallest median
/// error, with a seed bootstrap (reps resampled with replacement within each series, draws from
/// derive_seed(seed, {hash_name("spread"), hash_name(stream)})). Both intervals of the measurement
/// are the 95% percentile bootstrap interval (there is no t-interval of a ratio of medians);
/// width scale log; details: M, bootstrap_resamples, members (the factor values). None when a
/// member has no ok cell at that M (its median is undefined).
std::optional<Measurement> spread_measurement(const std::vector<const SeriesResult*>& group,
                                              const EstimatorConfig& c, const std::string& stream,
                                              std::string quantity, std::map<std::string, std::string> select);

}  // namespace attnrate
