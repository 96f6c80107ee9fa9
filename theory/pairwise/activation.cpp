#include "theory/pairwise/activation.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
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
// about 5 * 16 2^-53 (activation.hpp).
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

inline __m128d vabs(__m128d x) noexcept { return _mm_andnot_pd(_mm_set1_pd(-0.0), x); }
[[gnu::target("avx")]] inline __m256d vabs(__m256d x) noexcept { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), x); }

// What the vector kernels read of an activation.
struct Params {
  std::span<const double> freq, cos_amp, sin_amp;  // weierstrass terms
  std::span<const int> doublings;                  // weierstrass: 0 = from a sincos, else squared
  double b = 0.0;                                  // kink exponent
};

// Weierstrass on P vectors at once: the terms of one vector form two serial chains (the squares,
// the sum), so P independent vectors interleaved keep the pipelines full. Each lane sees the same
// operations in the same order whatever P is.
template <std::size_t P>
inline void weierstrass_vectors_sse2(const Params& p, const double* u, double* out) noexcept {
  // Terms j = 0..J in order; chain j % 2 holds (cos, sin) of f_j u, from a sincos or squared.
  __m128d uv[P], s[P], c[P][2], si[P][2];
  for (std::size_t v = 0; v < P; ++v) uv[v] = _mm_loadu_pd(u + 2 * v), s[v] = _mm_setzero_pd();
  for (std::size_t j = 0; j < p.freq.size(); ++j) {
    for (std::size_t v = 0; v < P; ++v) {
      __m128d& x = c[v][j % 2];
      __m128d& y = si[v][j % 2];
      if (p.doublings[j] == 0) {
        const Sleef___m128d_2 sc = Sleef_cinz_sincosd2_u10sse2(_mm_mul_pd(_mm_set1_pd(p.freq[j]), uv[v]));
        x = sc.y;
        y = sc.x;
      } else {  // (x + iy)^2
        const __m128d xy = _mm_mul_pd(x, y);
        x = _mm_sub_pd(_mm_mul_pd(x, x), _mm_mul_pd(y, y));
        y = _mm_add_pd(xy, xy);
      }
      // a cos(f u + phase) = (a cos phase) cos(f u) - (a sin phase) sin(f u)
      s[v] = _mm_add_pd(s[v], _mm_sub_pd(_mm_mul_pd(_mm_set1_pd(p.cos_amp[j]), x), _mm_mul_pd(_mm_set1_pd(p.sin_amp[j]), y)));
    }
  }
  // NaN (from a NaN or infinite u) as the one quiet NaN: which operand's NaN an operation
  // passes on depends on the compiler's operand order, which differs between widths.
  for (std::size_t v = 0; v < P; ++v) {
    const __m128d nan = _mm_cmpunord_pd(s[v], s[v]);
    _mm_storeu_pd(out + 2 * v, _mm_or_pd(_mm_and_pd(nan, _mm_set1_pd(std::numeric_limits<double>::quiet_NaN())),
                                         _mm_andnot_pd(nan, s[v])));
  }
}

// Activation of one full 2-lane vector of interactions (every kind but weierstrass).
template <Activation::Kind K>
inline __m128d eval_vector(const Params& p, __m128d u) noexcept {
  if constexpr (K == Activation::Kind::kink) {
    return Sleef_cinz_powd2_u10sse2(vabs(_mm_sub_pd(u, _mm_set1_pd(0.25))), _mm_set1_pd(p.b));
  } else if constexpr (K == Activation::Kind::tanh) {
    return Sleef_cinz_tanhd2_u10sse2(u);
  } else if constexpr (K == Activation::Kind::softplus) {
    const __m128d big = _mm_cmpgt_pd(u, _mm_set1_pd(30.0));  // u > 30 (false for NaN, as in the scalar code)
    const __m128d lp = Sleef_cinz_log1pd2_u10sse2(Sleef_cinz_expd2_u10sse2(u));
    return _mm_or_pd(_mm_and_pd(big, u), _mm_andnot_pd(big, lp));
  } else if constexpr (K == Activation::Kind::gelu) {
    const __m128d x = _mm_div_pd(_mm_xor_pd(u, _mm_set1_pd(-0.0)), _mm_set1_pd(std::numbers::sqrt2));
    return _mm_mul_pd(_mm_mul_pd(_mm_set1_pd(0.5), u), Sleef_cinz_erfcd2_u15sse2(x));
  } else {
    static_assert(K == Activation::Kind::exp);
    return Sleef_cinz_expd2_u10sse2(u);
  }
}

// The same operations on a 4-lane AVX vector.
template <std::size_t P>
[[gnu::target("avx")]] inline void weierstrass_vectors_avx(const Params& p, const double* u, double* out) noexcept {
  __m256d uv[P], s[P], c[P][2], si[P][2];
  for (std::size_t v = 0; v < P; ++v) uv[v] = _mm256_loadu_pd(u + 4 * v), s[v] = _mm256_setzero_pd();
  for (std::size_t j = 0; j < p.freq.size(); ++j) {
    for (std::size_t v = 0; v < P; ++v) {
      __m256d& x = c[v][j % 2];
      __m256d& y = si[v][j % 2];
      if (p.doublings[j] == 0) {
        const Sleef___m256d_2 sc = Sleef_cinz_sincosd4_u10avx(_mm256_mul_pd(_mm256_set1_pd(p.freq[j]), uv[v]));
        x = sc.y;
        y = sc.x;
      } else {
        const __m256d xy = _mm256_mul_pd(x, y);
        x = _mm256_sub_pd(_mm256_mul_pd(x, x), _mm256_mul_pd(y, y));
        y = _mm256_add_pd(xy, xy);
      }
      s[v] = _mm256_add_pd(s[v], _mm256_sub_pd(_mm256_mul_pd(_mm256_set1_pd(p.cos_amp[j]), x),
                                               _mm256_mul_pd(_mm256_set1_pd(p.sin_amp[j]), y)));
    }
  }
  for (std::size_t v = 0; v < P; ++v)
    _mm256_storeu_pd(out + 4 * v, _mm256_blendv_pd(s[v], _mm256_set1_pd(std::numeric_limits<double>::quiet_NaN()),
                                                   _mm256_cmp_pd(s[v], s[v], _CMP_UNORD_Q)));
}

template <Activation::Kind K>
[[gnu::target("avx")]] inline __m256d eval_vector(const Params& p, __m256d u) noexcept {
  if constexpr (K == Activation::Kind::kink) {
    return Sleef_cinz_powd4_u10avx(vabs(_mm256_sub_pd(u, _mm256_set1_pd(0.25))), _mm256_set1_pd(p.b));
  } else if constexpr (K == Activation::Kind::tanh) {
    return Sleef_cinz_tanhd4_u10avx(u);
  } else if constexpr (K == Activation::Kind::softplus) {
    const __m256d big = _mm256_cmp_pd(u, _mm256_set1_pd(30.0), _CMP_GT_OQ);  // as _mm_cmpgt_pd
    const __m256d lp = Sleef_cinz_log1pd4_u10avx(Sleef_cinz_expd4_u10avx(u));
    return _mm256_or_pd(_mm256_and_pd(big, u), _mm256_andnot_pd(big, lp));
  } else if constexpr (K == Activation::Kind::gelu) {
    const __m256d x = _mm256_div_pd(_mm256_xor_pd(u, _mm256_set1_pd(-0.0)), _mm256_set1_pd(std::numbers::sqrt2));
    return _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(0.5), u), Sleef_cinz_erfcd4_u15avx(x));
  } else {
    static_assert(K == Activation::Kind::exp);
    return Sleef_cinz_expd4_u10avx(u);
  }
}

// The same operations on an 8-lane AVX-512F vector (SLEEF's variants without FMA).
template <std::size_t P>
[[gnu::target("avx512f")]] inline void weierstrass_vectors_avx512(const Params& p, const double* u, double* out) noexcept {
  __m512d uv[P], s[P], c[P][2], si[P][2];
  for (std::size_t v = 0; v < P; ++v) uv[v] = _mm512_loadu_pd(u + 8 * v), s[v] = _mm512_setzero_pd();
  for (std::size_t j = 0; j < p.freq.size(); ++j) {
    for (std::size_t v = 0; v < P; ++v) {
      __m512d& x = c[v][j % 2];
      __m512d& y = si[v][j % 2];
      if (p.doublings[j] == 0) {
        const Sleef___m512d_2 sc = Sleef_cinz_sincosd8_u10avx512fnofma(_mm512_mul_pd(_mm512_set1_pd(p.freq[j]), uv[v]));
        x = sc.y;
        y = sc.x;
      } else {
        const __m512d xy = _mm512_mul_pd(x, y);
        x = _mm512_sub_pd(_mm512_mul_pd(x, x), _mm512_mul_pd(y, y));
        y = _mm512_add_pd(xy, xy);
      }
      s[v] = _mm512_add_pd(s[v], _mm512_sub_pd(_mm512_mul_pd(_mm512_set1_pd(p.cos_amp[j]), x),
                                               _mm512_mul_pd(_mm512_set1_pd(p.sin_amp[j]), y)));
    }
  }
  for (std::size_t v = 0; v < P; ++v)
    _mm512_storeu_pd(out + 8 * v, _mm512_mask_blend_pd(_mm512_cmp_pd_mask(s[v], s[v], _CMP_UNORD_Q), s[v],
                                                       _mm512_set1_pd(std::numeric_limits<double>::quiet_NaN())));
}

template <Activation::Kind K>
[[gnu::target("avx512f")]] inline __m512d eval_vector(const Params& p, __m512d u) noexcept {
  if constexpr (K == Activation::Kind::kink) {
    const __m512d x = _mm512_sub_pd(u, _mm512_set1_pd(0.25));
    const __m512d ax = _mm512_castsi512_pd(  // |x|: the sign bit cleared, as vabs
        _mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(0x7fffffffffffffffLL)));
    return Sleef_cinz_powd8_u10avx512fnofma(ax, _mm512_set1_pd(p.b));
  } else if constexpr (K == Activation::Kind::tanh) {
    return Sleef_cinz_tanhd8_u10avx512fnofma(u);
  } else if constexpr (K == Activation::Kind::softplus) {
    const __mmask8 big = _mm512_cmp_pd_mask(u, _mm512_set1_pd(30.0), _CMP_GT_OQ);  // as _mm_cmpgt_pd
    const __m512d lp = Sleef_cinz_log1pd8_u10avx512fnofma(Sleef_cinz_expd8_u10avx512fnofma(u));
    return _mm512_mask_blend_pd(big, lp, u);
  } else if constexpr (K == Activation::Kind::gelu) {
    const __m512d neg = _mm512_castsi512_pd(
        _mm512_xor_si512(_mm512_castpd_si512(u), _mm512_castpd_si512(_mm512_set1_pd(-0.0))));  // -u
    const __m512d x = _mm512_div_pd(neg, _mm512_set1_pd(std::numbers::sqrt2));
    return _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(0.5), u), Sleef_cinz_erfcd8_u15avx512fnofma(x));
  } else {
    static_assert(K == Activation::Kind::exp);
    return Sleef_cinz_expd8_u10avx512fnofma(u);
  }
}

// P vectors of one width from u to out: weierstrass interleaved, the other kinds one by one.
template <Activation::Kind K, std::size_t P>
inline void eval_vectors_sse2(const Params& p, const double* u, double* out) noexcept {
  if constexpr (K == Activation::Kind::weierstrass) weierstrass_vectors_sse2<P>(p, u, out);
  else for (std::size_t v = 0; v < P; ++v) _mm_storeu_pd(out + 2 * v, eval_vector<K>(p, _mm_loadu_pd(u + 2 * v)));
}

template <Activation::Kind K, std::size_t P>
[[gnu::target("avx")]] inline void eval_vectors_avx(const Params& p, const double* u, double* out) noexcept {
  if constexpr (K == Activation::Kind::weierstrass) weierstrass_vectors_avx<P>(p, u, out);
  else for (std::size_t v = 0; v < P; ++v) _mm256_storeu_pd(out + 4 * v, eval_vector<K>(p, _mm256_loadu_pd(u + 4 * v)));
}

template <Activation::Kind K, std::size_t P>
[[gnu::target("avx512f")]] inline void eval_vectors_avx512(const Params& p, const double* u, double* out) noexcept {
  if constexpr (K == Activation::Kind::weierstrass) weierstrass_vectors_avx512<P>(p, u, out);
  else for (std::size_t v = 0; v < P; ++v) _mm512_storeu_pd(out + 8 * v, eval_vector<K>(p, _mm512_loadu_pd(u + 8 * v)));
}

// Vectors interleaved per step (weierstrass only: the other kernels are throughput-bound already).
template <Activation::Kind K>
constexpr std::size_t kInterleave = K == Activation::Kind::weierstrass ? 4 : 1;

// Groups of interleaved vectors, single vectors, then the tail padded with copies of its last
// element into one more vector: every element goes through the same lane operations whatever its
// position.
template <Activation::Kind K>
void eval_block_sse2(const Params& p, const double* u, double* out, std::size_t n) noexcept {
  constexpr std::size_t lanes = 2, P = kInterleave<K>;
  std::size_t k = 0;
  for (; k + P * lanes <= n; k += P * lanes) eval_vectors_sse2<K, P>(p, u + k, out + k);
  for (; k + lanes <= n; k += lanes) eval_vectors_sse2<K, 1>(p, u + k, out + k);
  if (k < n) {
    double in[lanes], res[lanes];
    for (std::size_t l = 0; l < lanes; ++l) in[l] = u[std::min(k + l, n - 1)];
    eval_vectors_sse2<K, 1>(p, in, res);
    for (std::size_t l = 0; k + l < n; ++l) out[k + l] = res[l];
  }
}

template <Activation::Kind K>
[[gnu::target("avx")]] void eval_block_avx(const Params& p, const double* u, double* out, std::size_t n) noexcept {
  constexpr std::size_t lanes = 4, P = kInterleave<K>;
  std::size_t k = 0;
  for (; k + P * lanes <= n; k += P * lanes) eval_vectors_avx<K, P>(p, u + k, out + k);
  for (; k + lanes <= n; k += lanes) eval_vectors_avx<K, 1>(p, u + k, out + k);
  if (k < n) {
    double in[lanes], res[lanes];
    for (std::size_t l = 0; l < lanes; ++l) in[l] = u[std::min(k + l, n - 1)];
    eval_vectors_avx<K, 1>(p, in, res);
    for (std::size_t l = 0; k + l < n; ++l) out[k + l] = res[l];
  }
}

template <Activation::Kind K>
[[gnu::target("avx512f")]] void eval_block_avx512(const Params& p, const double* u, double* out,
                                                  std::size_t n) noexcept {
  constexpr std::size_t lanes = 8, P = kInterleave<K>;
  std::size_t k = 0;
  for (; k + P * lanes <= n; k += P * lanes) eval_vectors_avx512<K, P>(p, u + k, out + k);
  for (; k + lanes <= n; k += lanes) eval_vectors_avx512<K, 1>(p, u + k, out + k);
  if (k < n) {
    double in[lanes], res[lanes];
    for (std::size_t l = 0; l < lanes; ++l) in[l] = u[std::min(k + l, n - 1)];
    eval_vectors_avx512<K, 1>(p, in, res);
    for (std::size_t l = 0; k + l < n; ++l) out[k + l] = res[l];
  }
}

using BlockFn = void (*)(const Params&, const double*, double*, std::size_t) noexcept;

// One block evaluator per kind, in the order of Kind (bspline's entry is never used).
constexpr BlockFn kSse2[] = {nullptr,
                             eval_block_sse2<Activation::Kind::weierstrass>,
                             eval_block_sse2<Activation::Kind::kink>,
                             eval_block_sse2<Activation::Kind::tanh>,
                             eval_block_sse2<Activation::Kind::softplus>,
                             eval_block_sse2<Activation::Kind::gelu>,
                             eval_block_sse2<Activation::Kind::exp>};
constexpr BlockFn kAvx[] = {nullptr,
                            eval_block_avx<Activation::Kind::weierstrass>,
                            eval_block_avx<Activation::Kind::kink>,
                            eval_block_avx<Activation::Kind::tanh>,
                            eval_block_avx<Activation::Kind::softplus>,
                            eval_block_avx<Activation::Kind::gelu>,
                            eval_block_avx<Activation::Kind::exp>};
static_assert(std::size(kSse2) == static_cast<std::size_t>(Activation::Kind::exp) + 1);
constexpr BlockFn kAvx512[] = {nullptr,
                               eval_block_avx512<Activation::Kind::weierstrass>,
                               eval_block_avx512<Activation::Kind::kink>,
                               eval_block_avx512<Activation::Kind::tanh>,
                               eval_block_avx512<Activation::Kind::softplus>,
                               eval_block_avx512<Activation::Kind::gelu>,
                               eval_block_avx512<Activation::Kind::exp>};
static_assert(std::size(kAvx) == std::size(kSse2) && std::size(kAvx512) == std::size(kSse2));

}  // namespace

bool Activation::cpu_supports(VectorWidth width) noexcept {
  static const bool avx = (__builtin_cpu_init(), __builtin_cpu_supports("avx")),  // init: safe before main too
      avx512 = __builtin_cpu_supports("avx512f");
  return width == VectorWidth::sse2 || (width == VectorWidth::avx && avx) || (width == VectorWidth::avx512 && avx512);
}

Activation::VectorWidth Activation::widest_vector() noexcept {
  return cpu_supports(VectorWidth::avx512) ? VectorWidth::avx512
         : cpu_supports(VectorWidth::avx)  ? VectorWidth::avx
                                           : VectorWidth::sse2;
}

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
