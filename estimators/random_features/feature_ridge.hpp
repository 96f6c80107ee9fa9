#pragma once
// The ridge step both random-feature models share (RandomFeatureAttention, RandomFeatureMlp):
// frozen features, trained linear coefficients (estimators/ridge/ridge.hpp).
#include <armadillo>
#include <cstddef>
#include <string>

#include "estimators/ridge/ridge.hpp"

namespace attnrate {

/// Throws InputError from `where` unless y has one entry per sample (n of them).
void require_one_target_per_sample(const std::string& where, const arma::vec& y, std::size_t n);

/// ridge_fit(Phi, y, ridge) after checking that Phi has the model's `features` columns
/// (`features_name` says how the model counts them, e.g. "M(d+1)"); stores the coefficients in
/// `coef` and returns the fit.
RidgeFit fit_feature_ridge(const std::string& where, const arma::mat& Phi, std::size_t features,
                           const std::string& features_name, const arma::vec& y, const RidgeFitOptions& ridge,
                           arma::vec& coef);

}  // namespace attnrate
