#pragma once
// Random-feature two-layer network on the concatenated tokens: the baseline that random-feature attention is compared with.
//
//     f(x_0, X) = sum_{k=1}^{P} a_k sigma(<w_k, z>),   z = [x_0; x_1; ...; x_N; 1] in R^{(N+1)d+1},
//
// first layer w_k iid N(0, I/((N+1)d)) (all (N+1)d+1 coordinates, the constant included), frozen;
// second layer a trained by ridge regression (estimators/ridge.hpp). sigma = relu (default) or exp.
// Default width P = M(d+1), the parameter count of an M-head RandomFeatureAttention.
// The weights are drawn from Rng(seed) in a fixed order: neuron k = 0..P-1, within a neuron
// coordinate by coordinate, one normal() per entry.
// Features of a block of samples are one GEMM (block's z's against all w_k); blocks run in
// parallel with BLAS pinned to one thread, so results are bit-identical for any thread count
// (features() and predict() call pin_blas_to_one_thread(), which stays in effect).
// Unlike attention, f depends on the order of the keys.
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/ridge/ridge.hpp"

namespace attnrate {

enum class MlpActivation { relu, exp };
/// "relu" | "exp"; throws InputError otherwise.
MlpActivation parse_mlp_activation(std::string_view name);
const char* to_string(MlpActivation a) noexcept;

struct RfMlpOptions {
  std::size_t width = 0;                            ///< P; 0 = match_heads * (d+1)
  int match_heads = 64;                             ///< M of the attention model to match when width = 0
  MlpActivation activation = MlpActivation::relu;
  std::uint64_t seed = 0;                           ///< weights come from Rng(seed)
  std::size_t block_samples = 256;                  ///< samples per feature block
  int threads = 0;                                  ///< OpenMP threads; 0 = omp_get_max_threads()
};

class RandomFeatureMlp {
 public:
  /// Draws the frozen first layer for token dimension d and N keys. Throws InputError on bad options.
  RandomFeatureMlp(int d, int N, const RfMlpOptions& options = {});

  int d() const noexcept { return d_; }
  int N() const noexcept { return N_; }
  const RfMlpOptions& options() const noexcept { return options_; }
  /// (N+1)d + 1, the length of z.
  std::size_t input_dim() const noexcept { return static_cast<std::size_t>(N_ + 1) * d_ + 1; }
  /// P: number of features and trainable parameters.
  std::size_t feature_count() const noexcept { return W_.n_cols; }
  /// First layer, (N+1)d+1 x P, column k = w_k.
  const arma::mat& weights() const noexcept { return W_; }

  /// Feature matrix, n x P, entry (s, k) = sigma(<w_k, z_s>).
  arma::mat features(const AttentionInputs& inputs) const;
  /// The same for inputs that are samples [sample_offset, ...) of the caller's data (a block of
  /// it): an overflow message names the sample in the whole data.
  arma::mat features(const AttentionInputs& inputs, std::size_t sample_offset) const;
  /// Ridge fit of a on features(inputs); y has one entry per sample.
  RidgeFit fit(const AttentionInputs& inputs, const arma::vec& y, const RidgeFitOptions& ridge = {});
  /// Same, on a feature matrix already computed by features().
  RidgeFit fit_features(const arma::mat& features, const arma::vec& y, const RidgeFitOptions& ridge = {});
  /// f for every sample, streamed in blocks.
  arma::vec predict(const AttentionInputs& inputs) const;

  bool fitted() const noexcept { return !coef_.is_empty(); }
  /// Trained second layer a (length P). Empty before fit.
  const arma::vec& coefficients() const noexcept { return coef_; }
  /// Restores a fit's second layer, as RandomFeatureAttention::set_coefficients (length P, finite).
  void set_coefficients(const arma::vec& a);

 private:
  void check_inputs(const AttentionInputs& inputs, const char* where) const;
  /// InputError naming the overflow, and the lowest sample it hit (row of `values`, whose rows are
  /// samples, plus sample_offset), when finite inputs gave non-finite features or predictions.
  void check_finite_outputs(const arma::mat& values, const char* where, std::size_t sample_offset) const;

  int d_ = 0, N_ = 0;
  RfMlpOptions options_;
  arma::mat W_;  // (N+1)d+1 x P
  arma::vec coef_;
};

}  // namespace attnrate
