#pragma once
// Shared pieces of the random-feature attention studies (rfa-vs-mlp, biased-weights,
// target-complexity, heads): the normalised test error, the study-level targets, parsing of the
// list-valued settings and checkpoint checks of their cells.
//
// Conventions of the four studies:
//  - Inputs: query and N keys iid on the unit sphere S^{d-1} (`inputs`, or gaussian).
//  - Training responses y = f*(x) + sigma * xi, xi iid N(0, 1); f* has unit variance under the
//    input law, so sigma is the noise-to-signal standard deviation ratio (default 0.1).
//  - Error: normalised test error mean (f_hat - f*)^2 / Var f* on `test-n` (>= 10^4) fresh
//    noiseless inputs, Var f* the empirical variance of the test targets (1 = predicting the
//    mean). Its Monte Carlo standard error is recorded.
//  - lambda: "gcv" (default), "kfold[:K]" or a fixed number, always chosen on the training data
//    only (estimators/ridge/ridge.hpp).
//  - Seeding: a cell = (parameter point, repetition) derives every stream from (seed, names,
//    parameter, rep): frozen weights, training inputs per n, noise per (n, target), test inputs.
//    The training and test inputs of a repetition are shared by the models (and weight laws) it
//    compares, so comparisons are paired by repetition. Results do not depend on threads.
//  - n_eps: per repetition, the first crossing of eps by the error curve, interpolated
//    log-log between grid points; a curve that never crosses (or crosses before the first grid
//    point) is censored and flagged in the measurements built from it, never extrapolated
//    (studies/stats/sample_complexity.hpp).
//  - Ratios are averaged over repetitions on the log scale (studies/stats/mean_ci.hpp).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "studies/io/output.hpp"
#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"
#include "studies/stats/sample_complexity.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/rfa_targets.hpp"

#include <armadillo>

namespace attnrate {

/// Normalised test error mean((pred - truth)^2) / Var(truth) (empirical variance of the test
/// targets, so 1 = predicting their mean) and its Monte Carlo standard error.
/// Throws InputError unless both have the same length >= 2.
struct TestError {
  double error = 0.0, se = 0.0;
};
TestError normalised_test_error(const arma::vec& prediction, const arma::vec& truth);

/// y += sigma * N(0, 1) noise drawn from Rng(seed) (the studies' noisy training targets).
void add_noise(arma::vec& y, double sigma, std::uint64_t seed);

/// Default ostream formatting of a number (6 significant digits), for labels and select values.
std::string format_short(double v);

/// Comma-separated list of strings (trimmed, non-empty entries), e.g. targets.
std::vector<std::string> get_string_list(const Settings& s, const std::string& key);
/// Comma-separated list of doubles in [min, max].
std::vector<double> get_double_list(const Settings& s, const std::string& key, double min, double max);

/// Lambda setting: "gcv", "kfold" (5 folds), "kfold:K", or a fixed number >= 0 (> 0 when
/// `positive`, as fit rfa requires).
RidgeFitOptions parse_lambda(const Settings& s, const std::string& key, bool positive = false);

/// Refuses k-fold selection (`ridge`, read from `key`) when the fewest training samples of a fit,
/// `fewest`, are fewer than its folds (one sample per fold); `where` says where that count comes
/// from ("the data hold n = 3", "--n starts at 10"). InputError naming the option.
void refuse_folds_above_samples(const Settings& s, const std::string& key, const RidgeFitOptions& ridge,
                                std::size_t fewest, const std::string& where);

/// A target of the RFA studies: every RfaTarget name of theory/rfa_targets.hpp, plus the
/// study-level control `first-key-poly:p` = key-poly:p evaluated on the first key only,
/// He_p(sqrt(d) <b, x_1>)/sqrt(p!) normalised to unit variance (not permutation-invariant,
/// and of degree p in the concatenated input, so a random-feature MLP can learn it at the
/// same cost as key-poly:p, while the best permutation-invariant predictor has normalised
/// error exactly 1 - 1/N: the key terms are independent).
class StudyTarget {
 public:
  StudyTarget(const std::string& spec, int d, const AttentionLaw& law, std::uint64_t seed);
  arma::vec evaluate(const AttentionInputs& inputs) const;
  const std::string& name() const noexcept { return name_; }
  /// The target as a value (RfaTarget::identity, with first-key-poly: in front for that control).
  std::string identity() const;
  bool is_permutation_invariant() const noexcept { return invariant_; }
  /// Normalised error of the best permutation-invariant predictor, for the non-invariant
  /// targets (else -1). That predictor is the key average (1/N) sum_i h(x_0, x_i) of the per-key
  /// term, whose variance is c + (v - c)/N (v, c: variance and key-key covariance of h), so the
  /// floor is 1 - (c + (v - c)/N) / v; c = 0 for first-key-poly (independent keys) and for
  /// first-key on the sphere, giving 1 - 1/N.
  double invariant_floor(int N) const;

 private:
  std::string name_;
  bool first_key_only_ = false, invariant_ = true;
  std::vector<RfaTarget> target_;  // one element (no default constructor)
};

/// Checks that every name of `targets` is a StudyTarget for dimension d and `law`; throws
/// InputError with the option `key` named.
void check_study_targets(const Settings& s, const std::string& key, const std::vector<std::string>& targets, int d,
                         const AttentionLaw& law);

/// File-name-safe form of a target or label ("key-poly:2" -> "key-poly-2").
std::string file_stem(std::string s);

/// Geometric mean.
double geometric_mean(const std::vector<double>& v);

/// Checkpoint validation of the RFA studies, whose cells are arrays of result rows: throws
/// InputError unless `value` is an array of exactly `count` objects.
void check_rows(const nlohmann::json& value, std::size_t count);
/// Checkpoint validation: throws InputError naming `field` unless v is finite and >= 0.
void check_nonnegative(double v, const char* field);
/// Checkpoint validation of the fit fields of a result row: error, error_se and lambda finite
/// and >= 0, lambda_at_edge a boolean, solver a string, seconds a number. Throws InputError (or
/// nlohmann's exception for a missing solver or seconds) naming the first bad field.
void check_fit_fields(const nlohmann::json& row);

/// The options of a study cell's attention layer: `heads` frozen query-key matrices of law `law`
/// (mu, tau), score activation `activation`, drawn from `seed`; one thread (a study runs its
/// cells in parallel instead).
RfaOptions cell_layer(int heads, RfaActivation activation, WeightLaw law, double mu, double tau, std::uint64_t seed);

/// The seeds of one repetition's draws in fit_targets_over_n, by training size n (and target).
struct TargetFitSeeds {
  std::function<std::uint64_t(std::size_t n)> train, folds;
  std::function<std::uint64_t(std::size_t n, const std::string& target)> noise;
};

/// One repetition of a ridge sample-complexity group (biased-weights, target-complexity): for
/// each n of `sizes`, draws n training inputs from `law` (seeds.train(n)) and their features
/// once, then for every target adds noise sigma (seeds.noise) and fits the ridge penalty
/// (`ridge` with the k-fold seed seeds.folds(n)). Returns one row per (n, target), n outer: the
/// `labels`, then n, target, error and error_se (normalised test error against
/// `test_truth[k]` on the features `test_features`), lambda, lambda_at_edge, solver, and seconds
/// (the fit plus the target's share of the feature time).
nlohmann::json fit_targets_over_n(RandomFeatureAttention& rfa, const AttentionLaw& law, int d, int N,
                                  const std::vector<std::size_t>& sizes, const std::vector<StudyTarget>& targets,
                                  const arma::mat& test_features, const std::vector<arma::vec>& test_truth,
                                  double sigma, const RidgeFitOptions& ridge, const TargetFitSeeds& seeds,
                                  const nlohmann::json& labels);

/// Checkpoint validation of row `k` (1-based, for the message) of fit_targets_over_n: its labels
/// equal `labels`, its n and target are `n` and `target`, and check_fit_fields holds.
void check_target_row(const nlohmann::json& row, std::size_t k, const nlohmann::json& labels, std::size_t n,
                      const std::string& target);

/// The n_eps of one curve over repetitions, as summary.json's n_eps entries hold it:
/// n_eps_per_rep, n_eps_geometric_mean, left_censored and right_censored (counts).
nlohmann::json n_eps_record(const std::vector<Crossing>& crossings);

/// Gives `curve` the n_eps marker of its figure: the geometric mean of the crossings' n_eps,
/// censored when any repetition is.
void mark_n_eps(SampleComplexityCurve& curve, const std::vector<Crossing>& crossings);

/// The penalties a study chose from the data (GCV, k-fold, a validation split) and how many of
/// them are still at an end of the grid after it was extended (estimators/ridge/lambda_search.hpp),
/// at which end: summary.json's "lambda_at_grid_edge" {"choices", "at_edge", "at_lower_end",
/// "at_upper_end", "column"}, column the cells.csv column that flags each choice. Fixed penalties are not counted. A choice at an end lies beyond the original
/// grid, so the geometric middle of the grid's ends tells the two ends apart.
class LambdaEdgeCount {
 public:
  /// `grid`: the original grid (increasing, > 0; checked where it is read); `column`: the
  /// cells.csv column that flags each choice.
  explicit LambdaEdgeCount(const arma::vec& grid, std::string column = "lambda_at_edge");
  void add(bool chosen_from_data, bool edge, double lambda);
  nlohmann::json to_json() const;

 private:
  double middle_;
  std::string column_;
  std::size_t choices_ = 0, lower_ = 0, upper_ = 0;
};

/// cells.csv of a study whose cells hold fit_targets_over_n rows (biased-weights,
/// target-complexity), with what its summary.json says about them.
class TargetRowTable {
 public:
  /// The study's own columns come first, then n, rep, seed, test_n, error, error_se, lambda,
  /// lambda_at_edge, solver and seconds, of runs with base seed `seed`, `test_n` test inputs and
  /// penalties chosen from the data unless `ridge` is fixed.
  TargetRowTable(std::vector<std::string> own_columns, std::uint64_t seed, std::size_t test_n,
                 const RidgeFitOptions& ridge);
  /// One row: the study's own fields, then those of `row`.
  void add(std::vector<std::string> own_fields, const nlohmann::json& row);
  /// Writes cells.csv (write_cells_csv).
  void write(const StudyContext& ctx) const;
  /// summary.json's cells_total and lambda_at_grid_edge.
  void summarise(nlohmann::json& summary) const;

 private:
  CsvTable table_;
  std::uint64_t seed_;
  std::size_t test_n_;
  bool chosen_from_data_;
  LambdaEdgeCount edges_;
};

/// The parameters of summary.json of a ridge-fitted RFA study: every option, plus how the
/// training targets and the error are defined (the conventions above).
nlohmann::json ridge_study_parameters(const Settings& settings);

}  // namespace attnrate
