#pragma once
// Clamped uniform B-spline basis on [a, b].
//
// Knot vector: a repeated s+1 times, a + k (b-a)/K for k = 1..K-1, b repeated s+1 times,
// hence K + s basis functions B_0..B_{K+s-1} of degree s, a partition of unity on [a, b].
// At any u only s+1 consecutive functions are nonzero; evaluate() returns them in O(s^2)
// by de Boor's triangular scheme (Piegl & Tiller, The NURBS Book, A2.2/A2.3).
// Points outside [a, b] are clamped to the nearest end and flagged, never extrapolated.
#include <armadillo>
#include <vector>

namespace attnrate {

/// Where the nonzero basis functions of a point start, and whether the point was clamped.
struct BasisSpan {
  int first = 0;         ///< index of the first of the s+1 nonzero functions
  bool clamped = false;  ///< u was outside [a, b] and was moved to the nearest end
};

class BSplineBasis {
 public:
  static constexpr int max_degree = 10;

  /// Throws InputError unless a < b (both finite), pieces >= 1 and 0 <= degree <= max_degree.
  BSplineBasis(double a, double b, int pieces, int degree);

  double a() const noexcept { return a_; }
  double b() const noexcept { return b_; }
  int pieces() const noexcept { return pieces_; }
  int degree() const noexcept { return degree_; }
  /// Number of basis functions, K + s.
  int size() const noexcept { return pieces_ + degree_; }
  /// Full clamped knot vector, K + 2s + 1 entries.
  const std::vector<double>& knots() const noexcept { return knots_; }
  bool contains(double u) const noexcept { return u >= a_ && u <= b_; }

  /// Values of the s+1 nonzero basis functions at u: values[q] = B_{first+q}(u).
  BasisSpan evaluate(double u, double* values) const noexcept;
  /// Values and first derivatives d/du of the s+1 nonzero basis functions at u. For a
  /// clamped point the derivative is that of the spline at the end point (one-sided).
  BasisSpan evaluate_with_derivative(double u, double* values, double* derivatives) const noexcept;

  /// Spline value sum_k coef[k] B_k(u); coef has size() entries.
  double value(const arma::vec& coef, double u) const noexcept;
  /// Spline derivative sum_k coef[k] B_k'(u).
  double derivative(const arma::vec& coef, double u) const noexcept;

 private:
  int span_of(double u) const noexcept;  // j in 0..K-1 with u in piece j (u already in [a, b])
  double a_, b_, h_;
  int pieces_, degree_;
  std::vector<double> knots_;
};

}  // namespace attnrate
