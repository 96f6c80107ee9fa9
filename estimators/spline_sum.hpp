#pragma once
// A sum of clamped uniform B-splines on one interval [a, b], possibly of different degrees and
// numbers of pieces: phi(u) = sum_t sum_k coef_t[k] B_{t,k}(u). The estimate of the pairwise
// interaction function phi: one term for a fixed spline space or a selected candidate, one term
// per degree for the exponential-weights mixture over every candidate space
// (estimators/pairwise_lse/adaptive_spline.hpp). A sum of splines of different degrees is in
// general no spline of one degree on a uniform grid (a degree-1 term has kinks a cubic term
// cannot have), so the terms are kept apart and summed at evaluation, in their stored order.
#include <armadillo>
#include <utility>
#include <vector>

#include "estimators/bspline.hpp"

namespace attnrate {

struct SplineTerm {
  BSplineBasis basis;
  arma::vec coef;  ///< basis.size() coefficients
};

class SplineSum {
 public:
  SplineSum() = default;
  /// One spline.
  SplineSum(const BSplineBasis& basis, arma::vec coef) { add(basis, std::move(coef)); }

  /// Appends a term; the callers keep every term on the same [a, b], with basis.size() coefficients.
  void add(const BSplineBasis& basis, arma::vec coef) { terms_.push_back({basis, std::move(coef)}); }

  const std::vector<SplineTerm>& terms() const noexcept { return terms_; }
  bool empty() const noexcept { return terms_.empty(); }
  /// The interval's ends (of the first term; all terms share them). Need a term (!empty()).
  double a() const noexcept { return terms_.front().basis.a(); }
  double b() const noexcept { return terms_.front().basis.b(); }
  bool contains(double u) const noexcept { return u >= a() && u <= b(); }

  /// phi(u), clamped to [a, b] like each term; the terms are added in their order.
  double value(double u) const noexcept {
    double v = 0.0;
    for (const SplineTerm& t : terms_) v += t.basis.value(t.coef, u);
    return v;
  }

 private:
  std::vector<SplineTerm> terms_;
};

}  // namespace attnrate
