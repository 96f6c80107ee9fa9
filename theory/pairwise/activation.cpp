#include "theory/pairwise/activation.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <sstream>

#if !defined(__x86_64__) || !defined(__SSE2__)
#error "the activation kernels use SLEEF's x86-64 SSE2 functions (see activation.hpp)"
#endif
#include <emmintrin.h>  // SSE2, part of every x86-64 CPU
#include <immintrin.h>  // AVX, in functions compiled for it and chosen at run time
#include <sleef.h>

#include "theory/pairwise/sleef_avx.hpp"

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/common/target_pragmas.hpp"

namespace attnrate {
namespace {

constexpr const char* kValidActivations =
    "bspline:P (P integer 0..10), weierstrass:b (0.16 <= b <= 127), kink:b (0 < b <= 64), tanh, softplus, gelu, exp";

// Weierstrass series: the finest frequency 3 sqrt(2)^J must stay below 2^52 (beyond, adjacent
// doubles u of order 1 are more than a radian apart in f u), so J <= 100, i.e. b >= 16/100.
constexpr int kMaxWeierstrassTerms = 100;
constexpr double kMinWeierstrassB = 0.16;
// The finest amplitude sqrt(2)^(-16 b) = 2^(-8 b) must be a normal double: 8 b <= 1022.
constexpr double kMaxWeierstrassB = 127.0;
// Angle doubling: a term is computed by squaring the one two before while amp 2^s stays at most
// this (s squarings since the chain's last sincos), which bounds each term's doubling error by
// about 10 * 16 2^-53 (activation.hpp).
constexpr double kMaxDoublingWeight = 16.0;
// |u - 0.25|^b <= DBL_MAX for |u - 0.25| < 2^16 needs 16 b <= 1024.
constexpr double kMaxKinkB = 64.0;

double parse_param(std::string_view name, std::string_view text) {
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v))
    throw InputError(std::string(name) + ":" + std::string(text) +
                     ": parameter must be a number; valid: " + kValidActivations);
  return v;
}

std::string format_param(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Activation Activation::parse(std::string_view spec, std::uint64_t seed) {
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const bool has_param = colon != std::string_view::npos;
  const std::string_view ptext = has_param ? spec.substr(colon + 1) : std::string_view{};
  Activation a;
  constexpr double inf = std::numeric_limits<double>::infinity();
  auto need_param = [&]() {
    if (!has_param)
      throw InputError("activation " + std::string(name) + " needs a parameter (" + std::string(name) +
                       ":VALUE); valid: " + kValidActivations);
    return parse_param(name, ptext);
  };
  auto no_param = [&]() {
    if (has_param)
      throw InputError("activation " + std::string(name) + " takes no parameter, got '" + std::string(spec) +
                       "'; valid: " + kValidActivations);
  };
  if (name == "bspline") {
    const double p = need_param();
    if (p != std::floor(p) || p < 0 || p > BSplineBasis::max_degree)
      throw InputError("bspline:P needs an integer degree P in 0..10, got " + std::string(ptext));
    const int P = static_cast<int>(p);
    a.kind_ = Kind::bspline;
    a.param_ = P;
    a.name_ = "bspline:" + std::to_string(P);
    a.holder_ = P;
    a.claimed_ = P - 1;
    a.basis_.emplace(-3.0, 3.0, 12, P);
    a.coef_.zeros(a.basis_->size());
    Rng rng(derive_seed(seed, {hash_name("activation"), hash_name(a.name_)}));
    for (int k = P; k < a.basis_->size() - P; ++k) a.coef_[k] = rng.normal();
  } else if (name == "weierstrass") {
    const double b = need_param();
    if (!(b > 0)) throw InputError("weierstrass:b needs b > 0, got " + std::string(ptext));
    if (b < kMinWeierstrassB)
      throw InputError("weierstrass:b needs b >= 0.16, got " + std::string(ptext) +
                       ": the series needs ceil(16/b) terms for a tail below 2^-8, and beyond " +
                       std::to_string(kMaxWeierstrassTerms) +
                       " terms its finest frequency 3 sqrt(2)^J exceeds 2^52, where cos(f u) is not resolved in "
                       "double precision");
    if (b > kMaxWeierstrassB)
      throw InputError("weierstrass:b needs b <= 127, got " + std::string(ptext) +
                       ": the finest term's amplitude 2^(-8 b) underflows a double beyond that, and the series "
                       "collapses to fewer cosines");
    a.kind_ = Kind::weierstrass;
    a.param_ = b;
    a.name_ = "weierstrass:" + format_param(b);
    a.holder_ = a.claimed_ = b;
    // Frequency ratio sqrt(2) rather than 2: two components per octave damp the
    // log-periodic oscillation of the approximation constant that a dyadic series shows. The
    // frequencies are 3 2^k (j = 2k) and fl(3 sqrt2) 2^k (j = 2k + 1): each doubles the one two
    // terms before exactly, which the vector kernels use (angle doubling, below).
    const double lambda = std::numbers::sqrt2;
    const int J = static_cast<int>(std::ceil(2.0 * std::max(8.0, 8.0 / b)));  // <= 100 for b >= 0.16
    const double golden = (std::sqrt(5.0) - 1.0) / 2.0;
    int since_seed[2] = {0, 0};
    for (int j = 0; j <= J; ++j) {
      const double amp = std::pow(lambda, -j * b);
      a.amplitude_.push_back(amp);
      a.frequency_.push_back(std::ldexp(j % 2 == 0 ? 3.0 : 3.0 * std::numbers::sqrt2, j / 2));
      const double f = j * golden;
      const double phase = 2.0 * std::numbers::pi * (f - std::floor(f));
      a.phase_.push_back(phase);
      a.cos_amplitude_.push_back(static_cast<double>(amp * std::cos(static_cast<long double>(phase))));
      a.sin_amplitude_.push_back(static_cast<double>(amp * std::sin(static_cast<long double>(phase))));
      // A term squares the one two before unless that would let its amplitude-weighted doubling
      // error, amp 2^s after s squarings, pass kMaxDoublingWeight; then it starts afresh.
      int& s = since_seed[j % 2];
      const bool seed = j < 2 || amp * std::ldexp(1.0, s + 1) > kMaxDoublingWeight;
      s = seed ? 0 : s + 1;
      a.doublings_.push_back(s);
    }
  } else if (name == "kink") {
    const double b = need_param();
    if (!(b > 0)) throw InputError("kink:b needs b > 0, got " + std::string(ptext));
    if (b > kMaxKinkB)
      throw InputError("kink:b needs b <= 64, got " + std::string(ptext) +
                       ": beyond that |u - 0.25|^b overflows a double for |u - 0.25| >= 2^16");
    a.kind_ = Kind::kink;
    a.param_ = b;
    a.name_ = "kink:" + format_param(b);
    a.holder_ = a.claimed_ = b;
  } else if (name == "tanh" || name == "softplus" || name == "gelu" || name == "exp") {
    no_param();
    a.kind_ = name == "tanh" ? Kind::tanh : name == "softplus" ? Kind::softplus : name == "gelu" ? Kind::gelu : Kind::exp;
    a.name_ = std::string(name);
    a.holder_ = a.claimed_ = inf;
  } else {
    throw InputError("unknown activation '" + std::string(spec) + "'; valid: " + kValidActivations);
  }
  return a;
}

// ---- SIMD evaluation -------------------------------------------------------------------------
// Every elementary function comes from SLEEF's deterministic ("cinz": no FMA, each lane computed
// from its own element only) variants: 2-lane SSE2, which every x86-64 CPU has, 4-lane AVX or
// 8-lane AVX-512F, the widest the CPU has (chosen once at run time). All widths give the same bits
// (SLEEF's deterministic contract, checked in tests/test_activation_simd.cpp), and the arithmetic
// around them mirrors evaluate_libm() operation for operation at every width (mul, add, sub in the
// same order; no FMA: SLEEF's AVX-512 variants without FMA, and the build's -ffp-contract=off keeps
// the separate multiplies and adds), so the width changes the speed, never a value. The only
// difference from the C library values is the elementary functions, and for weierstrass the
// angle doubling (activation.hpp states its bound).
namespace {

// What the vector kernels read of an activation.
struct Params {
  std::span<const double> freq, cos_amp, sin_amp;  // weierstrass terms
  std::span<const int> doublings;                  // weierstrass: 0 = from a sincos, else squared
  double b = 0.0;                                  // kink exponent
};

// Vectors interleaved per step (weierstrass only: the other kernels are throughput-bound already).
template <Activation::Kind K>
constexpr std::size_t kInterleave = K == Activation::Kind::weierstrass ? 4 : 1;
constexpr double kQuietNaN = std::numeric_limits<double>::quiet_NaN();

// The kernels are written once (activation_kernels.inc) over V = __m128d, __m256d or __m512d,
// GCC vector types whose + - * / and comparisons are lane-wise IEEE operations, and compiled
// three times, each in a namespace of its own under the instruction set of V, so that the code
// is generated for that instruction set from the start. Each namespace first names SLEEF's
// functions of its width (sincos: sin in .x, cos in .y). SSE2 is part of every x86-64 CPU; AVX
// and AVX-512F are chosen at run time (estimators/common/target_pragmas.hpp).

// SLEEF's deterministic functions of one width: L lanes, ISA the name's suffix.
#define ATTNRATE_SLEEF_FUNCTIONS(L, ISA)                                                             \
  inline auto vsincos(V x) noexcept { return Sleef_cinz_sincosd##L##_u35##ISA(x); }                   \
  inline V vpow(V x, V y) noexcept { return Sleef_cinz_powd##L##_u10##ISA(x, y); }                    \
  inline V vtanh(V x) noexcept { return Sleef_cinz_tanhd##L##_u10##ISA(x); }                          \
  inline V vlog1p(V x) noexcept { return Sleef_cinz_log1pd##L##_u10##ISA(x); }                        \
  inline V vexp(V x) noexcept { return Sleef_cinz_expd##L##_u10##ISA(x); }                            \
  inline V verfc(V x) noexcept { return Sleef_cinz_erfcd##L##_u15##ISA(x); }

namespace sse2 {
using V = __m128d;
ATTNRATE_SLEEF_FUNCTIONS(2, sse2)
#include "theory/pairwise/activation_kernels.inc"
}  // namespace sse2

ATTNRATE_TARGET_BEGIN("avx")
namespace avx {
using V = __m256d;
ATTNRATE_SLEEF_FUNCTIONS(4, avx)
#include "theory/pairwise/activation_kernels.inc"
}  // namespace avx
ATTNRATE_TARGET_END

ATTNRATE_TARGET_BEGIN("avx512f")
namespace avx512 {
using V = __m512d;
ATTNRATE_SLEEF_FUNCTIONS(8, avx512fnofma)
#include "theory/pairwise/activation_kernels.inc"
}  // namespace avx512
ATTNRATE_TARGET_END
#undef ATTNRATE_SLEEF_FUNCTIONS

using BlockFn = void (*)(const Params&, const double*, double*, std::size_t) noexcept;

// One block evaluator per kind, in the order of Kind (bspline's entry is never used), per width.
#define ATTNRATE_BLOCK_TABLE(ISA)                                                                     \
  {                                                                                                   \
    nullptr, ISA::eval_block<Activation::Kind::weierstrass>, ISA::eval_block<Activation::Kind::kink>, \
        ISA::eval_block<Activation::Kind::tanh>, ISA::eval_block<Activation::Kind::softplus>,         \
        ISA::eval_block<Activation::Kind::gelu>, ISA::eval_block<Activation::Kind::exp>               \
  }
constexpr BlockFn kSse2[] = ATTNRATE_BLOCK_TABLE(sse2);
constexpr BlockFn kAvx[] = ATTNRATE_BLOCK_TABLE(avx);
constexpr BlockFn kAvx512[] = ATTNRATE_BLOCK_TABLE(avx512);
#undef ATTNRATE_BLOCK_TABLE
static_assert(std::size(kSse2) == static_cast<std::size_t>(Activation::Kind::exp) + 1);

}  // namespace

bool Activation::cpu_supports(VectorWidth width) noexcept { return attnrate::cpu_supports(width); }

Activation::VectorWidth Activation::widest_vector() noexcept { return attnrate::widest_vector(); }

void Activation::evaluate(std::span<const double> u, std::span<double> out) const noexcept {
  evaluate(u, out, widest_vector());
}

void Activation::evaluate(std::span<const double> u, std::span<double> out, VectorWidth width) const noexcept {
  assert(u.size() == out.size());
  const std::size_t n = std::min(u.size(), out.size());
  if (kind_ == Kind::bspline) {  // no elementary functions: the scalar spline evaluation
    for (std::size_t k = 0; k < n; ++k) out[k] = evaluate_libm(u[k]);
    return;
  }
  if (!cpu_supports(width)) width = widest_vector();
  const Params p{frequency_, cos_amplitude_, sin_amplitude_, doublings_, param_};
  const std::size_t kind = static_cast<std::size_t>(kind_);
  const BlockFn* table = width == VectorWidth::avx512 ? kAvx512 : width == VectorWidth::avx ? kAvx : kSse2;
  table[kind](p, u.data(), out.data(), n);
}

double Activation::operator()(double u) const noexcept {
  double v = 0.0;
  evaluate(std::span<const double>(&u, 1), std::span<double>(&v, 1));
  return v;
}

double Activation::evaluate_libm(double u) const noexcept {
  switch (kind_) {
    case Kind::bspline:
      if (u <= basis_->a() || u >= basis_->b()) return 0.0;  // coefficients vanish at the ends
      return basis_->value(coef_, u);
    case Kind::weierstrass: {
      double s = 0.0;
      for (std::size_t j = 0; j < amplitude_.size(); ++j) s += amplitude_[j] * std::cos(frequency_[j] * u + phase_[j]);
      return s;
    }
    case Kind::kink:
      return std::pow(std::abs(u - 0.25), param_);
    case Kind::tanh:
      return std::tanh(u);
    case Kind::softplus:
      return u > 30.0 ? u : std::log1p(std::exp(u));
    case Kind::gelu:
      return 0.5 * u * std::erfc(-u / std::numbers::sqrt2);
    case Kind::exp:
      return std::exp(u);
  }
  return 0.0;
}

std::string Activation::smoothness_convention() const {
  if (kind_ == Kind::bspline)
    return "bspline:P is C^(P-1) with a bounded P-th derivative (Hoelder P); claims use the minimax paper's "
           "convention beta = P-1";
  if (std::isinf(holder_)) return "analytic: beta = infinity, rate limited by the spline degree (beta_eff = s+1)";
  return "exact Hoelder smoothness beta = " + format_param(holder_);
}

int Activation::default_degree() const noexcept {
  if (kind_ == Kind::bspline) return static_cast<int>(param_);
  if (std::isinf(holder_)) return 3;
  return static_cast<int>(std::min<double>(BSplineBasis::max_degree, std::floor(holder_)));
}

double minimax_exponent(double beta, int degree) {
  const double b = std::min(beta, static_cast<double>(degree + 1));
  return 2.0 * b / (2.0 * b + 1.0);
}

}  // namespace attnrate
