#pragma once
// Infinite-width limit of random-feature attention with ReLU scores (docs/model.md).
//
// With xt = [x; 1] in R^{d+1} and W in R^{(d+1)x(d+1)} drawn from the weight law
//   zero-mean  W_ab iid N(0, tau^2)                       (mu = 0)
//   biased     W = mu W_0 + (zero-mean noise), W_0 = diag(I_d, 0), so E[xt_0^T W xt_i] = mu <x_0, x_i>,
// the RFA features of one head are phi_W(x_0, X) = (1/N) sum_i relu(xt_0^T W xt_i) xt_i, and
//   K((x_0, X), (x_0', X')) = E_W <phi_W(x_0, X), phi_W(x_0', X')>
//                          = (1/(N N')) sum_{i,j} <xt_i, xt'_j> E[relu(s_i) relu(s'_j)],
// where (s_i, s'_j) = (xt_0^T W xt_i, xt_0'^T W xt'_j) is bivariate normal with means
// (mu <x_0, x_i>, mu <x_0', x'_j>), variances tau^2 |xt_0|^2 |xt_i|^2 and tau^2 |xt_0'|^2 |xt'_j|^2,
// covariance tau^2 <xt_0, xt_0'> <xt_i, xt'_j>.
//
// Relation to the finite model: M heads with penalty lambda on ||V||_F^2 (features not scaled by
// 1/sqrt(M)) have the kernel sum_m <phi_m, phi_m'> ~ M K, so as M -> infinity RFA ridge with
// penalty lambda tends to kernel ridge with this K and penalty lambda / M.
#include <armadillo>
#include <string>

#include "estimators/random_features/attention_inputs.hpp"

namespace attnrate {

/// E[relu(X) relu(Y)] for (X, Y) bivariate normal with means m1, m2, standard deviations
/// s1, s2 >= 0 and correlation rho (clamped to [-1, 1]). Zero means: the degree-1 arc-cosine
/// kernel s1 s2 (sin t + (pi - t) cos t) / (2 pi), t = acos(rho) (Cho & Saul 2009). Otherwise the
/// truncated bivariate normal moments (Rosenbaum 1961) with the orthant probability from Owen's
/// T; rho = +-1 and zero standard deviations use their one-dimensional closed forms.
double expected_relu_product(double m1, double m2, double s1, double s2, double rho);

/// The ReLU RFA kernel above for a weight law (tau, mu).
class RfaKernel {
 public:
  /// tau >= 0 (noise standard deviation; 0 leaves the deterministic W = mu W_0), mu finite
  /// (0: the zero-mean law; RfaOptions' zero_mean law corresponds to mu = 0). Throws InputError.
  explicit RfaKernel(double tau = 0.5, double mu = 0.0);
  double tau() const noexcept { return tau_; }
  double mu() const noexcept { return mu_; }

  /// K between sample s of `a` and sample t of `b` (same d; N may differ).
  double operator()(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t) const;
  /// n_a x n_b matrix K(a_s, b_t); rows in parallel (OpenMP), each entry computed alone, so
  /// the result does not depend on the thread count.
  arma::mat gram(const AttentionInputs& a, const AttentionInputs& b) const;
  /// Symmetric n x n Gram matrix of one set (upper triangle computed, mirrored exactly).
  arma::mat gram(const AttentionInputs& a) const;
  /// gram(a) given `first`, the Gram matrix of a's first m samples (m x m, m <= n): only the new
  /// entries are computed, with the same bits as gram(a). For a growing training set.
  arma::mat gram(const AttentionInputs& a, const arma::mat& first) const;

 private:
  double tau_, mu_;
};

/// Kernel ridge coefficients alpha = (K + n lambda I)^{-1} y, the minimiser of
/// (1/n) ||y - f||^2 + lambda ||f||_H^2 over f = sum_s alpha_s K(., x_s). lambda > 0 (InputError
/// otherwise). Cholesky; if it fails (K not numerically PSD at this lambda) falls back to the
/// eigendecomposition with eigenvalues floored at 0 and says so in *solver.
arma::vec kernel_ridge_coefficients(const arma::mat& K, const arma::vec& y, double lambda, std::string* solver = nullptr);

/// Predictions f = K alpha (K: n_points x n_train, alpha: n_train) with each f_s summed over t in
/// increasing order, as a scalar loop would: the same bits at any thread count (a BLAS gemv may
/// split the sum). The loop runs t outer, s inner, so it reads K by columns and vectorises over s.
arma::vec kernel_predict(const arma::mat& K, const arma::vec& alpha);

/// kernel_ridge_coefficients for many lambda on one Gram matrix, as a lambda search needs.
/// Each solve copies K into one buffer kept across solves and factors it in place (LAPACK potrf,
/// potrs): at n in the thousands a fresh n x n matrix per lambda costs page faults and copies
/// comparable to the Cholesky itself. Holds a reference to K, which must outlive the solver (a
/// temporary K is refused at compile time). solve() writes the buffer: one solver per thread.
class KernelRidgeSolver {
 public:
  /// K square (InputError otherwise).
  explicit KernelRidgeSolver(const arma::mat& K);
  explicit KernelRidgeSolver(arma::mat&&) = delete;
  /// alpha = (K + n lambda I)^{-1} y with n = y.n_elem = K.n_rows; as kernel_ridge_coefficients.
  arma::vec solve(const arma::vec& y, double lambda, std::string* solver = nullptr);

 private:
  const arma::mat& K_;
  arma::mat work_;
};

/// Kernel ridge regression with RfaKernel: the M -> infinity reference of RFA ridge.
class RfaKernelRidge {
 public:
  /// Fits on (train, y), y of length train.n(); lambda > 0.
  RfaKernelRidge(const RfaKernel& kernel, const AttentionInputs& train, const arma::vec& y, double lambda);
  /// f(x) = sum_s alpha_s K(x, x_s) for every sample of `x`.
  arma::vec predict(const AttentionInputs& x) const;
  const arma::vec& alpha() const noexcept { return alpha_; }
  /// "cholesky" or the fallback used.
  const std::string& solver() const noexcept { return solver_; }

 private:
  RfaKernel kernel_;
  AttentionInputs train_;
  arma::vec alpha_;
  std::string solver_;
};

}  // namespace attnrate
