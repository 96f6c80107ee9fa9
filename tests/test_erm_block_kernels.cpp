// The joint fit's per-block loops against brute force over de Boor's basis (BSplineBasis),
// against the scalar loops they replaced (bit for bit), and their AVX2 build against the
// baseline build, bit for bit, at every degree.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "estimators/common/random.hpp"
#include "estimators/pairwise_erm/erm_block_kernels.hpp"

using namespace attnrate;

namespace {

struct Block {
  int r = 2, N = 5;
  std::size_t count = 7;
  std::vector<double> PQ, Y;
  ProjectedBlock view() const { return {PQ.data(), r, N, count}; }
  const double* P(std::size_t t) const { return PQ.data() + t * 2 * r; }
  const double* Q(std::size_t t) const { return P(t) + r; }
  double u(std::size_t s, int i, int j) const {
    double sum = 0.0;
    for (int k = 0; k < r; ++k) sum += P(s * N + i)[k] * Q(s * N + j)[k];
    return sum;
  }
};

// Spline coefficients with iid N(0, 1) entries, one stream per (seed, degree).
arma::vec random_coefficients(int p, std::uint64_t seed, int degree) {
  arma::vec coef(p);
  Rng rng(derive_seed(seed, {static_cast<std::uint64_t>(degree)}));
  for (double& c : coef) c = rng.normal();
  return coef;
}

Block random_block(std::uint64_t seed) {
  Block b;
  Rng rng(seed);
  b.PQ.resize(2 * b.r * b.count * b.N);
  b.Y.resize(b.count * b.N);
  for (double& v : b.PQ) v = rng.uniform(-1.0, 1.0);
  for (double& v : b.Y) v = rng.normal();
  return b;
}

}  // namespace

TEST_CASE("joint-fit features equal brute-force basis sums, clamping counted", "[erm]") {
  const Block blk = random_block(4);
  for (int degree = 0; degree <= BSplineBasis::max_degree; ++degree) {
    const BSplineBasis basis(-0.9, 1.1, 9, degree);  // some u fall outside [a, b]: clamped
    const PiecewiseBasis pb(basis);
    const int p = basis.size();
    std::vector<double> Psi(static_cast<std::size_t>(p) * blk.count * blk.N, 0.0);
    const std::size_t clamped = select_erm_block_kernels(true).features(pb, blk.view(), p, Psi.data());
    std::size_t expect_clamped = 0;
    double worst = 0.0;
    for (std::size_t s = 0; s < blk.count; ++s)
      for (int i = 0; i < blk.N; ++i) {
        std::vector<double> ref(p, 0.0);
        double vals[BSplineBasis::max_degree + 1];
        for (int j = 0; j < blk.N; ++j) {
          if (j == i) continue;
          const double u = blk.u(s, i, j);
          const BasisSpan span = basis.evaluate(u, vals);
          expect_clamped += span.clamped;
          for (int q = 0; q <= degree; ++q) ref[span.first + q] += vals[q] / (blk.N - 1);
        }
        for (int k = 0; k < p; ++k)
          worst = std::max(worst, std::abs(ref[k] - Psi[(s * blk.N + i) * p + k]));
      }
    INFO("degree " << degree);
    CHECK(expect_clamped > 0);
    CHECK(clamped == expect_clamped);
    CHECK(worst < 1e-13);
  }
}

TEST_CASE("joint-fit residual pass equals brute force: residuals, interval sums, gradient rows", "[erm]") {
  const Block blk = random_block(5);
  const double y_scale = 0.7;
  for (int degree = 1; degree <= BSplineBasis::max_degree; ++degree) {
    const BSplineBasis basis(-0.9, 1.1, 9, degree);
    const PiecewiseBasis pb(basis);
    const arma::vec coef = random_coefficients(basis.size(), 6, degree);
    const std::vector<double> table = pb.spline_table(coef);
    const std::size_t r2 = 2 * blk.r;
    std::vector<double> Z(r2 * blk.count * blk.N, 0.0), scratch(2 * blk.N);
    ResidualSums sums;
    select_erm_block_kernels(true).residuals(pb, table.data(), blk.view(), blk.Y.data(), y_scale, Z.data(),
                                             scratch.data(), sums);
    // Brute force: phi and phi' from de Boor's values and derivatives at the clamped u.
    std::vector<double> Zref(Z.size(), 0.0);
    ResidualSums ref;
    const double a = basis.a(), b = basis.b();
    for (std::size_t s = 0; s < blk.count; ++s)
      for (int i = 0; i < blk.N; ++i) {
        std::vector<double> u(blk.N), dphi(blk.N);
        double pred = 0.0;
        for (int j = 0; j < blk.N; ++j) {
          if (j == i) continue;
          u[j] = std::clamp(blk.u(s, i, j), a, b);
          pred += basis.value(coef, u[j]);
          dphi[j] = basis.derivative(coef, u[j]);
        }
        const double res = blk.Y[s * blk.N + i] * y_scale - pred / (blk.N - 1);
        ref.squared += res * res;
        for (int j = 0; j < blk.N; ++j) {
          if (j == i) continue;
          const double w = res * dphi[j];
          for (int k = 0; k < blk.r; ++k) {
            Zref[(s * blk.N + i) * r2 + k] += w * blk.Q(s * blk.N + j)[k];
            Zref[(s * blk.N + j) * r2 + blk.r + k] += w * blk.P(s * blk.N + i)[k];
          }
          ref.at_lower += w * (b - u[j]) / (b - a);
          ref.at_upper += w * (u[j] - a) / (b - a);
        }
      }
    INFO("degree " << degree);
    const double scale = 1.0 + ref.squared;
    CHECK(std::abs(sums.squared - ref.squared) < 1e-11 * scale);
    CHECK(std::abs(sums.at_lower - ref.at_lower) < 1e-9 * scale);
    CHECK(std::abs(sums.at_upper - ref.at_upper) < 1e-9 * scale);
    double worst = 0.0;
    for (std::size_t t = 0; t < Z.size(); ++t) worst = std::max(worst, std::abs(Z[t] - Zref[t]));
    CHECK(worst < 1e-9 * scale);
  }
}

namespace {

// The scalar loops the kernels replaced, as they were: the kernels must give their bits.
std::size_t reference_features(const PiecewiseBasis& pb, const Block& blk, int p, std::vector<double>& Psi) {
  const double inv = 1.0 / (blk.N - 1), a = pb.a(), b = pb.b();
  double vals[BSplineBasis::max_degree + 1];
  std::size_t clamped = 0;
  for (std::size_t s = 0; s < blk.count; ++s)
    for (int i = 0; i < blk.N; ++i) {
      double* col = Psi.data() + (s * blk.N + i) * static_cast<std::size_t>(p);
      for (int j = 0; j < blk.N; ++j) {
        if (j == i) continue;
        double u = projected_interaction(blk.P(s * blk.N + i), blk.Q(s * blk.N + j), blk.r);
        if (u < a || u > b) {
          ++clamped;
          u = std::clamp(u, a, b);
        }
        int piece;
        double tau;
        pb.locate(u, piece, tau);
        pb.values(piece, tau, vals);
        for (int q = 0; q <= pb.degree(); ++q) col[piece + q] += inv * vals[q];
      }
    }
  return clamped;
}

ResidualSums reference_residuals(const PiecewiseBasis& pb, const std::vector<double>& table, const Block& blk,
                                 double y_scale, std::vector<double>& Z) {
  const int N = blk.N, r = blk.r;
  const std::size_t r2 = 2 * static_cast<std::size_t>(r);
  const double inv = 1.0 / (N - 1), a = pb.a(), b = pb.b(), inv_w = 1.0 / (b - a);
  std::vector<double> uu(N), dph(N);
  ResidualSums sums;
  for (std::size_t s = 0; s < blk.count; ++s)
    for (int i = 0; i < N; ++i) {
      const double* Pi = blk.P(s * N + i);
      double pred = 0.0;
      for (int j = 0; j < N; ++j) {
        if (j == i) continue;
        const double u = std::clamp(projected_interaction(Pi, blk.Q(s * N + j), r), a, b);
        int piece;
        double tau, ph, dp;
        pb.locate(u, piece, tau);
        pb.spline(table.data(), piece, tau, ph, dp);
        pred += ph;
        uu[j] = u;
        dph[j] = dp;
      }
      const double res = blk.Y[s * N + i] * y_scale - inv * pred;
      sums.squared += res * res;
      double* zu = Z.data() + (s * N + i) * r2;
      for (int j = 0; j < N; ++j) {
        if (j == i) continue;
        const double w = res * dph[j];
        const double* Qj = blk.Q(s * N + j);
        double* zv = Z.data() + (s * N + j) * r2 + r;
        for (int k = 0; k < r; ++k) {
          zu[k] += w * Qj[k];
          zv[k] += w * Pi[k];
        }
        sums.at_lower += w * (b - uu[j]) * inv_w;
        sums.at_upper += w * (uu[j] - a) * inv_w;
      }
    }
  return sums;
}

}  // namespace

TEST_CASE("joint-fit loops give the bits of the scalar loops they replaced", "[erm][reproducibility]") {
  const Block blk = random_block(9);
  for (bool avx2 : {true, false}) {
    const ErmBlockKernels k = select_erm_block_kernels(avx2);
    for (int degree = 1; degree <= BSplineBasis::max_degree; ++degree) {
      const BSplineBasis basis(-0.9, 1.1, 9, degree);
      const PiecewiseBasis pb(basis);
      const int p = basis.size();
      std::vector<double> P1(static_cast<std::size_t>(p) * blk.count * blk.N, 0.0), P2 = P1;
      INFO("degree " << degree << ", AVX2 allowed " << avx2);
      CHECK(k.features(pb, blk.view(), p, P1.data()) == reference_features(pb, blk, p, P2));
      CHECK(P1 == P2);
      const arma::vec coef = random_coefficients(p, 10, degree);
      const std::vector<double> table = pb.spline_table(coef);
      std::vector<double> Z1(2 * blk.r * blk.count * blk.N, 0.0), Z2 = Z1, scratch(2 * blk.N);
      ResidualSums s1;
      k.residuals(pb, table.data(), blk.view(), blk.Y.data(), 0.9, Z1.data(), scratch.data(), s1);
      const ResidualSums s2 = reference_residuals(pb, table, blk, 0.9, Z2);
      CHECK(Z1 == Z2);
      CHECK(s1.squared == s2.squared);
      CHECK(s1.at_lower == s2.at_lower);
      CHECK(s1.at_upper == s2.at_upper);
    }
  }
}

TEST_CASE("AVX2 and baseline builds of the joint-fit loops give the same bits", "[erm][reproducibility]") {
  if (!__builtin_cpu_supports("avx2")) WARN("this CPU has no AVX2: both calls run the baseline build");
  const Block blk = random_block(7);
  const ErmBlockKernels fast = select_erm_block_kernels(true), base = select_erm_block_kernels(false);
  for (int degree = 0; degree <= BSplineBasis::max_degree; ++degree) {
    const BSplineBasis basis(-0.9, 1.1, 9, degree);
    const PiecewiseBasis pb(basis);
    const int p = basis.size();
    std::vector<double> P1(static_cast<std::size_t>(p) * blk.count * blk.N, 0.0), P2 = P1;
    CHECK(fast.features(pb, blk.view(), p, P1.data()) == base.features(pb, blk.view(), p, P2.data()));
    CHECK(P1 == P2);
    const arma::vec coef = random_coefficients(p, 8, degree);
    const std::vector<double> table = pb.spline_table(coef);
    std::vector<double> Z1(2 * blk.r * blk.count * blk.N, 0.0), Z2 = Z1, scratch(2 * blk.N);
    ResidualSums s1, s2;
    fast.residuals(pb, table.data(), blk.view(), blk.Y.data(), 1.3, Z1.data(), scratch.data(), s1);
    base.residuals(pb, table.data(), blk.view(), blk.Y.data(), 1.3, Z2.data(), scratch.data(), s2);
    INFO("degree " << degree);
    CHECK(Z1 == Z2);
    CHECK(s1.squared == s2.squared);
    CHECK(s1.at_lower == s2.at_lower);
    CHECK(s1.at_upper == s2.at_upper);
  }
}
