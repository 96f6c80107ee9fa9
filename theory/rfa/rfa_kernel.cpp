#include "theory/rfa/rfa_kernel.hpp"

#include <algorithm>
#include <boost/math/constants/constants.hpp>
#include <boost/math/special_functions/owens_t.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "theory/rfa/arc_cosine.hpp"

namespace attnrate {

namespace {

constexpr double kPi = boost::math::constants::pi<double>();
constexpr double kInvSqrt2Pi = boost::math::constants::one_div_root_two_pi<double>();
constexpr double kInvSqrt2 = boost::math::constants::one_div_root_two<double>();

double pdf(double x) { return kInvSqrt2Pi * std::exp(-0.5 * x * x); }
// Phi(x) and 1 - Phi(x) through erfc, accurate in both tails.
double cdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }
double upper(double x) { return 0.5 * std::erfc(x * kInvSqrt2); }

// Owen's T(h, a), with a = +-infinity (T(h, +-inf) = +-Phi(-|h|)/2) allowed.
double owens_t(double h, double a) {
  if (std::isinf(a)) return std::copysign(0.5 * upper(std::fabs(h)), a);
  return boost::math::owens_t(h, a);
}

// P(Z_1 < h, Z_2 < k) for standard normals with correlation rho, |rho| < 1 (Owen 1956):
// Phi2 = Phi(h)/2 + Phi(k)/2 - T(h, a_h) - T(k, a_k) - beta.
double bivariate_cdf(double h, double k, double rho) {
  const double r = std::sqrt((1.0 - rho) * (1.0 + rho));
  if (h == 0.0 && k == 0.0) return 0.25 + std::asin(rho) / (2.0 * kPi);
  // Limits h -> 0 (resp. k -> 0) of the general formula; beta and T(0, +-inf) = +-1/4 cancel.
  if (h == 0.0) return 0.5 * cdf(k) + owens_t(k, rho / r);
  if (k == 0.0) return 0.5 * cdf(h) + owens_t(h, rho / r);
  const double ah = (k - rho * h) / (h * r), ak = (h - rho * k) / (k * r);
  const double beta = h * k > 0.0 ? 0.0 : 0.5;
  const double p = 0.5 * cdf(h) + 0.5 * cdf(k) - owens_t(h, ah) - owens_t(k, ak) - beta;
  return std::clamp(p, 0.0, 1.0);
}

// E[(Z + h)^+ (Z + k)^+] with Z standard normal (rho = 1).
double relu_product_rho_plus(double h, double k) {
  const double c = std::max(-h, -k);  // both factors positive iff Z > c
  const double tail = upper(c), dens = pdf(c);
  // E[Z^2 1{Z>c}] = tail + c dens, E[Z 1{Z>c}] = dens.
  return tail + c * dens + (h + k) * dens + h * k * tail;
}

// E[(Z + h)^+ (k - Z)^+] with Z standard normal (rho = -1): positive on -h < Z < k.
double relu_product_rho_minus(double h, double k) {
  const double l = -h, u = k;
  if (!(l < u)) return 0.0;
  const double mass = cdf(u) - cdf(l);
  const double first = pdf(l) - pdf(u);                // E[Z 1{l<Z<u}]
  const double second = mass + l * pdf(l) - u * pdf(u);  // E[Z^2 1{l<Z<u}]
  return std::max(0.0, -second + (k - h) * first + h * k * mass);
}

// E[N(m, s^2)^+].
double relu_mean(double m, double s) {
  if (s == 0.0) return std::max(m, 0.0);
  return m * cdf(m / s) + s * pdf(m / s);
}

}  // namespace

double expected_relu_product(double m1, double m2, double s1, double s2, double rho) {
  rho = std::clamp(rho, -1.0, 1.0);
  if (s1 == 0.0) return std::max(m1, 0.0) * relu_mean(m2, s2);
  if (s2 == 0.0) return std::max(m2, 0.0) * relu_mean(m1, s1);
  if (m1 == 0.0 && m2 == 0.0) return s1 * s2 * arc_cosine_j1(rho);  // arc-cosine kernel of degree 1
  // X = m1 + s1 Z1, Y = m2 + s2 Z2: E[X^+ Y^+] = s1 s2 E[(Z1 - a)(Z2 - b) 1{Z1 > a, Z2 > b}].
  const double h = m1 / s1, k = m2 / s2;
  if (rho == 1.0) return s1 * s2 * relu_product_rho_plus(h, k);
  if (rho == -1.0) return s1 * s2 * relu_product_rho_minus(h, k);
  const double a = -h, b = -k;
  const double r = std::sqrt((1.0 - rho) * (1.0 + rho));
  const double pa = pdf(a), pb = pdf(b);
  const double qa = upper((b - rho * a) / r);  // P(Z2 > b | Z1 = a)
  const double qb = upper((a - rho * b) / r);  // P(Z1 > a | Z2 = b)
  const double L = bivariate_cdf(h, k, rho);   // P(Z1 > a, Z2 > b)
  // Stein's lemma: E[Z1 1] = pa qa + rho pb qb; E[Z1 Z2 1] = rho L + rho a pa qa + rho b pb qb
  // + r pa pdf((b - rho a)/r).
  const double e1 = pa * qa + rho * pb * qb;
  const double e2 = pb * qb + rho * pa * qa;
  const double e12 = rho * L + rho * a * pa * qa + rho * b * pb * qb + r * pa * pdf((b - rho * a) / r);
  const double v = e12 - b * e1 - a * e2 + a * b * L;
  return s1 * s2 * std::max(v, 0.0);
}

RfaKernel::RfaKernel(double tau, double mu) : tau_(tau), mu_(mu) {
  if (!(tau >= 0.0) || !std::isfinite(tau))
    throw InputError("--tau must be a finite standard deviation >= 0, got " + std::to_string(tau));
  if (!std::isfinite(mu)) throw InputError("--mu must be finite, got " + std::to_string(mu));
}

namespace {

// Per-sample quantities of one input set: |xt_0|, |xt_i| and the mean scores mu <x_0, x_i>.
struct Prepared {
  const AttentionInputs* in;
  std::vector<double> norm0;  // n
  std::vector<double> norm;   // n*N
  std::vector<double> mean;   // n*N
  bool zero_mean = true;      // every mean is +-0
};

double dot(const double* x, const double* y, int d) {
  double s = 0.0;
  for (int c = 0; c < d; ++c) s += x[c] * y[c];
  return s;
}

void check_inputs(const AttentionInputs& in) {
  if (in.N < 1 || in.keys.n_cols != in.n() * static_cast<std::size_t>(in.N) || in.query.n_rows != static_cast<arma::uword>(in.d) ||
      in.keys.n_rows != static_cast<arma::uword>(in.d))
    throw InputError("attention inputs are inconsistent: d = " + std::to_string(in.d) + ", N = " + std::to_string(in.N) +
                     ", query " + std::to_string(in.query.n_rows) + " x " + std::to_string(in.query.n_cols) + ", keys " +
                     std::to_string(in.keys.n_rows) + " x " + std::to_string(in.keys.n_cols));
}

Prepared prepare(const AttentionInputs& in, double mu) {
  check_inputs(in);
  Prepared p{&in, {}, {}, {}};
  const std::size_t n = in.n(), N = in.N;
  p.norm0.resize(n);
  p.norm.resize(n * N);
  p.mean.resize(n * N);
  for (std::size_t s = 0; s < n; ++s) {
    const double* x0 = in.query.colptr(s);
    p.norm0[s] = std::sqrt(dot(x0, x0, in.d) + 1.0);
    for (std::size_t i = 0; i < N; ++i) {
      const double* xi = in.keys.colptr(s * N + i);
      p.norm[s * N + i] = std::sqrt(dot(xi, xi, in.d) + 1.0);
      p.mean[s * N + i] = mu * dot(x0, xi, in.d);
      p.zero_mean = p.zero_mean && p.mean[s * N + i] == 0.0;
    }
  }
  return p;
}

// Scratch of the zero-mean entries: the key pairs' inner products, correlations and J values.
struct EntryScratch {
  std::vector<double> k, rho, j1;
};

double entry(const Prepared& A, std::size_t s, const Prepared& B, std::size_t t, double tau, EntryScratch& w) {
  const AttentionInputs &a = *A.in, &b = *B.in;
  const int d = a.d;
  const std::size_t Na = a.N, Nb = b.N;
  const double g0 = dot(a.query.colptr(s), b.query.colptr(t), d) + 1.0;  // <xt_0, xt_0'>
  const double n0a = A.norm0[s], n0b = B.norm0[t];
  double sum = 0.0;
  if (A.zero_mean && B.zero_mean && tau > 0.0) {
    // Every key pair takes expected_relu_product's arc-cosine branch (means 0, standard
    // deviations tau |xt_0| |xt_i| >= tau > 0): the same value s1 s2 J(rho), with the pairs' J in
    // one vector pass, summed in the same order.
    w.k.resize(Na * Nb);
    w.rho.resize(Na * Nb);
    w.j1.resize(Na * Nb);
    for (std::size_t i = 0; i < Na; ++i) {
      const double* xi = a.keys.colptr(s * Na + i);
      const double ni = A.norm[s * Na + i];
      for (std::size_t j = 0; j < Nb; ++j) {
        const double kij = dot(xi, b.keys.colptr(t * Nb + j), d) + 1.0;
        w.k[i * Nb + j] = kij;
        w.rho[i * Nb + j] = (g0 * kij) / (n0a * ni * n0b * B.norm[t * Nb + j]);
      }
    }
    arc_cosine_j1(w.rho, w.j1);
    for (std::size_t i = 0; i < Na; ++i) {
      const double s1 = tau * n0a * A.norm[s * Na + i];
      for (std::size_t j = 0; j < Nb; ++j)
        sum += w.k[i * Nb + j] * (s1 * (tau * n0b * B.norm[t * Nb + j]) * w.j1[i * Nb + j]);
    }
    return sum / static_cast<double>(Na * Nb);
  }
  for (std::size_t i = 0; i < Na; ++i) {
    const double* xi = a.keys.colptr(s * Na + i);
    const double ni = A.norm[s * Na + i], m1 = A.mean[s * Na + i];
    const double s1 = tau * n0a * ni;
    for (std::size_t j = 0; j < Nb; ++j) {
      const double kij = dot(xi, b.keys.colptr(t * Nb + j), d) + 1.0;  // <xt_i, xt'_j>
      const double nj = B.norm[t * Nb + j];
      const double rho = (g0 * kij) / (n0a * ni * n0b * nj);
      sum += kij * expected_relu_product(m1, B.mean[t * Nb + j], s1, tau * n0b * nj, rho);
    }
  }
  return sum / static_cast<double>(Na * Nb);
}

void check_same_d(const AttentionInputs& a, const AttentionInputs& b) {
  if (a.d != b.d)
    throw InputError("RFA kernel between inputs of different dimension: d = " + std::to_string(a.d) + " and " +
                     std::to_string(b.d));
}

}  // namespace

double RfaKernel::operator()(const AttentionInputs& a, std::size_t s, const AttentionInputs& b, std::size_t t) const {
  check_same_d(a, b);
  check_inputs(a);
  check_inputs(b);
  if (s >= a.n() || t >= b.n()) throw InputError("RFA kernel: sample index out of range");
  // Prepare copies of the two samples only (O(N d)), not the whole sets.
  const AttentionInputs sa = a.samples(s, s + 1), sb = b.samples(t, t + 1);
  EntryScratch w;
  return entry(prepare(sa, mu_), 0, prepare(sb, mu_), 0, tau_, w);
}

arma::mat RfaKernel::gram(const AttentionInputs& a, const AttentionInputs& b) const {
  check_same_d(a, b);
  const Prepared A = prepare(a, mu_), B = prepare(b, mu_);
  const std::size_t na = a.n(), nb = b.n();
  arma::mat K(na, nb);
#pragma omp parallel
  {
    EntryScratch w;
#pragma omp for schedule(dynamic, 4)
    for (std::size_t s = 0; s < na; ++s)
      for (std::size_t t = 0; t < nb; ++t) K(s, t) = entry(A, s, B, t, tau_, w);
  }
  return K;
}

arma::mat RfaKernel::gram(const AttentionInputs& a) const { return gram(a, arma::mat()); }

arma::mat RfaKernel::gram(const AttentionInputs& a, const arma::mat& first) const {
  const Prepared A = prepare(a, mu_);
  const std::size_t n = a.n(), m = first.n_rows;
  if (first.n_cols != m || m > n)
    throw InputError("RFA kernel: the known block must be square and at most " + std::to_string(n) + " x " +
                     std::to_string(n) + ", got " + std::to_string(first.n_rows) + " x " +
                     std::to_string(first.n_cols));
  arma::mat K(n, n);
  if (m > 0) K.submat(0, 0, m - 1, m - 1) = first;
  // Upper triangle of the new columns t >= m (entry(s, t) with s <= t, as for m = 0), mirrored.
#pragma omp parallel
  {
    EntryScratch w;
#pragma omp for schedule(dynamic, 4)
    for (std::size_t t = m; t < n; ++t)
      for (std::size_t s = 0; s <= t; ++s) K(s, t) = entry(A, s, A, t, tau_, w);
  }
  for (std::size_t t = m; t < n; ++t)
    for (std::size_t s = 0; s < t; ++s) K(t, s) = K(s, t);
  return K;
}

arma::vec kernel_predict(const arma::mat& K, const arma::vec& alpha) {
  if (K.n_cols != alpha.n_elem)
    throw InputError("kernel predictions: " + std::to_string(K.n_cols) + " training columns but " +
                     std::to_string(alpha.n_elem) + " coefficients");
  arma::vec f(K.n_rows, arma::fill::zeros);
  double* __restrict out = f.memptr();
  for (arma::uword t = 0; t < K.n_cols; ++t) {
    const double a = alpha[t];
    const double* __restrict col = K.colptr(t);
    for (arma::uword s = 0; s < K.n_rows; ++s) out[s] += col[s] * a;
  }
  return f;
}

arma::vec kernel_ridge_coefficients(const arma::mat& K, const arma::vec& y, double lambda, std::string* solver) {
  return KernelRidgeSolver(K).solve(y, lambda, solver);
}

KernelRidgeSolver::KernelRidgeSolver(const arma::mat& K) : K_(K) {
  if (!K.is_square())
    throw InputError("kernel ridge: the Gram matrix must be square, got " + std::to_string(K.n_rows) + " x " +
                     std::to_string(K.n_cols));
}

arma::vec KernelRidgeSolver::solve(const arma::vec& y, double lambda, std::string* solver) {
  if (!(lambda > 0.0) || !std::isfinite(lambda))
    throw InputError("kernel ridge --lambda must be finite and > 0, got " + std::to_string(lambda));
  if (K_.n_rows != y.n_elem)
    throw InputError("kernel ridge: Gram matrix " + std::to_string(K_.n_rows) + " x " + std::to_string(K_.n_cols) +
                     " does not match " + std::to_string(y.n_elem) + " responses");
  pin_blas_to_one_thread();  // LAPACK results must not depend on the BLAS thread count
  const double n = static_cast<double>(y.n_elem);
  work_ = K_;  // same size after the first solve: Armadillo reuses the memory
  work_.diag() += n * lambda;
  char uplo = 'U';
  arma::blas_int m = static_cast<arma::blas_int>(y.n_elem), info = 0, nrhs = 1;
  arma::lapack::potrf(&uplo, &m, work_.memptr(), &m, &info);
  if (info == 0) {
    arma::vec alpha = y;
    arma::lapack::potrs(&uplo, &m, &nrhs, work_.memptr(), &m, alpha.memptr(), &m, &info);
    if (info == 0) {
      if (solver) *solver = "cholesky";
      return alpha;
    }
  }
  // K + n lambda I should be positive definite; if rounding made it fail, solve in the
  // eigenbasis with the spectrum of K floored at 0 (visible through *solver).
  arma::vec ev;
  arma::mat V;
  arma::eig_sym(ev, V, arma::symmatu(K_));
  ev = arma::clamp(ev, 0.0, arma::datum::inf) + n * lambda;
  if (solver) *solver = "eigen (Cholesky failed)";
  return V * ((V.t() * y) / ev);
}

RfaKernelRidge::RfaKernelRidge(const RfaKernel& kernel, const AttentionInputs& train, const arma::vec& y, double lambda)
    : kernel_(kernel), train_(train) {
  if (y.n_elem != train.n())
    throw InputError("kernel ridge: " + std::to_string(y.n_elem) + " responses for " + std::to_string(train.n()) +
                     " samples");
  alpha_ = kernel_ridge_coefficients(kernel_.gram(train_), y, lambda, &solver_);
}

arma::vec RfaKernelRidge::predict(const AttentionInputs& x) const {
  return kernel_predict(kernel_.gram(x, train_), alpha_);
}

}  // namespace attnrate
