#include "estimators/random_features/feature_ridge.hpp"

#include "estimators/common/input_error.hpp"

namespace attnrate {

void require_one_target_per_sample(const std::string& where, const arma::vec& y, std::size_t n) {
  if (y.n_elem != n)
    throw InputError(where + ": y has " + std::to_string(y.n_elem) + " entries for " + std::to_string(n) +
                     " samples; need one per sample");
}

RidgeFit fit_feature_ridge(const std::string& where, const arma::mat& Phi, std::size_t features,
                           const std::string& features_name, const arma::vec& y, const RidgeFitOptions& ridge,
                           arma::vec& coef) {
  if (Phi.n_cols != features)
    throw InputError(where + ": feature matrix has " + std::to_string(Phi.n_cols) + " columns; this model has " +
                     features_name + " = " + std::to_string(features));
  RidgeFit f = ridge_fit(Phi, y, ridge);
  coef = f.solution.w;
  return f;
}

void restore_feature_coefficients(const std::string& where, const arma::vec& w, std::size_t features,
                                  const std::string& features_name, arma::vec& coef) {
  if (w.n_elem != features)
    throw InputError(where + ": " + std::to_string(w.n_elem) + " coefficients; this model has " + features_name +
                     " = " + std::to_string(features));
  if (!w.is_finite()) throw InputError(where + ": the coefficients must be finite");
  coef = w;
}

}  // namespace attnrate
