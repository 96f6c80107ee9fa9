#pragma once
// Random-feature attention (Fu, Guo, Bai, Mei 2023): M heads with frozen random
// query-key matrices W_m in R^{(d+1)x(d+1)} and trained value vectors v_m in R^{d+1},
//
//     f(x_0, X; V) = sum_{m=1}^{M} <v_m, phi_m(x_0, X)>,
//     phi_m(x_0, X) = sum_{i=1}^{N} a_{m,i} xt_i,   xt = [x; 1] in R^{d+1},
//
// with attention weights a_{m,i} computed from the scores s_{m,i} = xt_0^T W_m xt_i:
//     relu:    a_{m,i} = max(s_{m,i}, 0) / N
//     exp:     a_{m,i} = exp(s_{m,i}) / N
//     softmax: a_{m,i} = exp(s_{m,i}) / sum_j exp(s_{m,j})     (normalised over the keys per head)
// Weight laws: zero-mean, W_m entries iid N(0, tau^2); biased, W_m = mu W_0 + that noise with
// W_0 = diag(I_d, 0), so the mean score is mu <x_0, x_i>.
// Weights are drawn from Rng(seed) in a fixed order: heads m = 0..M-1, within a head column by
// column (column-major), one normal() per entry.
//
// Feature layout: the feature vector of a sample has length M(d+1), entry m(d+1)+j = phi_m[j]
// (j = d is the constant coordinate), so the trained coefficients w give v_m = w[m(d+1) .. m(d+1)+d].
// Features are built in blocks of samples: the queries of a block meet all heads in one GEMM
// (stacked W_m^T, M(d+1) x (d+1)), then per sample one GEMM gives the N x M scores and one
// GEMM the weighted key sums. Blocks run in parallel (OpenMP), each writing its own rows with
// BLAS pinned to one thread, so the features are bit-identical for any thread count.
// features() and predict() call pin_blas_to_one_thread(), which stays in effect.
// fit_streaming() never stores the n x M(d+1) feature matrix: samples come block by block from a
// source and only the normal equations are kept (estimators/ridge_streaming.hpp, memory
// O((M(d+1))^2 + block)).
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/ridge/ridge.hpp"
#include "estimators/ridge/ridge_streaming.hpp"

namespace attnrate {

enum class RfaActivation { relu, exp, softmax };
enum class WeightLaw { zero_mean, biased };

/// "relu" | "exp" | "softmax"; throws InputError otherwise.
RfaActivation parse_rfa_activation(std::string_view name);
/// "zero-mean" | "biased"; throws InputError otherwise.
WeightLaw parse_weight_law(std::string_view name);
const char* to_string(RfaActivation a) noexcept;
const char* to_string(WeightLaw law) noexcept;

struct RfaOptions {
  int heads = 64;                                 ///< M >= 1
  RfaActivation activation = RfaActivation::relu; ///< sigma
  WeightLaw law = WeightLaw::zero_mean;
  double tau = 0.5;                               ///< noise standard deviation, >= 0
  double mu = 1.0;                                ///< mean scale of the biased law (ignored for zero-mean)
  std::uint64_t seed = 0;                         ///< weights come from Rng(seed)
  std::size_t block_samples = 32;                 ///< samples per feature block
  int threads = 0;                                ///< OpenMP threads; 0 = omp_get_max_threads()
};

class RandomFeatureAttention {
 public:
  /// Draws the M frozen matrices for token dimension d. Throws InputError on bad options.
  RandomFeatureAttention(int d, const RfaOptions& options = {});

  int d() const noexcept { return d_; }
  int heads() const noexcept { return options_.heads; }
  const RfaOptions& options() const noexcept { return options_; }
  /// M(d+1): number of features and of trainable parameters.
  std::size_t feature_count() const noexcept { return static_cast<std::size_t>(options_.heads) * (d_ + 1); }
  /// W_m as slice m of a (d+1) x (d+1) x M cube.
  const arma::cube& weights() const noexcept { return W_; }

  /// Feature matrix, n x M(d+1), row s = (phi_1; ...; phi_M) of sample s (layout above).
  arma::mat features(const AttentionInputs& inputs) const;
  /// Scores s_{m,i} = xt_0^T W_m xt_i of one sample, M x N (column i-1 is key i).
  arma::mat scores(const AttentionInputs& inputs, std::size_t sample) const;
  /// Attention weights a_{m,i} of one sample, M x N (including the 1/N or the softmax normalisation).
  arma::mat attention_weights(const AttentionInputs& inputs, std::size_t sample) const;

  /// Ridge fit of the value vectors on features(inputs) (see estimators/ridge.hpp); returns the
  /// solution and the lambda selection. y has one entry per sample.
  RidgeFit fit(const AttentionInputs& inputs, const arma::vec& y, const RidgeFitOptions& ridge = {});
  /// Same, on a feature matrix already computed by features() (to reuse it across targets).
  RidgeFit fit_features(const arma::mat& features, const arma::vec& y, const RidgeFitOptions& ridge = {});
  /// Samples [first, first + count) of the data set as a block: block.n() == count samples of this
  /// model's d (any N >= 1), and y their responses (count entries). Called concurrently from
  /// several threads, and twice per block with the residual pass: thread-safe and a pure function
  /// of (first, count).
  using SampleSource = std::function<void(std::size_t first, std::size_t count, AttentionInputs& block, arma::vec& y)>;
  /// Streaming ridge fit of the value vectors on n samples from `source` (primal form, rule fixed
  /// or gcv; see ridge_fit_streaming). stream.threads = 0 takes this model's `threads` option.
  /// Bit-identical for any thread count; equal to fit() on the same samples up to rounding.
  RidgeFit fit_streaming(std::size_t n, const SampleSource& source, const RidgeFitOptions& ridge = {},
                         const StreamingRidgeOptions& stream = {});
  /// Features of samples [first, first + count) of `inputs` as the columns of PhiT (M(d+1) x count,
  /// column-major): column s is row first + s of features(inputs) (bit for bit when the range is
  /// one of features()' blocks, else up to the rounding of the block GEMM). Runs on the calling thread
  /// (call pin_blas_to_one_thread() first for thread-independent bits); checks the shapes and
  /// that the block's tokens are finite.
  void feature_block(const AttentionInputs& inputs, std::size_t first, std::size_t count, double* PhiT) const;
  /// Buffers of one thread's blocks (the stacked W_m^T x_0 is M(d+1) x count): a caller that
  /// forms many blocks passes the same scratch to each, so they are allocated once.
  struct BlockScratch {
    arma::mat Q, G, K, S;
  };
  void feature_block(const AttentionInputs& inputs, std::size_t first, std::size_t count, double* PhiT,
                     BlockScratch& scratch) const;
  /// f(x_0, X) for every sample, streamed in blocks (the full feature matrix is never stored).
  arma::vec predict(const AttentionInputs& inputs) const;

  bool fitted() const noexcept { return !coef_.is_empty(); }
  /// Trained coefficients w (length M(d+1)); v_m = w[m(d+1) .. m(d+1)+d]. Empty before fit.
  const arma::vec& coefficients() const noexcept { return coef_; }
  /// Restores coefficients of a fit of a model with the same d and options (a saved fit: the
  /// weights are redrawn from the seed, so the model predicts as the fitted one, bit for bit).
  /// InputError unless w has feature_count() finite entries.
  void set_coefficients(const arma::vec& w);

 private:
  // feature_block, with messages naming sample s of `inputs` as sample_offset + s: the inputs are
  // samples [sample_offset, ...) of the caller's data (fit_streaming's source blocks).
  void block_features(const AttentionInputs& inputs, std::size_t first, std::size_t count, double* PhiT,
                      BlockScratch& scratch, std::size_t sample_offset) const;
  // Shapes and (values = true) finiteness of the inputs; throws InputError naming `where`.
  void check_inputs(const AttentionInputs& inputs, const char* where, bool values = true) const;

  int d_ = 0;
  RfaOptions options_;
  arma::cube W_;       // (d+1) x (d+1) x M
  arma::mat Wstack_;   // M(d+1) x (d+1), block m = W_m^T
  arma::vec coef_;
};

}  // namespace attnrate
