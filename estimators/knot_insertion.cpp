#include "estimators/knot_insertion.hpp"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include "estimators/common/input_error.hpp"

namespace attnrate {

arma::mat refinement_matrix(const BSplineBasis& coarse, const BSplineBasis& fine) {
  const int s = coarse.degree(), K = coarse.pieces(), L = fine.pieces();
  if (coarse.a() != fine.a() || coarse.b() != fine.b() || fine.degree() != s || L % K != 0) {
    std::ostringstream m;
    m << "knot insertion needs nested bases: same range and degree and fine pieces a multiple of coarse pieces; got "
      << "[" << coarse.a() << ", " << coarse.b() << "] K = " << K << " s = " << s << " and [" << fine.a() << ", "
      << fine.b() << "] K = " << L << " s = " << fine.degree();
    throw InputError(m.str());
  }
  const int q = L / K;
  // Knot vector being refined (starts as the coarse one) and the coefficient rows: row i holds
  // the coefficients of current basis function i in each coarse B-spline (columns). Rows are
  // separate vectors so that an insertion moves them instead of copying the matrix.
  std::vector<double> t = coarse.knots();
  std::vector<arma::rowvec> C;
  for (int i = 0; i < K + s; ++i) {
    C.emplace_back(K + s, arma::fill::zeros);
    C.back()[i] = 1.0;
  }
  const std::vector<double>& tf = fine.knots();
  for (int j = 1; j < L; ++j) {
    if (j % q == 0) continue;  // a coarse knot already present
    const double u = tf[static_cast<std::size_t>(s + j)];
    // Span k: t[k] <= u < t[k+1] (u lies strictly between two present knots).
    const int k = static_cast<int>(std::upper_bound(t.begin(), t.end(), u) - t.begin()) - 1;
    // New rows: Q_i = P_i (i <= k-s), alpha_i P_i + (1 - alpha_i) P_{i-1} (k-s < i <= k), P_{i-1} (i > k).
    // Computed from the highest i down, so that P_{i-1} is still the old row when used.
    arma::rowvec copy = C[k];
    C.insert(C.begin() + k + 1, std::move(copy));  // Q_{k+1} = P_k; old P_{k+1}.. shift up by one
    for (int i = k; i >= k - s + 1; --i) {
      const double alpha = (u - t[i]) / (t[i + s] - t[i]);
      C[i] = alpha * C[i] + (1.0 - alpha) * C[i - 1];
    }
    t.insert(t.begin() + k + 1, u);
  }
  arma::mat R(C.size(), K + s);
  for (std::size_t i = 0; i < C.size(); ++i) R.row(i) = C[i];
  return R;
}

NormalEquations restrict_normal_equations(const NormalEquations& fine, const arma::mat& R) {
  if (R.n_rows != fine.G.n_rows)
    throw InputError("restrict_normal_equations: R has " + std::to_string(R.n_rows) + " rows, the system " +
                     std::to_string(fine.G.n_rows));
  NormalEquations c;
  // R has about (s+1) nonzeros per fine function: sparse products cost O(p_fine^2 (s+1)).
  const arma::sp_mat Rs(R);
  const arma::mat GR = fine.G * Rs;
  c.G = arma::mat(Rs.t() * GR);
  c.G = 0.5 * (c.G + c.G.t());
  c.h = arma::vec(Rs.t() * fine.h);
  c.yy = fine.yy;
  c.tokens = fine.tokens;
  c.interactions = fine.interactions;
  c.clamped = fine.clamped;
  return c;
}

}  // namespace attnrate
