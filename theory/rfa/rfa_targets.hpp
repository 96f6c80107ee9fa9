#pragma once
// Targets f*(x_0, x_1..x_N) of the random-feature attention experiments. Parsed from
// "NAME[:PARAM]"; He_p is the probabilists' Hermite polynomial (He_{k+1} = x He_k - k He_{k-1}):
//   inner-poly:p  (1/N) sum_i He_p(sqrt(d) <x_0, x_i>) / sqrt(p!)
//   key-poly:p    (1/N) sum_i He_p(sqrt(d) <b, x_i>) / sqrt(p!), b a unit vector drawn from `seed`
//   mixed:p       (1/N) sum_i F(x_0, x_i), F(x_0, x) = sum_{k=1}^{4} a_k He_p(sqrt(d) <c_k, [x_0; x]>)
//                 / sqrt(p!), c_k uniform unit vectors of R^{2d} and a_k iid N(0, 1), drawn from
//                 `seed`: a random degree-p polynomial of (x_0, x) mixing query-only, key-only and
//                 cross terms (a sum of 4 ridge functions; under `gaussian` each ridge argument
//                 is exactly N(0, 1)).
//   cos-inner[:w] (1/N) sum_i cos(w <x_0, x_i>); default w = 1.5 sqrt(d), so the argument is
//                 1.5 times a roughly N(0, 1) variable: for large d about 2/3 of the variance is
//                 in degree 2 and 1/3 in degree 4 (a non-polynomial inner-product target).
//   first-key     He_2(sqrt(d) <x_0, x_1>) / sqrt(2): depends on which key comes first, the
//                 control that is not permutation-invariant.
// p is an integer in [1, 10].
//
// Normalisation. With h(x_0, x_i) the per-key term, evaluate() returns
//   (mean_i h(x_0, x_i) - m) / sqrt(c + (v - c) / N)      (first-key: (h(x_0, x_1) - m) / sqrt(v))
// where m = E h, v = Var h, c = Cov(h(x_0, x_1), h(x_0, x_2)) under the input law, so the target
// has mean 0 and variance 1 for every number of keys N (keys are exchangeable given x_0, hence
// Var of the key average is exactly c + (v - c)/N). (m, v, c) are obtained as follows:
//   inner-poly, key-poly, first-key   closed form from the moments of t = sqrt(d) <., x>
//                                     (sphere: t^2/d ~ Beta(1/2, (d-1)/2), c = 0; gaussian:
//                                     key t ~ N(0,1); inner t ~ |x_0| Z with |x_0|^2 ~ chi2_d/d);
//   cos-inner                         sphere: 1-D Gauss-Kronrod quadrature over the angle, c = 0;
//                                     gaussian: closed form (Gaussian characteristic function);
//   mixed                             Monte Carlo on 200000 fixed-seed samples of (x_0, x_1, x_2)
//                                     drawn from derive_seed(seed, "target-normalisation").
// raw_moments().method says which was used.
#include <armadillo>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "estimators/random_features/attention_inputs.hpp"
#include "theory/rfa/attention_law.hpp"

namespace attnrate {

class RfaTarget {
 public:
  enum class Kind { inner_poly, key_poly, mixed, cos_inner, first_key };

  /// Moments of the unnormalised per-key term h (see the header comment).
  struct RawMoments {
    double mean = 0.0;        ///< m = E h(x_0, x_1)
    double variance = 0.0;    ///< v = Var h(x_0, x_1)
    double covariance = 0.0;  ///< c = Cov(h(x_0, x_1), h(x_0, x_2))
    std::string method;       ///< "closed form", "quadrature" or "monte carlo (200000 samples)"
  };

  /// Parses "NAME[:PARAM]" for token dimension d >= 1 under `law`; `seed` draws b (key-poly)
  /// and the polynomial of mixed:p. Throws InputError naming the valid targets for an unknown
  /// name, and the allowed range for a bad parameter or d.
  static RfaTarget parse(std::string_view spec, int d, const AttentionLaw& law = {}, std::uint64_t seed = 0);
  /// The targets parse() reads, as messages list them ("inner-poly:p, key-poly:p, ...").
  static const char* valid_names() noexcept;
  /// Whether `name` (the part before ':') names a target parse() reads.
  static bool known_name(std::string_view name) noexcept;

  /// f* on every sample (length n), normalised to mean 0 and variance 1 under the law for
  /// inputs.N keys. Throws InputError if inputs.d differs from the target's d.
  arma::vec evaluate(const AttentionInputs& inputs) const;

  /// True for every target except first-key.
  bool is_permutation_invariant() const noexcept { return kind_ != Kind::first_key; }
  /// Canonical "NAME[:PARAM]" (cos-inner without ":w" when w is the default).
  const std::string& name() const noexcept { return name_; }
  /// The target as a value: its name with the parameter always written, in shortest round-trip
  /// form (cos-inner, cos-inner:3 and cos-inner:3.0 at d = 4 are all "cos-inner:3"). Two
  /// targets of one d and law with equal identities are the same function.
  std::string identity() const;
  Kind kind() const noexcept { return kind_; }
  int d() const noexcept { return d_; }
  const RawMoments& raw_moments() const noexcept { return moments_; }
  /// Standard deviation of the unnormalised target with N keys (the divisor in evaluate()).
  double raw_sd(int N) const;

 private:
  RfaTarget() = default;
  // Unnormalised per-key terms h(x_0, x_i), n x N (column i-1 is key i).
  arma::mat per_key(const AttentionInputs& inputs) const;

  Kind kind_ = Kind::inner_poly;
  std::string name_;
  int d_ = 1;
  int p_ = 2;
  double w_ = 1.0;
  arma::vec b_;        // key-poly direction (unit, d)
  arma::mat c_query_;  // mixed: rows 0..d-1 of the 4 unit directions c_k (d x 4)
  arma::mat c_key_;    // mixed: rows d..2d-1 (d x 4)
  arma::vec a_;        // mixed weights (4)
  RawMoments moments_;
};

/// Probabilists' Hermite polynomial He_p(x), p >= 0, by the three-term recurrence.
double hermite_he(int p, double x) noexcept;

}  // namespace attnrate
