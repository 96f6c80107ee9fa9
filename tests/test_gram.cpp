// The Gram kernel (estimators/common/gram.hpp) against its definition, bit for bit at every
// vector width the CPU runs, and against independent computations: Armadillo's P P^T (OpenBLAS)
// to rounding, and exactly where every sum is exact (small integers).
#include <catch2/catch.hpp>
#include <armadillo>
#include <cmath>
#include <vector>

#include "estimators/common/gram.hpp"
#include "estimators/common/random.hpp"

using namespace attnrate;

namespace {

constexpr double kSentinel = 12345.0;  // in the strict lower triangle: must stay untouched

// The definition: per entry a <= b, acc = 0; acc = acc + P(a,t) P(b,t) for t = 0..k-1; C += acc.
std::vector<double> gram_by_definition(const std::vector<double>& P, int p, std::size_t ld, std::size_t k,
                                       std::vector<double> C, std::size_t ldc) {
  for (int b = 0; b < p; ++b)
    for (int a = 0; a <= b; ++a) {
      double acc = 0.0;
      for (std::size_t t = 0; t < k; ++t) {
        const double product = P[t * ld + a] * P[t * ld + b];
        acc = acc + product;
      }
      C[b * ldc + a] += acc;
    }
  return C;
}

// C with 0.25 on and above the diagonal (so the kernel must add, not overwrite), the sentinel below.
std::vector<double> start_matrix(int p, std::size_t ldc) {
  std::vector<double> C(ldc * p, kSentinel);
  for (int b = 0; b < p; ++b)
    for (int a = 0; a <= b; ++a) C[b * ldc + a] = 0.25;
  return C;
}

const VectorWidth kWidths[] = {VectorWidth::sse2, VectorWidth::avx, VectorWidth::avx512};

}  // namespace

TEST_CASE("gram_upper_add: the definition's bits at every width, every shape", "[gram]") {
  Rng rng(31);
  int widths_run = 0;
  for (VectorWidth w : kWidths) widths_run += cpu_supports(w);
  INFO("widths this CPU runs: " << widths_run);
  // p across the tile edges of every width (lanes 2, 4, 8; columns 12, 24); ld = p and ld > p;
  // k = 0, 1 (the last column only, read through the padded copy), and longer.
  for (int p : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 21, 24, 25, 26, 33, 41, 42, 49, 64}) {
    for (std::size_t extra : {0, 3}) {
      const std::size_t ld = p + extra, ldc = p + 2;
      for (std::size_t k : {0, 1, 2, 7, 300}) {
        // P holds exactly (k-1) ld + p doubles: a read past it would be caught by the sanitizers.
        // Mostly zero (+0 and -0), in runs as spline features are, so that tiles skip columns.
        std::vector<double> P(k == 0 ? 0 : (k - 1) * ld + p);
        for (std::size_t e = 0; e < P.size(); ++e) {
          const double draw = rng.uniform();
          P[e] = draw < 0.5 ? 0.0 : draw < 0.6 ? -0.0 : (e / 5) % 3 == 0 ? 0.0 : rng.normal();
        }
        const std::vector<double> expected = gram_by_definition(P, p, ld, k, start_matrix(p, ldc), ldc);
        for (VectorWidth w : kWidths) {
          if (!cpu_supports(w)) continue;
          std::vector<double> C = start_matrix(p, ldc);
          gram_upper_add(P.data(), p, ld, k, C.data(), ldc, w);
          INFO("p " << p << ", ld " << ld << ", k " << k << ", width " << static_cast<int>(w));
          CHECK(C == expected);  // bit for bit, the sentinels included
        }
      }
    }
  }
}

TEST_CASE("gram_upper_add: agrees with Armadillo's P P^T, exactly on integers", "[gram]") {
  Rng rng(32);
  const int p = 37;
  const std::size_t k = 2048;
  SECTION("Gaussian entries: within the rounding of a k-term sum") {
    arma::mat P(p, k);
    for (double& x : P) x = rng.normal();
    arma::mat C(p, p, arma::fill::zeros);
    gram_upper_add(P.memptr(), p, p, k, C.memptr(), p);
    const arma::mat ref = P * P.t();
    // |fl(sum) - sum| <= k u sum |P(a,t) P(b,t)| (Higham, recursive summation), on the upper triangle.
    const arma::mat abs_sum = arma::abs(P) * arma::abs(P).t();
    const arma::mat upper_err = arma::trimatu(arma::abs(C - ref));
    CHECK(arma::all(arma::vectorise(upper_err <= 2.0 * k * 0x1p-53 * arma::trimatu(abs_sum))));
    CHECK(arma::accu(arma::trimatl(C, -1)) == 0.0);  // the strict lower triangle untouched
  }
  SECTION("integers in [-8, 8]: every partial sum exact, so equal to P P^T exactly") {
    arma::mat P(p, k);
    for (double& x : P) x = std::floor(rng.uniform(-8.0, 9.0));
    arma::mat C(p, p, arma::fill::zeros);
    gram_upper_add(P.memptr(), p, p, k, C.memptr(), p);
    const arma::mat ref = P * P.t();
    CHECK(arma::approx_equal(arma::trimatu(C), arma::trimatu(ref), "absdiff", 0.0));
  }
}
