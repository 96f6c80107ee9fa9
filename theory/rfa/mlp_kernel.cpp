#include "theory/rfa/mlp_kernel.hpp"

#include <cmath>
#include <string>

#include "estimators/common/input_error.hpp"
#include "theory/rfa/rfa_kernel.hpp"

namespace attnrate {
namespace {

void check_pair(const AttentionInputs& a, const AttentionInputs& b) {
  if (a.d != b.d || a.N != b.N)
    throw InputError("MlpKernel: both sets need the same d and N (got d = " + std::to_string(a.d) + ", N = " +
                     std::to_string(a.N) + " and d = " + std::to_string(b.d) + ", N = " + std::to_string(b.N) +
                     "): the MLP reads the concatenated tokens");
}

// <z_s, z'_t>, |z_s|^2 and |z'_t|^2 with z = [x_0; x_1..x_N; 1].
void inner_products(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t, double& zz,
                    double& za, double& zb) {
  zz = 1.0 + arma::dot(a.query.col(s), b.query.col(t));
  za = 1.0 + arma::dot(a.query.col(s), a.query.col(s));
  zb = 1.0 + arma::dot(b.query.col(t), b.query.col(t));
  const std::size_t N = static_cast<std::size_t>(a.N);
  for (std::size_t i = 0; i < N; ++i) {
    const auto ka = a.keys.col(s * N + i);
    const auto kb = b.keys.col(t * N + i);
    zz += arma::dot(ka, kb);
    za += arma::dot(ka, ka);
    zb += arma::dot(kb, kb);
  }
}

}  // namespace

double MlpKernel::operator()(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t) const {
  check_pair(a, b);
  double zz = 0, za = 0, zb = 0;
  inner_products(a, s, b, t, zz, za, zb);
  const double D = static_cast<double>(a.N + 1) * a.d;
  const double sa = std::sqrt(za / D), sb = std::sqrt(zb / D);
  return expected_relu_product(0.0, 0.0, sa, sb, zz / std::sqrt(za * zb));
}

arma::mat MlpKernel::gram(const AttentionInputs& a, const AttentionInputs& b) const {
  check_pair(a, b);
  arma::mat K(a.n(), b.n());
#pragma omp parallel for schedule(static)
  for (std::size_t s = 0; s < a.n(); ++s)
    for (std::size_t t = 0; t < b.n(); ++t) K(s, t) = (*this)(a, s, b, t);
  return K;
}

arma::mat MlpKernel::gram(const AttentionInputs& a) const {
  arma::mat K(a.n(), a.n());
#pragma omp parallel for schedule(dynamic, 16)
  for (std::size_t s = 0; s < a.n(); ++s)
    for (std::size_t t = s; t < a.n(); ++t) K(s, t) = (*this)(a, s, a, t);
  for (std::size_t s = 0; s < a.n(); ++s)
    for (std::size_t t = 0; t < s; ++t) K(s, t) = K(t, s);
  return K;
}

}  // namespace attnrate
