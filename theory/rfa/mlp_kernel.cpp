#include "theory/rfa/mlp_kernel.hpp"

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "theory/rfa/arc_cosine.hpp"
#include "theory/rfa/rfa_kernel.hpp"

namespace attnrate {
namespace {

void check_pair(const AttentionInputs& a, const AttentionInputs& b) {
  if (a.d != b.d || a.N != b.N)
    throw InputError("MlpKernel: both sets need the same d and N (got d = " + std::to_string(a.d) + ", N = " +
                     std::to_string(a.N) + " and d = " + std::to_string(b.d) + ", N = " + std::to_string(b.N) +
                     "): the MLP reads the concatenated tokens");
}

// |z_s|^2 = 1 + |x_0|^2 + sum_i |x_i|^2 of every sample, summed in that order (once per sample:
// a Gram matrix needs each n times).
std::vector<double> squared_norms(const AttentionInputs& a) {
  std::vector<double> z(a.n());
  const std::size_t N = static_cast<std::size_t>(a.N);
  for (std::size_t s = 0; s < a.n(); ++s) {
    double v = 1.0 + arma::dot(a.query.col(s), a.query.col(s));
    for (std::size_t i = 0; i < N; ++i) {
      const auto k = a.keys.col(s * N + i);
      v += arma::dot(k, k);
    }
    z[s] = v;
  }
  return z;
}

// The correlation <z_s, z'_t> / (|z_s| |z'_t|), <z_s, z'_t> = 1 + <x_0, x'_0> + sum_i <x_i, x'_i>,
// from the two squared norms.
double correlation(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t, double za,
                   double zb) {
  double zz = 1.0 + arma::dot(a.query.col(s), b.query.col(t));
  const std::size_t N = static_cast<std::size_t>(a.N);
  for (std::size_t i = 0; i < N; ++i) zz += arma::dot(a.keys.col(s * N + i), b.keys.col(t * N + i));
  return zz / std::sqrt(za * zb);
}

// The standard deviation of a pre-activation w^T z / sqrt(D), w ~ N(0, I_D), D = (N + 1) d.
double scale(const AttentionInputs& a, double z) { return std::sqrt(z / (static_cast<double>(a.N + 1) * a.d)); }

// K = expected_relu_product(0, 0, sa, sb, rho) = sa sb J(rho) (its zero-mean branch: sa, sb > 0
// since |z|^2 >= 1), the J of a row or column in one vector pass (theory/rfa/arc_cosine.hpp).
double entry(double sa, double sb, double j1) { return sa * sb * j1; }

}  // namespace

double MlpKernel::operator()(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t) const {
  check_pair(a, b);
  if (s >= a.n() || t >= b.n()) throw InputError("MlpKernel: sample index out of range");
  const auto norm = [](const AttentionInputs& in, std::size_t k) {
    double v = 1.0 + arma::dot(in.query.col(k), in.query.col(k));
    for (std::size_t i = 0; i < static_cast<std::size_t>(in.N); ++i) {
      const auto x = in.keys.col(k * in.N + i);
      v += arma::dot(x, x);
    }
    return v;
  };
  const double za = norm(a, s), zb = norm(b, t);
  return entry(scale(a, za), scale(b, zb), arc_cosine_j1(correlation(a, s, b, t, za, zb)));
}

arma::mat MlpKernel::gram(const AttentionInputs& a, const AttentionInputs& b) const {
  check_pair(a, b);
  const std::vector<double> za = squared_norms(a), zb = squared_norms(b);
  std::vector<double> sb(b.n());  // each column's scale once, not once per entry
  for (std::size_t t = 0; t < b.n(); ++t) sb[t] = scale(b, zb[t]);
  arma::mat K(a.n(), b.n());
#pragma omp parallel
  {
    std::vector<double> rho(b.n()), j1(b.n());
#pragma omp for schedule(static)
    for (std::size_t s = 0; s < a.n(); ++s) {
      for (std::size_t t = 0; t < b.n(); ++t) rho[t] = correlation(a, s, b, t, za[s], zb[t]);
      arc_cosine_j1(rho, j1);
      const double sa = scale(a, za[s]);
      for (std::size_t t = 0; t < b.n(); ++t) K(s, t) = entry(sa, sb[t], j1[t]);
    }
  }
  return K;
}

arma::mat MlpKernel::gram(const AttentionInputs& a) const { return gram(a, arma::mat()); }

arma::mat MlpKernel::gram(const AttentionInputs& a, const arma::mat& first) const {
  const std::size_t n = a.n(), m = first.n_rows;
  if (first.n_cols != m || m > n)
    throw InputError("MlpKernel: the known block must be square and at most " + std::to_string(n) + " x " +
                     std::to_string(n) + ", got " + std::to_string(first.n_rows) + " x " +
                     std::to_string(first.n_cols));
  const std::vector<double> z = squared_norms(a);
  std::vector<double> sz(n);  // each sample's scale once, not once per entry
  for (std::size_t t = 0; t < n; ++t) sz[t] = scale(a, z[t]);
  arma::mat K(n, n);
  if (m > 0) K.submat(0, 0, m - 1, m - 1) = first;
  // Upper triangle of the new columns t >= m, as gram(a) computes it, then mirrored exactly.
#pragma omp parallel
  {
    std::vector<double> rho(n), j1(n);
#pragma omp for schedule(dynamic, 16)
    for (std::size_t t = m; t < n; ++t) {
      for (std::size_t s = 0; s <= t; ++s) rho[s] = correlation(a, s, a, t, z[s], z[t]);
      arc_cosine_j1(std::span<const double>(rho.data(), t + 1), std::span<double>(j1.data(), t + 1));
      for (std::size_t s = 0; s <= t; ++s) K(s, t) = entry(sz[s], sz[t], j1[s]);
    }
  }
  for (std::size_t t = m; t < n; ++t)
    for (std::size_t s = 0; s < t; ++s) K(t, s) = K(s, t);
  return K;
}

}  // namespace attnrate
