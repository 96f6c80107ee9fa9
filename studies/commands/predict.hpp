#pragma once
// `attnrate predict`: the predictions of a fit (fit.json from `attnrate fit`) on a data file.
//
// The library entry points take a parsed fit and parsed data and return predictions, so another
// front end (a language binding) can reuse them without files:
//   read_fit / parse_fit       fit.json -> FittedModel (validated; InputError naming the file)
//   predict_pairwise           pairwise fit + pairwise data -> one prediction per token
//   predict_attention          RFA or RF-MLP fit + attention inputs -> one prediction per sample
//   fitted_g                   g_hat(x, y) = phi_hat(x^T A y) of a pairwise fit
//
// What a fit needs to predict is in fit.json alone:
//  * pairwise (A known or learned): the spline range, degree, pieces and coefficients, and A; the
//    phi.csv sidecar is a table for plots and is not read;
//  * RFA and RF-MLP: the coefficients and the options of the frozen random weights (seed, heads,
//    width, laws). The weights are not stored (heads x (d+1)^2 numbers); they are redrawn from the
//    stored seed with the generator and order the fit used (RandomFeatureAttention /
//    RandomFeatureMlp), and the features are computed in the fit's sample blocks, so predictions on
//    the training data are bit for bit the fit's own in-sample predictions.
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/spline_sum.hpp"
#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "studies/commands/command.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/pairwise_data.hpp"

namespace attnrate {

enum class FitKind { pairwise, rfa, rf_mlp };
/// "pairwise", "rfa", "rf-mlp": the `kind` written into fit.json.
const char* to_string(FitKind kind) noexcept;

/// A pairwise fit: g_hat(x, y) = phi_hat(x^T A y), phi_hat one spline or a sum of splines of
/// several degrees on one range (estimators/spline_sum.hpp; clamped outside it, as in the fit).
/// Most terms a pairwise fit.json may hold (the mixture has one per degree, at most 11).
inline constexpr std::size_t kMaxSplineTerms = BSplineBasis::max_degree + 1;

struct PairwiseFitModel {
  SplineSum phi;
  arma::mat A;          ///< d x d
  bool a_known = true;  ///< false: A was learned jointly (--rank)
};

/// A random-feature fit: RFA (the options of RandomFeatureAttention) or RF-MLP (of
/// RandomFeatureMlp) and the trained coefficients.
struct FeatureFitModel {
  RfaOptions rfa;    ///< kind rfa
  RfMlpOptions mlp;  ///< kind rf_mlp (width > 0)
  arma::vec coef;
};

struct FittedModel {
  FitKind kind = FitKind::pairwise;
  std::string source;  ///< the file it was read from, for messages
  int d = 0;           ///< token dimension
  int N = 0;           ///< tokens (pairwise) or keys (attention) per sample of the training data
  std::optional<PairwiseFitModel> pairwise;
  std::optional<FeatureFitModel> features;
  /// One line: what the model is ("pairwise fit, A known, K = 8 pieces of degree 3").
  std::string describe() const;
};

/// Validates a parsed fit.json (`source` names it in messages) and returns the model. The kind
/// comes from the key `kind`; files without it (written before it existed) are recognised by
/// their keys. Every missing or malformed key, and a knot vector that does not match the range,
/// pieces and degree, throws InputError "<source>: ...".
FittedModel parse_fit(const nlohmann::json& j, const std::string& source);

/// Reads fit.json within `limits` (a regular file or FIFO) and parse_fit's it; invalid JSON is
/// reported as "<file>:<line>:<column>: ...".
FittedModel read_fit(const std::filesystem::path& path, const ReadLimits& limits = kDataReadLimits);

/// g_hat(x, y) = phi_hat(x^T A y) for tokens x, y of length d.
double fitted_g(const PairwiseFitModel& fit, const double* x, const double* y) noexcept;

/// Predictions of a pairwise fit, one per token (data.M * data.N, in the data's order):
/// Y_hat_i = 1/(N-1) sum_{j != i} phi_hat(X_i^T A X_j) within each sample. Any N >= 2; d must be
/// the fit's (InputError otherwise); an interaction that overflows (tokens too large for A) is an
/// InputError naming its sample, never a prediction at the clamped end of the range.
/// threads: 0 = all cores.
arma::vec predict_pairwise(const PairwiseFitModel& fit, const PairwiseData& data, int threads = 0);

/// Predictions of an RFA or RF-MLP fit, one per sample. The frozen weights are redrawn from the
/// stored seed (see the file comment). d must be the fit's; an RF-MLP also needs the fit's N (its
/// input is the concatenated tokens), RFA takes any N >= 1. Bit-identical for any `threads`
/// (0 = all cores), and equal bit for bit to the fitted model's predict() on the same inputs.
arma::vec predict_attention(const FittedModel& fit, const AttentionInputs& inputs, int threads = 0);

/// What a random-feature model needs beside its data and feature matrix: its frozen weights
/// (`heads` of the attention model, or 0 for an RF-MLP of width P) and, per thread (0 = all
/// cores), the buffers of one block of `block` samples with N keys in R^d. predict checks it alone,
/// fit rfa with its data, features and Gram matrix (fit_rfa_memory).
void add_feature_model_memory(MemoryEstimate& need, int heads, double P, int N, int d, int threads, double block);

/// The memory of predicting with `fit` beyond its data: the frozen weights and per-thread feature
/// blocks of a random-feature fit (add_feature_model_memory); nothing for a pairwise fit.
MemoryEstimate model_memory(const FittedModel& fit, int threads);

/// Attention data read with read_attention_data: the inputs and one output per sample.
struct AttentionData {
  AttentionInputs inputs;
  arma::vec y;
};

/// Reads an attention data CSV (docs/formats.md, section 2) within `limits` and checks that y is
/// the same on every row of a sample ("<file>:<line>:<column>: ..." otherwise).
AttentionData read_attention_data(const std::filesystem::path& path, const ReadLimits& limits = kDataReadLimits);

/// Adds the memory of data read from a file and of their predictions (pairwise: X, Y, A X and one
/// prediction per token; attention: the query and keys, y and one prediction per sample).
void add_data_memory(MemoryEstimate& need, const PairwiseData& data);
void add_data_memory(MemoryEstimate& need, const AttentionData& data);

/// predict and score check model_memory before they read the data (the reading itself is bounded
/// by --max-input-size) and this, the model with the data and predictions, after.
template <class Data>
void check_prediction_memory(const FittedModel& fit, const Data& data, int threads, const MemoryBudget& budget,
                             const std::string& command) {
  MemoryEstimate need = model_memory(fit, threads);
  add_data_memory(need, data);
  need.check(budget, command, command + " on less data");
}

/// Its options: --fit, --data, and the resource limits.
std::vector<KeySpec> predict_keys();

/// Reads --fit and --data (the data format of the fit's kind), checks that the data have the
/// fit's d (and N for an RF-MLP), the memory against --max-memory and that `out` is a writable
/// regular file that is none of the inputs, all before any work; writes the predictions CSV to
/// `out` (pairwise: sample,token,y_hat; attention: sample,y_hat; docs/formats.md). The y column
/// of the data must be there but is not used.
CommandReport predict(const Settings& s, const std::filesystem::path& out, int threads);

}  // namespace attnrate
