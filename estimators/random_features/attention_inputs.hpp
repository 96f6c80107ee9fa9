#pragma once
// Inputs of a single attention layer: n samples, each a query x_0 in R^d and N keys
// x_1..x_N in R^d. Stored column-wise so a block of samples is a contiguous column range.
#include <armadillo>
#include <cstddef>

namespace attnrate {

struct AttentionInputs {
  int d = 0;             ///< token dimension (before the constant-1 augmentation)
  int N = 0;             ///< keys per sample
  arma::mat query;       ///< d x n; column s is x_0 of sample s
  arma::mat keys;        ///< d x (n*N); column s*N + (i-1) is key x_i of sample s, i = 1..N
  std::size_t n() const noexcept { return query.n_cols; }
  /// A copy of samples first..last-1 (first < last <= n()).
  AttentionInputs samples(std::size_t first, std::size_t last) const {
    const std::size_t keys_per_sample = static_cast<std::size_t>(N);
    return {d, N, query.cols(first, last - 1), keys.cols(first * keys_per_sample, last * keys_per_sample - 1)};
  }
};

}  // namespace attnrate
