#pragma once
// `attnrate study heads`: RFA ridge with M heads and penalty M lambda_K against kernel ridge with
// the infinite-width kernel (theory/rfa/rfa_kernel.hpp) and penalty lambda_K, on the same
// training data (conventions in studies/rfa/rfa_common.hpp). The gap is the mean over test inputs
// of (f_M - f_inf)^2 / Var f*. Writes summary.json, cells.csv, the figure heads.png and cells/
// checkpoints into ctx.out. Measurement:
//   gap-slope  OLS slope of log gap on log M with its t and seed-bootstrap intervals (no select)
#include <armadillo>
#include <vector>

#include "estimators/ridge/ridge.hpp"
#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition heads_study();

/// GCV choice of the kernel ridge penalty on the training kernel matrix K (n x n) and y: with
/// K = U diag(s) U^T (negative eigenvalues floored at 0) and c = U^T y,
///   GCV(lambda) = (1/n) sum_j (n lambda/(s_j + n lambda))^2 c_j^2 / ((1/n) sum_j n lambda/(s_j + n lambda))^2,
/// the same criterion as select_lambda_gcv for the kernel (K + n lambda I)^{-1}: the first
/// minimiser over `grid` (increasing, all > 0), extended at an end as in lambda_search.hpp.
LambdaSelection kernel_gcv_lambda(const arma::mat& K, const arma::vec& y, const arma::vec& grid);

}  // namespace attnrate
