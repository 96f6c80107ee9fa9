// The Gram kernel (estimators/common/gram.hpp) against its definition, bit for bit at every
// vector width the CPU runs, and against independent computations: Armadillo's P P^T (OpenBLAS)
// to rounding, and exactly where every sum is exact (small integers).
#include <catch2/catch.hpp>
#include <armadillo>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "estimators/common/gram.hpp"
#include "estimators/common/random.hpp"

using namespace attnrate;

namespace {

constexpr double kSentinel = 12345.0;  // in the strict lower triangle: must stay untouched

// The definition: per entry a <= b, acc = 0; acc = acc + P(a,t) P(b,t) for t = 0..k-1; C += acc
// (k = 0: C untouched).
std::vector<double> gram_by_definition(const double* P, int p, std::size_t ld, std::size_t k, std::vector<double> C,
                                       std::size_t ldc) {
  if (k == 0) return C;
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

// C with `start` on and above the diagonal (so the kernel must add, not overwrite), the sentinel below.
std::vector<double> start_matrix(int p, std::size_t ldc, double start) {
  std::vector<double> C(ldc * p, kSentinel);
  for (int b = 0; b < p; ++b)
    for (int a = 0; a <= b; ++a) C[b * ldc + a] = start;
  return C;
}

// n doubles that end where an inaccessible page begins: a read past the last one faults.
class GuardedDoubles {
 public:
  explicit GuardedDoubles(std::size_t n) : n_(n) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t data_pages = (n * sizeof(double) + page - 1) / page;
    bytes_ = (data_pages + 1) * page;
    void* m = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    base_ = static_cast<char*>(m);
    REQUIRE(mprotect(base_ + data_pages * page, page, PROT_NONE) == 0);
    data_ = reinterpret_cast<double*>(base_ + data_pages * page) - n;
  }
  ~GuardedDoubles() { munmap(base_, bytes_); }
  GuardedDoubles(const GuardedDoubles&) = delete;
  GuardedDoubles& operator=(const GuardedDoubles&) = delete;
  double* data() { return data_; }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_, bytes_ = 0;
  char* base_ = nullptr;
  double* data_ = nullptr;
};

bool same_bits(const std::vector<double>& x, const std::vector<double>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}

const VectorWidth kWidths[] = {VectorWidth::sse2, VectorWidth::avx, VectorWidth::avx512};

}  // namespace

TEST_CASE("gram_upper_add: the definition's bits at every width, every shape", "[gram]") {
  Rng rng(31);
  if (!cpu_supports(VectorWidth::avx512)) WARN("this CPU has no AVX-512F: that width is not compared");
  if (!cpu_supports(VectorWidth::avx)) WARN("this CPU has no AVX: that width is not compared");
  // p across the tile edges of every width (lanes 2, 4, 8; columns 12, 24) up to kGramMaxRows;
  // ld = p and ld > p; k = 0, 1 (the last column only, read through the padded copy), and longer;
  // C starting at 0.25, +0 and -0 (the sign of a zero sum is part of the bits).
  for (int p : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 21, 24, 25, 26, 33, 41, 42, 49, 64, 85, 128}) {
    for (std::size_t extra : {0, 3}) {
      const std::size_t ld = p + extra, ldc = p + 2;
      for (std::size_t k : {0, 1, 2, 7, 300}) {
        // P holds exactly (k-1) ld + p doubles, against an inaccessible page: a read past it faults.
        // Mostly zero (+0 and -0), in runs as spline features are, so that tiles skip columns.
        GuardedDoubles P(k == 0 ? 0 : (k - 1) * ld + p);
        for (std::size_t e = 0; e < P.size(); ++e) {
          const double draw = rng.uniform();
          P.data()[e] = draw < 0.5 ? 0.0 : draw < 0.6 ? -0.0 : (e / 5) % 3 == 0 ? 0.0 : rng.normal();
        }
        for (double start : {0.25, 0.0, -0.0}) {
          const std::vector<double> expected = gram_by_definition(P.data(), p, ld, k, start_matrix(p, ldc, start), ldc);
          for (VectorWidth w : kWidths) {
            if (!cpu_supports(w)) continue;
            std::vector<double> C = start_matrix(p, ldc, start);
            gram_upper_add(P.data(), p, ld, k, C.data(), ldc, w);
            INFO("p " << p << ", ld " << ld << ", k " << k << ", C starting at " << start << ", width "
                      << static_cast<int>(w));
            CHECK(same_bits(C, expected));  // bit for bit, the signs of zeros and the sentinels included
          }
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
