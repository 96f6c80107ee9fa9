#pragma once
// What `attnrate fit pairwise` and the Python module's pairwise estimators share: reading and
// checking the fit's options, the memory it needs, and the fit.json description of a fitted model
// (docs/formats.md, section 10), so that both define each option and field once.
#include <armadillo>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "estimators/pairwise_erm/adaptive_erm.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/settings.hpp"
#include "studies/stats/smoothness_estimate.hpp"

namespace attnrate {

/// The options of a fit with A known (--A), read and checked before the data are fitted.
struct KnownAFitOptions {
  bool adaptive = false;        ///< --schedule adaptive
  AdaptiveSplineOptions adapt;  ///< its selection options; adapt.lse (ridge, threads) serves both spaces
  int degree = 0, pieces = 0;   ///< the fixed space; adaptive: the largest candidate (for the memory check)
  double ridge = 0.0;
  std::optional<std::pair<double, double>> range;  ///< --range; none: the range of u in the data
};

/// Refuses the joint fit's options, reads --schedule (with the selection options), --degree and
/// --knots or --beta, --ridge and --range for M samples; InputError naming the option.
KnownAFitOptions read_known_A_fit_options(const Settings& s, std::size_t M, int threads);

/// The options of a joint fit (--rank, A unknown).
struct JointFitOptions {
  ErmOptions erm;            ///< rank, restarts, seed, start, coarse-pieces; fixed: degree, pieces, refit_trim
  bool adaptive = false;     ///< --schedule adaptive: the space selected from the data (adaptive_erm)
  AdaptiveErmOptions adapt;  ///< adaptive: its options (adapt.erm = erm; trim = --refit-trim)
};

/// The joint fit's options (--rank, --schedule with the selection options, --degree and --knots
/// or --beta unless adaptive, --restarts, --seed, --start, --refit-trim, --coarse-pieces) for M
/// samples in d dimensions; refuses the options of a fit with A known (--range, --ridge).
JointFitOptions read_joint_fit_options(const Settings& s, std::size_t M, int d, int threads);

/// [min u, max u] over the interactions u = X_i^T A X_j, i != j, of M samples of N tokens (the
/// spline interval without --range), each u summed as the least-squares accumulation sums it, so
/// the ends are interactions of the fit and none counts as clamped. An interaction that is not
/// finite (tokens too large for A) is an InputError naming its sample.
std::pair<double, double> interaction_range(const arma::mat& X, const arma::mat& A, std::size_t M, int N,
                                            int threads = 1);

/// The spline interval [a, b] of a fit with A known, and what the fit should warn about it.
struct KnownARange {
  double a = 0.0, b = 1.0;
  /// When [a, b] is the data's [min u, max u] and a few extreme interactions stretch it: all but
  /// the t smallest and t largest of the n = M N (N-1) interactions, t = max(floor(1e-4 (n-1)),
  /// 2 (N-1)) (0.01% of them, and at least every interaction of one token), lie in [q_lo, q_hi],
  /// and that is under a third of [a, b]. Most pieces then hold next to no data; the warning suggests
  /// --range q_lo,q_hi (Python's warnings name it range). Empty otherwise (and when 2 t >= n).
  std::vector<std::string> warnings;
  /// [q_lo, q_hi] above, when [a, b] is the data's range and 2 t < n.
  std::optional<std::pair<double, double>> bulk;
};

/// The spline interval of a fit with A known, in one pass over the interactions: `range` when
/// given (--range), else interaction_range's (and the bulk above), whose overflow check runs either way (the fit would clamp an overflowing
/// interaction to an end of the range without a word); InputError suggesting `range_option` when
/// all interactions are equal and no range is given.
KnownARange known_A_range(const arma::mat& X, const arma::mat& A, std::size_t M, int N,
                          const std::optional<std::pair<double, double>>& range, const std::string& range_option,
                          int threads);

/// The range's warnings followed by the fit's (fit.json's "warnings").
std::vector<std::string> with_range_warnings(const KnownARange& range, std::vector<std::string> fit_warnings);

/// The memory of a least-squares spline fit on M samples of N tokens in d dimensions: the data
/// (`data_copies` copies of the tokens, plus `extra_per_token` numbers per token), p x p normal
/// equations per chunk of samples, per-thread feature blocks, and `trim` refit-trim pairs.
MemoryEstimate pairwise_fit_memory(std::size_t M, int N, int d, int degree, int pieces, int threads,
                                   double data_copies, double extra_per_token, double trim);

/// A matrix as an array of its rows.
nlohmann::json matrix_json(const arma::mat& A);

/// fit.json of a fixed spline space with A known: kind, degree, pieces, knots, coefficients,
/// range, A, train_mse, solver, rcond, ridge, rank_of_normal_matrix, clamped_interactions.
nlohmann::json known_A_fit_json(const PairwiseLseFit& fit, const arma::mat& A, double ridge);

/// fit.json of the adaptive schedule (without b_hat): phi_hat (one spline as above, or `terms`,
/// one spline per degree of the mixture, on `range`), selected, schedule,
/// select, folds, flagged, sigma2_hat, clamped_interactions and every candidate.
nlohmann::json adaptive_fit_json(const AdaptiveSplineFit& fit, const arma::mat& A, const AdaptiveSplineOptions& opt);

/// fit.json of the joint fit: the spline, the learned A, rank, train_mse, solver, diagnostics
/// (with the continuation stages) and the identifiability note.
nlohmann::json joint_fit_json(const PairwiseErmFit& fit, const ErmOptions& opt);

/// fit.json of the adaptive joint fit: phi_hat at the fitted A (as adaptive_fit_json,
/// with its candidates), rank, the identifiability note, `erm`: joint_fit_json's diagnostics of
/// the ERM in the selected space, and `pilot`: the pilot ERM's space, risk, stop and the space
/// selected at its A.
nlohmann::json adaptive_joint_fit_json(const AdaptiveErmFit& fit, const AdaptiveErmOptions& opt);

/// The selected space of an adaptive fit, and whether its K is the largest of the candidates'.
SelectedSpace selected_space(const AdaptiveSplineFit& fit);

// fit.json's `warnings`: sentences in the command line's option names (`fit pairwise` prints
// each on standard error; the Python estimators issue each as a UserWarning in their parameter
// names), so both front ends say the same thing, worded once.

/// A fixed spline space with A known: the minimum-norm fallback of a singular normal matrix, and
/// more than 1% of the M N (N - 1) training interactions outside an explicit --range.
std::vector<std::string> known_A_fit_warnings(const PairwiseLseFit& fit, std::size_t M, int N);

/// The joint fit with a fixed space: a final phi-step that fell back to the minimum-norm solution,
/// and a training risk that overflows in the units of Y^2 (the fit itself runs on scaled Y).
std::vector<std::string> joint_fit_warnings(const PairwiseErmFit& fit);

/// An adaptive fit (A known or joint) with its b_hat: a selected space whose full or fold solve
/// fell back to the minimum-norm solution, a selected K that is the largest of the grid (the
/// grid, not the data, bounded it; not said when that space's solve fell back, since a wider grid
/// would not help), and b_hat's subsamples so bounded (when b_hat is defined). With `known_A`
/// also the --range clamping above, and the remedies name --ridge (refused with --rank).
std::vector<std::string> adaptive_fit_warnings(const AdaptiveSplineFit& fit, const nlohmann::json& b_hat,
                                               std::size_t M, int N, bool known_A);

/// fit.json's b_hat of the adaptive fit with A known (studies/stats/smoothness_estimate.hpp,
/// b_hat_by_subsampling): `fit` is the fit on all M samples of `source`; the subsamples M / 2^j
/// (each at least opt.folds samples) are selected anew with the same options and interval [a, b].
nlohmann::json known_A_b_hat(const AdaptiveSplineFit& fit, double a, double b, const arma::mat& A, int N, int d,
                             std::size_t M, const SampleBlockSource& source, const AdaptiveSplineOptions& opt);

/// fit.json's b_hat of the adaptive joint fit on (X, Y): `fit` on all samples, each subsample's
/// adaptive joint fit anew on the first M / 2^j samples (each with its folds and more than 2 trim
/// interactions).
nlohmann::json joint_b_hat(const AdaptiveErmFit& fit, const arma::mat& X, const arma::vec& Y, int N,
                           const AdaptiveErmOptions& opt);

}  // namespace attnrate
