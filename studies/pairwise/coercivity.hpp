#pragma once
// `attnrate study coercivity`: the smallest generalised eigenvalue of (G, Gamma), G the normal
// matrix of the A-known least squares and Gamma the L2(rho) Gram matrix of the same B-spline
// basis, as M grows, for each token law. 1 means as well posed as direct regression on
// (u, phi(u)); the coercivity condition asks that it stay away from 0. Quantity:
//   coercivity  one per token law (select tokens, as written in --token-laws): the mean of
//               lambda_min over the seeds at the largest M, with its Student-t and seed-bootstrap
//               intervals (the bootstrap seeded by the law's name); details: se, M, slope_vs_M (the
//               drift of lambda_min with M).
#include <armadillo>
#include <vector>

#include "estimators/bspline.hpp"
#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition coercivity_study();

/// Smallest eigenvalue of the pencil G v = lambda Gamma v (Gamma symmetric positive definite):
/// lambda_min(L^{-1} G L^{-T}), Gamma = L L^T. The coercivity constant of the normal matrix in
/// the L2(rho) geometry. Throws InputError if Gamma is not positive definite or sizes differ.
double generalized_min_eigenvalue(const arma::mat& G, const arma::mat& Gamma);

/// Gram matrix of a basis in L2(rho) from interactions u_t: Gamma_kl = 1/T sum_t B_k(u_t) B_l(u_t).
arma::mat basis_gram(const BSplineBasis& basis, const arma::vec& u);

}  // namespace attnrate
