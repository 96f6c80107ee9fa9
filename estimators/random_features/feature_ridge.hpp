#pragma once
// The ridge step both random-feature models share (RandomFeatureAttention, RandomFeatureMlp):
// frozen features, trained linear coefficients (estimators/ridge/ridge.hpp).
#include <algorithm>
#include <armadillo>
#include <cmath>
#include <cstddef>
#include <limits>
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

/// The lowest sample with a non-finite value among v[0 .. count), sample_of(t) the sample of v[t]
/// (features or predictions whose finite inputs overflowed), or none (SIZE_MAX) when all are
/// finite. The lowest sample, not the first value met: a matrix of samples x features is
/// stored feature by feature.
template <class SampleOf>
std::size_t first_non_finite_sample(const double* v, std::size_t count, SampleOf sample_of) {
  std::size_t first = std::numeric_limits<std::size_t>::max();
  for (std::size_t t = 0; t < count; ++t)
    if (!std::isfinite(v[t])) first = std::min(first, static_cast<std::size_t>(sample_of(t)));
  return first;
}

/// coef = w, the coefficients of a saved fit, after checking that w has the model's `features`
/// entries, all finite (InputError from `where` otherwise).
void restore_feature_coefficients(const std::string& where, const arma::vec& w, std::size_t features,
                                  const std::string& features_name, arma::vec& coef);

}  // namespace attnrate
