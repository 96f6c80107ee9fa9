#pragma once
// Activation families phi of the pairwise-interaction model, each with its declared smoothness.
// Parsed from "NAME[:PARAM]"; the parameter ranges are what the code can represent in double
// precision (parse refuses anything else, saying why):
//   bspline:P        P integer in 0..10. Degree-P B-spline with seeded N(0,1) coefficients on 12
//                    uniform pieces of [-3, 3]; the first and last P coefficients are zero, so phi
//                    and its first P-1 derivatives vanish at +-3 and phi = 0 outside: C^(P-1) on
//                    the line. Hoelder smoothness P (bounded P-th derivative); the minimax paper
//                    uses P-1.
//   weierstrass:b    b in [0.16, 127]. sum_{j=0}^{J} L^(-j b) cos(f_j u + theta_j), L = sqrt(2),
//                    f_j = 3 L^j (in double: 3 2^k for j = 2k, fl(3 sqrt2) 2^k for j = 2k + 1),
//                    theta_j = 2 pi frac(j (sqrt5-1)/2), J = ceil(2 max(8, 8/b)) so the truncated
//                    tail is below 2^-8 in amplitude and the finest frequency (>= 768) far beyond
//                    any estimator mesh. Exactly b-Hoelder (b not an integer); L2 spline
//                    approximation error ~ K^-b. b >= 0.16 keeps J <= 100 and so the finest
//                    frequency 3 L^J below 2^52, where cos(f u) is still resolved in double
//                    precision; b <= 127 keeps the finest amplitude L^(-J b) = 2^(-8 b) a normal
//                    double (above, the series collapses to fewer cosines).
//   kink:b           b in (0, 64]. |u - 0.25|^b, one singular point (b-Hoelder for
//                    non-even-integer b); b <= 64 keeps phi finite for |u - 0.25| < 2^16.
//   tanh, softplus, gelu, exp: analytic (smoothness infinite).
//
// Evaluation (operator() and evaluate()) runs on SLEEF 3.5 vector functions, the deterministic
// variants Sleef_cinz_*d8_u10avx512fnofma (8 lanes) where the CPU has AVX-512F,
// Sleef_cinz_*d4_u10avx (4 lanes) where it has AVX, and Sleef_cinz_*d2_u10sse2 (2 lanes, every
// x86-64) otherwise (erfc: _u15, sincos: _u35): each lane is computed from its own element
// only, without FMA, so a value does not depend on its neighbours in a block, on the block's
// length or split, on the vector width, nor on the CPU (SLEEF's deterministic variants of every
// width give the same bits, and the arithmetic around them is the same IEEE operations at every
// width; tests/test_activation_simd.cpp checks every width the CPU runs). SLEEF documents the
// error bounds (elementwise, for finite arguments):
//   exp, pow, tanh, log1p: 1.0 ulp;  erfc: 1.5 ulp;  sincos (_u35, the Weierstrass chains'
//   starts, 1.7 times the speed of _u10): 3.5 ulp (tests/test_activation_simd.cpp checks it on
//   10^7 chain starts f_j u, up to |f_j u| ~ 2e16).
// Weierstrass by angle doubling: f_j = 2 f_{j-2} exactly, so (cos, sin)(f_j u) is the complex
// square of (cos, sin)(f_{j-2} u). Each of the two chains (even and odd j) starts from SLEEF's
// sincos of fl(f_j u) and squares, one sincos for many cosines; a term starts afresh instead when
// its amplitude times 2^s (s squarings since the last sincos; a square doubles the error) would
// pass 16. Term j is then (a_j cos theta_j) c - (a_j sin theta_j) s with both coefficients rounded
// once. Against the exact series of the stored doubles a_j, f_j, theta_j at the double u, to first
// order (2^-53 per rounding; the sincos error 7 2^s 2^-53 (3.5 ulp of each of cos and sin) and
// each square's sqrt(5) 2^-53, doubled by every later square; the rounding of fl(f u), doubled
// into |f_j u| 2^-53; 3 roundings per term and J additions):
//   |error| <= 2^-53 (sum_j a_j (|f_j u| + 10 2^(s_j) + 3) + 1.5 J sum_j a_j)
// (weierstrass_doublings() gives s_j). A NaN or infinite u gives the quiet NaN of
// std::numeric_limits at every width. evaluate_libm() computes each cos(fl(fl(f_j u) + theta_j))
// directly, within 2^-53 (sum_j a_j (2 |f_j u| + theta_j + 3) + 1.5 J sum_j a_j); both are
// checked in tests/test_activation_simd.cpp.
// The other activations use the same sequence of IEEE operations as evaluate_libm(), so per
// activation, against the exact value of the same formula on the same rounded arguments:
//   kink, tanh, exp: 1 ulp;  softplus: 3 ulp (exp's relative error passes through log1p with a
//   factor <= 1, plus log1p's ulp);  gelu: 3.5 ulp (erfc's 1.5 ulp of relative error, twice in
//   ulps of the product, plus its rounding);  bspline: no elementary function, same bits as before.
#include <armadillo>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/common/vector_width.hpp"

namespace attnrate {

class Activation {
 public:
  enum class Kind { bspline, weierstrass, kink, tanh, softplus, gelu, exp };

  /// Parses "NAME[:PARAM]". `seed` draws the coefficients of bspline:P (ignored otherwise).
  /// Throws InputError naming the valid forms for an unknown name, and the range and its reason
  /// for a parameter outside it.
  static Activation parse(std::string_view spec, std::uint64_t seed = 0);

  /// phi(u): the same bits as evaluate() gives u in any block (a vector of its own, padded).
  double operator()(double u) const noexcept;

  /// out[k] = phi(u[k]) for k < u.size(); needs out.size() == u.size(), and out either is u
  /// (in place) or does not overlap it. Each value is bit-identical to operator()(u[k]) whatever
  /// the block's length, u[k]'s offset in it, or how a larger array is split into blocks (and so
  /// among threads): full vectors, then the tail padded into one more vector, never a scalar
  /// fallback. Thread-safe (const, no state).
  void evaluate(std::span<const double> u, std::span<double> out) const noexcept;

  /// SLEEF vector width: 2-lane SSE2, 4-lane AVX, 8-lane AVX-512F. All give the same bits.
  using VectorWidth = attnrate::VectorWidth;
  /// evaluate() at a chosen width (one the CPU lacks falls back to widest_vector()); evaluate()
  /// itself takes widest_vector(). For the tests of the width contract and the benchmarks.
  void evaluate(std::span<const double> u, std::span<double> out, VectorWidth width) const noexcept;
  /// Whether this CPU runs `width` (checked once).
  static bool cpu_supports(VectorWidth width) noexcept;
  /// The widest width this CPU runs.
  static VectorWidth widest_vector() noexcept;

  /// phi(u) through the C library (std::cos, std::pow, ...), each Weierstrass cosine computed
  /// directly: the reference of tests/test_activation_simd.cpp and the scalar baseline of the
  /// benchmarks.
  double evaluate_libm(double u) const noexcept;

  /// Weierstrass series terms (empty for the other families): phi(u) = sum_j amplitude[j]
  /// cos(frequency[j] u + phase[j]); the tests derive the series' error bound from them.
  std::span<const double> weierstrass_amplitudes() const noexcept { return amplitude_; }
  std::span<const double> weierstrass_frequencies() const noexcept { return frequency_; }
  std::span<const double> weierstrass_phases() const noexcept { return phase_; }
  /// s_j: the squarings since term j's chain last started from a sincos (0: term j is one).
  std::span<const int> weierstrass_doublings() const noexcept { return doublings_; }
  /// The NAME:PARAM parameter (b, or P for bspline; 0 without one).
  double parameter() const noexcept { return param_; }

  /// Canonical "NAME[:PARAM]" string.
  const std::string& name() const noexcept { return name_; }
  Kind kind() const noexcept { return kind_; }
  /// Hoelder smoothness beta (infinity for analytic activations).
  double holder_smoothness() const noexcept { return holder_; }
  /// Smoothness the rate claims use: the paper's P-1 for bspline:P, beta otherwise.
  double claimed_smoothness() const noexcept { return claimed_; }
  /// One line saying which convention claimed_smoothness follows.
  std::string smoothness_convention() const;
  /// Default estimator degree: floor(beta) for finite beta (approximation order s+1 > beta,
  /// which avoids the log factor a Weierstrass-type function picks up when s+1 = beta),
  /// P for bspline:P (the paper's P_est = P_true), 3 for analytic activations; at most
  /// BSplineBasis::max_degree.
  int default_degree() const noexcept;

 private:
  Activation() = default;
  Kind kind_ = Kind::tanh;
  std::string name_;
  double param_ = 0.0;
  double holder_ = std::numeric_limits<double>::infinity();
  double claimed_ = std::numeric_limits<double>::infinity();
  // weierstrass
  std::vector<double> amplitude_, frequency_, phase_;
  std::vector<double> cos_amplitude_, sin_amplitude_;  // a_j cos theta_j, a_j sin theta_j (rounded once)
  std::vector<int> doublings_;
  // bspline
  std::optional<BSplineBasis> basis_;
  arma::vec coef_;
};

/// Rate exponent of the squared L2 error: 2 beta_eff / (2 beta_eff + 1) with
/// beta_eff = min(beta, degree + 1) (a degree-s spline approximates to order s+1 at most).
double minimax_exponent(double beta, int degree);

}  // namespace attnrate
