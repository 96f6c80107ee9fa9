#pragma once
// Piecewise-polynomial form of a clamped uniform B-spline basis (estimators/bspline.hpp) for hot
// loops: no divisions per evaluation. Shared by the A-known least squares and the joint fit.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <vector>

#include <armadillo>

#include "estimators/bspline.hpp"

namespace attnrate {

// Piecewise-polynomial form of the clamped basis, for the hot loops: on piece j the s+1 nonzero
// functions B_{j+q} are polynomials in tau = (u - a)/h - j - 1/2 in [-1/2, 1/2]. Built by running
// de Boor's triangle (BSplineBasis::evaluate) in polynomial arithmetic (its denominators are
// knot differences, free of u), so values agree with BSplineBasis to rounding; evaluation is
// (s+1)^2 multiply-adds without divisions, and phi, phi' of a fixed coefficient vector are two
// Horner schemes of degree s.
class PiecewiseBasis {
 public:
  explicit PiecewiseBasis(const BSplineBasis& basis)
      : a_(basis.a()), b_(basis.b()), inv_h_(basis.pieces() / (basis.b() - basis.a())), K_(basis.pieces()),
        s_(basis.degree()) {
    const std::vector<double>& kn = basis.knots();
    breaks_.assign(kn.begin() + s_, kn.begin() + s_ + K_ + 1);
    const int n = s_ + 1;
    const double h = (basis.b() - basis.a()) / K_;
    table_.assign(static_cast<std::size_t>(K_) * n * n, 0.0);
    table_by_power_.assign(table_.size(), 0.0);
    using Poly = std::array<double, BSplineBasis::max_degree + 1>;
    for (int j = 0; j < K_; ++j) {
      const int i = s_ + j;  // knot span: kn[i] <= u < kn[i+1]
      const double centre = a_ + (j + 0.5) * h;
      std::vector<Poly> vals(n, Poly{});
      vals[0][0] = 1.0;
      for (int r = 1; r <= s_; ++r) {
        Poly saved{};
        for (int q = 0; q < r; ++q) {
          // left[r-q] = u - kn[i+1-r+q] = (centre - kn[i+1-r+q]) + h tau,
          // right[q+1] = kn[i+q+1] - u = (kn[i+q+1] - centre) - h tau.
          const double den = kn[i + q + 1] - kn[i + 1 - r + q];
          Poly temp{};
          for (int k = 0; k < r; ++k) temp[k] = vals[q][k] / den;
          const double l0 = centre - kn[i + 1 - r + q], r0 = kn[i + q + 1] - centre;
          Poly next = saved, left_part{};
          for (int k = 0; k < r; ++k) {
            next[k] += r0 * temp[k];
            next[k + 1] -= h * temp[k];
            left_part[k] += l0 * temp[k];
            left_part[k + 1] += h * temp[k];
          }
          vals[q] = next;
          saved = left_part;
        }
        vals[r] = saved;
      }
      for (int q = 0; q < n; ++q)
        for (int k = 0; k < n; ++k) table_[(static_cast<std::size_t>(j) * n + q) * n + k] = vals[q][k];
      for (int k = 0; k < n; ++k)
        for (int q = 0; q < n; ++q) table_by_power_[(static_cast<std::size_t>(j) * n + k) * n + q] = vals[q][k];
    }
  }

  /// Piece j and local variable tau of u (u already in [a, b]).
  [[gnu::always_inline]] void locate(double u, int& j, double& tau) const noexcept {
    const double x = (u - a_) * inv_h_;
    j = std::clamp(static_cast<int>(x), 0, K_ - 1);  // x in [0, K] up to rounding
    // Same piece as BSplineBasis for points on or next to a knot. Only s = 0 needs it (its
    // functions jump at the knots; for s >= 1 both pieces give the same values up to rounding).
    // x and the knots round independently, so they can disagree by one piece at most.
    if (s_ == 0) {
      if (j > 0 && u < breaks_[j]) --j;
      else if (j < K_ - 1 && u >= breaks_[j + 1]) ++j;
    }
    tau = x - j - 0.5;
  }

  /// Four doubles and four ints (one AVX register each; two SSE2 registers where AVX is absent,
  /// with the same operations per lane, so the same bits).
  using v4d = double __attribute__((vector_size(32)));
  using v4i = int __attribute__((vector_size(16)));

  /// locate() for four u at once, the same operations per lane; degree >= 1 only (degree 0
  /// needs locate's knot correction).
  [[gnu::always_inline]] void locate4(const v4d& u, v4i& j, v4d& tau) const noexcept {
    const v4d a = {a_, a_, a_, a_}, inv_h = {inv_h_, inv_h_, inv_h_, inv_h_};
    const v4d x = (u - a) * inv_h;
    v4i jj = __builtin_convertvector(x, v4i);  // truncation, as static_cast<int>
    const v4i zero = {0, 0, 0, 0}, last = {K_ - 1, K_ - 1, K_ - 1, K_ - 1};
    jj = jj < zero ? zero : jj;  // std::clamp(v, lo, hi) = v < lo ? lo : hi < v ? hi : v
    jj = last < jj ? last : jj;
    j = jj;
    const v4d half = {0.5, 0.5, 0.5, 0.5};
    tau = x - __builtin_convertvector(jj, v4d) - half;
  }

  /// Like locate, for any u: points outside [a, b] (and NaN) are clamped to the nearest end,
  /// as BSplineBasis::evaluate does; returns whether u was clamped.
  [[gnu::always_inline]] bool locate_clamped(double u, int& j, double& tau) const noexcept {
    bool clamped = false;
    if (!(u >= a_)) {
      u = a_;
      clamped = true;
    } else if (u > b_) {
      u = b_;
      clamped = true;
    }
    locate(u, j, tau);
    return clamped;
  }

  int degree() const noexcept { return s_; }
  int pieces() const noexcept { return K_; }
  double a() const noexcept { return a_; }
  double b() const noexcept { return b_; }
  double inv_h() const noexcept { return inv_h_; }  ///< pieces per unit of u

  /// values[q] = B_{j+q}(u), q = 0..s.
  void values(int j, double tau, double* values) const noexcept {
    const int n = s_ + 1;
    const double* T = table_.data() + static_cast<std::size_t>(j) * n * n;
    for (int q = 0; q < n; ++q) {
      const double* c = T + q * n;
      double v = c[s_];
      for (int k = s_ - 1; k >= 0; --k) v = v * tau + c[k];
      values[q] = v;
    }
  }

  /// values() for a degree known at compile time (S == degree()): fully unrolled Horner.
  /// Horner runs over the powers with the s+1 functions side by side (table_by_power_), so the
  /// loop over q is a short fixed-length vector operation.
  template <int S>
  [[gnu::always_inline]] void values_fixed(int j, double tau, double* values) const noexcept {
    constexpr int n = S + 1;
    const double* T = table_by_power_.data() + static_cast<std::size_t>(j) * n * n;
    double v[n];
    for (int q = 0; q < n; ++q) v[q] = T[S * n + q];
    for (int k = S - 1; k >= 0; --k)
      for (int q = 0; q < n; ++q) v[q] = v[q] * tau + T[k * n + q];
    for (int q = 0; q < n; ++q) values[q] = v[q];
  }

  /// Adds scale * B_{j+q}(u) to out[j+q], q = 0..S (values_fixed fused with the scatter, so the
  /// values stay in registers). The same bits as `out[j+q] += scale * v[q]` with v from values();
  /// scale = 1 costs nothing (x * 1.0 == x is folded).
  template <int S>
  [[gnu::always_inline]] void add_values_fixed(int j, double tau, double* __restrict out,
                                               double scale = 1.0) const noexcept {
    add_values_at<S>(j, tau, [out, j](int q) -> double& { return out[j + q]; }, scale);
  }

  /// add_values_fixed with the functions placed by a row map: adds B_{j+q}(u) to out[rows[j+q]],
  /// q = 0..S (the same values, for a layout that orders the functions otherwise).
  template <int S>
  [[gnu::always_inline]] void add_values_to_rows(int j, double tau, const int* __restrict rows,
                                                 double* __restrict out) const noexcept {
    add_values_at<S>(j, tau, [out, rows, j](int q) -> double& { return out[rows[j + q]]; });
  }

  /// The body of both: target(q) is where B_{j+q}(u) is added.
  template <int S, class Target>
  [[gnu::always_inline]] void add_values_at(int j, double tau, Target target, double scale = 1.0) const noexcept {
    // Four functions per vector (one AVX register, or two SSE2 registers where AVX is absent:
    // the operations per lane are the same, so are the bits), then a pair, then a single one.
    // Same operations in the same order per function as values_fixed, so the same bits.
    using v4d = double __attribute__((vector_size(32)));
    using v2d = double __attribute__((vector_size(16)));
    constexpr int n = S + 1, quads = n / 4, pair = (n % 4) / 2, single = n % 2;
    const double* T = table_by_power_.data() + static_cast<std::size_t>(j) * n * n;
    if constexpr (quads > 0) {
      const v4d t = {tau, tau, tau, tau};
      v4d v[quads];
      for (int q = 0; q < quads; ++q) std::memcpy(&v[q], T + S * n + 4 * q, sizeof(v4d));
      for (int k = S - 1; k >= 0; --k)
        for (int q = 0; q < quads; ++q) {
          v4d c;
          std::memcpy(&c, T + k * n + 4 * q, sizeof(v4d));
          v[q] = v[q] * t + c;
        }
      for (int q = 0; q < quads; ++q)
        for (int l = 0; l < 4; ++l) add_scalar(target(4 * q + l), scale * v[q][l]);
    }
    if constexpr (pair > 0) {
      constexpr int q0 = 4 * quads;
      const v2d t = {tau, tau};
      v2d v;
      std::memcpy(&v, T + S * n + q0, sizeof(v2d));
      for (int k = S - 1; k >= 0; --k) {
        v2d c;
        std::memcpy(&c, T + k * n + q0, sizeof(v2d));
        v = v * t + c;
      }
      add_scalar(target(q0), scale * v[0]);
      add_scalar(target(q0 + 1), scale * v[1]);
    }
    if constexpr (single > 0) {
      double last = T[S * n + n - 1];
      for (int k = S - 1; k >= 0; --k) last = last * tau + T[k * n + n - 1];
      add_scalar(target(n - 1), scale * last);
    }
  }

  /// out += v with a scalar load. Consecutive add_values_fixed calls hit overlapping, unaligned
  /// ranges of `out`, and a vector load that spans two earlier stores cannot be store-forwarded
  /// (a stall of a dozen cycles per call, measured). The compiler merges neighbouring `+=` into
  /// such vector loads by itself; the empty asm makes each loaded value opaque, which stops it.
  [[gnu::always_inline]] static void add_scalar(double& out, double v) noexcept {
    double t = out;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    asm("" : "+x"(t));
#endif
    out = t + v;
  }

  /// Polynomial coefficients of phi = sum_k coef_k B_k on every piece (K x (s+1), powers of tau).
  std::vector<double> spline_table(const arma::vec& coef) const {
    const int n = s_ + 1;
    std::vector<double> out(static_cast<std::size_t>(K_) * n, 0.0);
    for (int j = 0; j < K_; ++j)
      for (int q = 0; q < n; ++q)
        for (int k = 0; k < n; ++k)
          out[static_cast<std::size_t>(j) * n + k] += coef[j + q] * table_[(static_cast<std::size_t>(j) * n + q) * n + k];
    return out;
  }

  /// spline_fixed() for four u at once (pieces j, local variables tau from locate4): the same
  /// operations per lane.
  template <int S>
  [[gnu::always_inline]] void spline4_fixed(const double* phi_table, const v4i& j, const v4d& tau, v4d& value,
                                            v4d& derivative) const noexcept {
    constexpr int n = S + 1;
    const double* c0 = phi_table + static_cast<std::size_t>(j[0]) * n;
    const double* c1 = phi_table + static_cast<std::size_t>(j[1]) * n;
    const double* c2 = phi_table + static_cast<std::size_t>(j[2]) * n;
    const double* c3 = phi_table + static_cast<std::size_t>(j[3]) * n;
    v4d v = {c0[S], c1[S], c2[S], c3[S]}, dv = {0.0, 0.0, 0.0, 0.0};
    for (int k = S - 1; k >= 0; --k) {
      dv = dv * tau + v;
      const v4d c = {c0[k], c1[k], c2[k], c3[k]};
      v = v * tau + c;
    }
    value = v;
    const v4d inv_h = {inv_h_, inv_h_, inv_h_, inv_h_};
    derivative = dv * inv_h;
  }

  /// phi(u) and phi'(u) from a spline_table.
  void spline(const double* phi_table, int j, double tau, double& value, double& derivative) const noexcept {
    spline_horner(phi_table, s_, j, tau, value, derivative);
  }

  /// spline() for a degree known at compile time (S == degree()): the same operations, unrolled.
  template <int S>
  [[gnu::always_inline]] void spline_fixed(const double* phi_table, int j, double tau, double& value,
                                           double& derivative) const noexcept {
    spline_horner(phi_table, S, j, tau, value, derivative);
  }

 private:
  [[gnu::always_inline]] void spline_horner(const double* phi_table, int s, int j, double tau, double& value,
                                            double& derivative) const noexcept {
    const double* c = phi_table + static_cast<std::size_t>(j) * (s + 1);
    double v = c[s], dv = 0.0;
    for (int k = s - 1; k >= 0; --k) {
      dv = dv * tau + v;
      v = v * tau + c[k];
    }
    value = v;
    derivative = dv * inv_h_;
  }

  double a_, b_, inv_h_;
  int K_, s_;
  std::vector<double> table_;           // [piece][q][power]
  std::vector<double> table_by_power_;  // [piece][power][q]
  std::vector<double> breaks_;  // knots a = t_s < ... < t_{s+K} = b
};

}  // namespace attnrate
