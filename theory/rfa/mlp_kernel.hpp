#pragma once
// Infinite-width limit of the random-feature MLP (estimators/random_features/random_feature_mlp.hpp)
// with ReLU activation, the baseline that random-feature attention is compared with.
//
// With z = [x_0; x_1; ...; x_N; 1] in R^{D+1}, D = (N+1) d, and first-layer weights
// w ~ N(0, I / D) (the constant coordinate included), <w, z> ~ N(0, |z|^2 / D) and
//   K(z, z') = E_w[relu(<w, z>) relu(<w, z'>)]
//            = s s' (sin t + (pi - t) cos t) / (2 pi),  s = |z| / sqrt(D), s' = |z'| / sqrt(D),
//              t = acos(<z, z'> / (|z| |z'|)),
// the degree-1 arc-cosine kernel (Cho & Saul 2009) with the MLP's normalisation. P neurons with
// penalty lambda on ||a||^2 (features not scaled by 1/sqrt(P)) have the kernel sum_k f_k f_k' ~
// P K, so as P -> infinity RF-MLP ridge with penalty lambda tends to kernel ridge with K and
// penalty lambda / P. Unlike the RFA kernel, K depends on the order of the keys.
#include <armadillo>

#include "estimators/random_features/attention_inputs.hpp"

namespace attnrate {

class MlpKernel {
 public:
  MlpKernel() = default;
  /// K between sample s of `a` and sample t of `b` (same d and N; InputError otherwise).
  double operator()(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t) const;
  /// n_a x n_b matrix K(a_s, b_t); rows in parallel, each entry computed alone (thread-invariant).
  arma::mat gram(const AttentionInputs& a, const AttentionInputs& b) const;
  /// Symmetric n x n Gram matrix of one set (upper triangle computed, mirrored exactly).
  arma::mat gram(const AttentionInputs& a) const;
  /// gram(a) given `first`, the Gram matrix of a's first m samples (m x m, m <= n): only the new
  /// entries are computed, with the same bits as gram(a). For a growing training set.
  arma::mat gram(const AttentionInputs& a, const arma::mat& first) const;
};

}  // namespace attnrate
