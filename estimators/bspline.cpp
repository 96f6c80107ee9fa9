#include "estimators/bspline.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "estimators/common/input_error.hpp"

namespace attnrate {

namespace {

// u clamped to [a, b] (NaN to a); `clamped` is set when u moved.
double clamp_to_range(double u, double a, double b, bool& clamped) noexcept {
  if (!(u >= a)) {
    clamped = true;
    return a;
  }
  if (u > b) {
    clamped = true;
    return b;
  }
  return u;
}

// One step of de Boor's triangle on knot span i: values[0..r-1], the degree r-1 functions
// nonzero there, become the degree r ones values[0..r]; left and right keep the knot distances
// that later steps reuse.
void raise_degree(const std::vector<double>& knots, int i, double u, int r, double* values, double* left,
                  double* right) noexcept {
  left[r] = u - knots[i + 1 - r];
  right[r] = knots[i + r] - u;
  double saved = 0.0;
  for (int q = 0; q < r; ++q) {
    const double temp = values[q] / (right[q + 1] + left[r - q]);
    values[q] = saved + right[q + 1] * temp;
    saved = left[r - q] * temp;
  }
  values[r] = saved;
}

}  // namespace

BSplineBasis::BSplineBasis(double a, double b, int pieces, int degree)
    : a_(a), b_(b), h_(0.0), pieces_(pieces), degree_(degree) {
  if (!std::isfinite(a) || !std::isfinite(b) || !(a < b)) {
    std::ostringstream m;
    m << "spline range must satisfy a < b (finite), got a = " << a << ", b = " << b;
    throw InputError(m.str());
  }
  if (pieces < 1) throw InputError("number of spline pieces (--knots) must be >= 1, got " + std::to_string(pieces));
  if (degree < 0 || degree > max_degree)
    throw InputError("spline degree (--degree) must be in 0.." + std::to_string(max_degree) + ", got " +
                     std::to_string(degree));
  h_ = (b - a) / pieces;
  // The interval must be representable piece by piece: b - a finite (no overflow) and every
  // interior knot strictly between its neighbours (no collapse at the resolution of a double).
  if (!std::isfinite(b - a) || !(h_ > 0.0) || !std::isfinite(1.0 / h_) || !(a + (b - a) / pieces > a) ||
      !(a + (pieces - 1) * (b - a) / pieces < b)) {
    std::ostringstream m;
    m << "spline range [" << a << ", " << b << "] cannot be cut into " << pieces
      << " pieces in double precision (too wide: b - a overflows, or too narrow: the knots coincide)";
    throw InputError(m.str());
  }
  knots_.reserve(static_cast<std::size_t>(pieces + 2 * degree + 1));
  for (int q = 0; q <= degree; ++q) knots_.push_back(a);
  for (int k = 1; k < pieces; ++k) knots_.push_back(a + k * (b - a) / pieces);
  for (int q = 0; q <= degree; ++q) knots_.push_back(b);
}

int BSplineBasis::span_of(double u) const noexcept {
  const double x = (u - a_) / h_;
  int j = static_cast<int>(x);
  // Rounding can put u just left of its knot; the scheme below is exact either way, but
  // keep the span consistent with the knot vector.
  j = std::clamp(j, 0, pieces_ - 1);
  while (j > 0 && u < knots_[degree_ + j]) --j;
  while (j < pieces_ - 1 && u >= knots_[degree_ + j + 1]) ++j;
  return j;
}

BasisSpan BSplineBasis::evaluate(double u, double* values) const noexcept {
  BasisSpan span;
  u = clamp_to_range(u, a_, b_, span.clamped);  // also catches NaN, mapped to a (flagged)
  const int p = degree_;
  const int j = span_of(u);
  const int i = p + j;  // knot span index: knots_[i] <= u < knots_[i+1]
  span.first = j;
  double left[max_degree + 1], right[max_degree + 1];
  values[0] = 1.0;
  for (int r = 1; r <= p; ++r) raise_degree(knots_, i, u, r, values, left, right);
  return span;
}

BasisSpan BSplineBasis::evaluate_with_derivative(double u, double* values, double* derivatives) const noexcept {
  const int p = degree_;
  if (p == 0) {
    const BasisSpan span = evaluate(u, values);
    derivatives[0] = 0.0;
    return span;
  }
  // Degree p-1 functions on the same span: with a lower-degree basis object on the same
  // knots we would shift indices; instead run the triangle one step short.
  BasisSpan span;
  u = clamp_to_range(u, a_, b_, span.clamped);
  const int j = span_of(u);
  const int i = p + j;
  span.first = j;
  double left[max_degree + 1], right[max_degree + 1], lower[max_degree + 1];
  values[0] = 1.0;
  for (int r = 1; r <= p; ++r) {
    if (r == p) std::copy(values, values + p, lower);  // N_{i-p+1+q, p-1}, q = 0..p-1
    raise_degree(knots_, i, u, r, values, left, right);
  }
  // B'_{k,p} = p (B_{k,p-1}/(t_{k+p}-t_k) - B_{k+1,p-1}/(t_{k+p+1}-t_{k+1})), k = i-p+q.
  for (int q = 0; q <= p; ++q) {
    const int k = i - p + q;
    double d = 0.0;
    if (q >= 1) {
      const double den = knots_[k + p] - knots_[k];
      if (den > 0.0) d += lower[q - 1] / den;
    }
    if (q <= p - 1) {
      const double den = knots_[k + p + 1] - knots_[k + 1];
      if (den > 0.0) d -= lower[q] / den;
    }
    derivatives[q] = p * d;
  }
  return span;
}

double BSplineBasis::value(const arma::vec& coef, double u) const noexcept {
  double v[max_degree + 1];
  const BasisSpan span = evaluate(u, v);
  double sum = 0.0;
  for (int q = 0; q <= degree_; ++q) sum += coef[span.first + q] * v[q];
  return sum;
}

double BSplineBasis::derivative(const arma::vec& coef, double u) const noexcept {
  double v[max_degree + 1], d[max_degree + 1];
  const BasisSpan span = evaluate_with_derivative(u, v, d);
  double sum = 0.0;
  for (int q = 0; q <= degree_; ++q) sum += coef[span.first + q] * d[q];
  return sum;
}

}  // namespace attnrate
