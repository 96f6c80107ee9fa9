#pragma once
// Knot insertion between nested clamped uniform B-spline bases.
//
// A coarse basis (K pieces, degree s, on [a, b]) and a fine one (L = q K pieces, q >= 1, same
// a, b, s) have nested knot vectors, so every coarse B-spline is a combination of fine ones:
//   B_coarse(u) = R^T B_fine(u),   R of size (L + s) x (K + s),
// column k of R holding the fine coefficients of coarse B-spline k. R is built exactly by
// inserting the missing knots one at a time with Boehm's algorithm (W. Boehm, "Inserting new
// knots into B-spline curves", CAD 12(4), 1980; Piegl & Tiller, The NURBS Book, ch. 5, A5.1),
// applied to the identity coefficient matrix; the discrete B-splines of the Oslo algorithm
// (Cohen, Lyche, Riesenfeld 1980) are the same numbers.
//
// Consequences used by the adaptive estimator: with psi_fine the fine features,
//   psi_coarse = R^T psi_fine,  G_coarse = R^T G_fine R,  h_coarse = R^T h_fine,  yy unchanged,
// so one pass over the data at the finest K gives every coarser nested candidate's system.
#include <armadillo>

#include "estimators/bspline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"

namespace attnrate {

/// R with B_coarse(u) = R^T B_fine(u) for every u in [a, b]. Throws InputError unless both bases
/// share a, b and the degree and fine.pieces() is a multiple of coarse.pieces().
arma::mat refinement_matrix(const BSplineBasis& coarse, const BSplineBasis& fine);

/// The coarse system from the fine one: G = R^T G_fine R (symmetrised), h = R^T h_fine; yy and
/// the counts are copied. R must have fine.G.n_rows rows.
NormalEquations restrict_normal_equations(const NormalEquations& fine, const arma::mat& R);

}  // namespace attnrate
