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
};

}  // namespace attnrate
