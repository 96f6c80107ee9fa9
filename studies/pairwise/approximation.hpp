#pragma once
// `attnrate study approximation`: the smoothness of phi measured on its own, not assumed.
//
// Noiseless data (sigma = 0) from the pairwise model with A known and a large M, so the
// estimator's error is the squared L2(rho) approximation error of phi by degree-s splines with K
// pieces (the variance term is absent and the finite-M deviation from the projection is small
// against it). For a phi of L2 approximation order b_approx the error decays like K^(-2 b_approx);
// the study fits the slope of log error on log K over a grid of K (cells: activation x K x seed)
// and reports b_approx = -slope / 2 with both 95% intervals. Each repetition draws its own A (the
// same for every activation): the power law's constant, and over a finite K range the fitted
// exponent, depend on the law of u = x^T A y, so the interval must span laws, not one. The splines span the 1e-5 and
// 1 - 1e-5 quantiles of u; the error is taken over the test interactions between the 1% and 99%
// quantiles: beyond the interval the fit is the clamped end value, and the outermost pieces see
// few interactions, so neither measures approximation by K pieces. Cells whose relative error is
// below 1e-10 (the precision of the solve) are excluded as "precision-floor". Expected: b for weierstrass:b (the
// same roughness everywhere), b + 1/2 for kink:b and P + 1/2 for bspline:P (one singular point,
// resp. finitely many knots: only O(1) pieces see the singularity, each of length 1/K), provided
// the fitted degree s >= b_approx - 1/2.

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition approximation_study();

}  // namespace attnrate
