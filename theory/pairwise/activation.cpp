#include "theory/pairwise/activation.hpp"

#include <charconv>
#include <cmath>
#include <numbers>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"

namespace attnrate {
namespace {

constexpr const char* kValidActivations =
    "bspline:P (P integer 0..10), weierstrass:b (0.16 <= b <= 127), kink:b (0 < b <= 64), tanh, softplus, gelu, exp";

// Weierstrass series: the finest frequency 3 sqrt(2)^J must stay below 2^52 (beyond, adjacent
// doubles u of order 1 are more than a radian apart in f u), so J <= 100, i.e. b >= 16/100.
constexpr int kMaxWeierstrassTerms = 100;
constexpr double kMinWeierstrassB = 0.16;
// The finest amplitude sqrt(2)^(-16 b) = 2^(-8 b) must be a normal double: 8 b <= 1022.
constexpr double kMaxWeierstrassB = 127.0;
// |u - 0.25|^b <= DBL_MAX for |u - 0.25| < 2^16 needs 16 b <= 1024.
constexpr double kMaxKinkB = 64.0;

double parse_param(std::string_view name, std::string_view text) {
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v))
    throw InputError("--activation " + std::string(name) + ":" + std::string(text) +
                     ": parameter must be a number; valid: " + kValidActivations);
  return v;
}

std::string format_param(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Activation Activation::parse(std::string_view spec, std::uint64_t seed) {
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const bool has_param = colon != std::string_view::npos;
  const std::string_view ptext = has_param ? spec.substr(colon + 1) : std::string_view{};
  Activation a;
  constexpr double inf = std::numeric_limits<double>::infinity();
  auto need_param = [&]() {
    if (!has_param)
      throw InputError("--activation " + std::string(name) + " needs a parameter (" + std::string(name) +
                       ":VALUE); valid: " + kValidActivations);
    return parse_param(name, ptext);
  };
  auto no_param = [&]() {
    if (has_param)
      throw InputError("--activation " + std::string(name) + " takes no parameter, got '" + std::string(spec) +
                       "'; valid: " + kValidActivations);
  };
  if (name == "bspline") {
    const double p = need_param();
    if (p != std::floor(p) || p < 0 || p > BSplineBasis::max_degree)
      throw InputError("--activation bspline:P needs an integer degree P in 0..10, got " + std::string(ptext));
    const int P = static_cast<int>(p);
    a.kind_ = Kind::bspline;
    a.param_ = P;
    a.name_ = "bspline:" + std::to_string(P);
    a.holder_ = P;
    a.claimed_ = P - 1;
    a.basis_.emplace(-3.0, 3.0, 12, P);
    a.coef_.zeros(a.basis_->size());
    Rng rng(derive_seed(seed, {hash_name("activation"), hash_name(a.name_)}));
    for (int k = P; k < a.basis_->size() - P; ++k) a.coef_[k] = rng.normal();
  } else if (name == "weierstrass") {
    const double b = need_param();
    if (!(b > 0)) throw InputError("--activation weierstrass:b needs b > 0, got " + std::string(ptext));
    if (b < kMinWeierstrassB)
      throw InputError("--activation weierstrass:b needs b >= 0.16, got " + std::string(ptext) +
                       ": the series needs ceil(16/b) terms for a tail below 2^-8, and beyond " +
                       std::to_string(kMaxWeierstrassTerms) +
                       " terms its finest frequency 3 sqrt(2)^J exceeds 2^52, where cos(f u) is not resolved in "
                       "double precision");
    if (b > kMaxWeierstrassB)
      throw InputError("--activation weierstrass:b needs b <= 127, got " + std::string(ptext) +
                       ": the finest term's amplitude 2^(-8 b) underflows a double beyond that, and the series "
                       "collapses to fewer cosines");
    a.kind_ = Kind::weierstrass;
    a.param_ = b;
    a.name_ = "weierstrass:" + format_param(b);
    a.holder_ = a.claimed_ = b;
    // Frequency ratio sqrt(2) rather than 2: two components per octave damp the
    // log-periodic oscillation of the approximation constant that a dyadic series shows.
    const double lambda = std::numbers::sqrt2, w0 = 3.0;
    const int J = static_cast<int>(std::ceil(2.0 * std::max(8.0, 8.0 / b)));  // <= 100 for b >= 0.16
    const double golden = (std::sqrt(5.0) - 1.0) / 2.0;
    for (int j = 0; j <= J; ++j) {
      a.amplitude_.push_back(std::pow(lambda, -j * b));
      a.frequency_.push_back(w0 * std::pow(lambda, j));
      const double f = j * golden;
      a.phase_.push_back(2.0 * std::numbers::pi * (f - std::floor(f)));
    }
  } else if (name == "kink") {
    const double b = need_param();
    if (!(b > 0)) throw InputError("--activation kink:b needs b > 0, got " + std::string(ptext));
    if (b > kMaxKinkB)
      throw InputError("--activation kink:b needs b <= 64, got " + std::string(ptext) +
                       ": beyond that |u - 0.25|^b overflows a double for |u - 0.25| >= 2^16");
    a.kind_ = Kind::kink;
    a.param_ = b;
    a.name_ = "kink:" + format_param(b);
    a.holder_ = a.claimed_ = b;
  } else if (name == "tanh" || name == "softplus" || name == "gelu" || name == "exp") {
    no_param();
    a.kind_ = name == "tanh" ? Kind::tanh : name == "softplus" ? Kind::softplus : name == "gelu" ? Kind::gelu : Kind::exp;
    a.name_ = std::string(name);
    a.holder_ = a.claimed_ = inf;
  } else {
    throw InputError("unknown --activation '" + std::string(spec) + "'; valid: " + kValidActivations);
  }
  return a;
}

double Activation::operator()(double u) const noexcept {
  switch (kind_) {
    case Kind::bspline:
      if (u <= basis_->a() || u >= basis_->b()) return 0.0;  // coefficients vanish at the ends
      return basis_->value(coef_, u);
    case Kind::weierstrass: {
      double s = 0.0;
      for (std::size_t j = 0; j < amplitude_.size(); ++j) s += amplitude_[j] * std::cos(frequency_[j] * u + phase_[j]);
      return s;
    }
    case Kind::kink:
      return std::pow(std::abs(u - 0.25), param_);
    case Kind::tanh:
      return std::tanh(u);
    case Kind::softplus:
      return u > 30.0 ? u : std::log1p(std::exp(u));
    case Kind::gelu:
      return 0.5 * u * std::erfc(-u / std::numbers::sqrt2);
    case Kind::exp:
      return std::exp(u);
  }
  return 0.0;
}

std::string Activation::smoothness_convention() const {
  if (kind_ == Kind::bspline)
    return "bspline:P is C^(P-1) with a bounded P-th derivative (Hoelder P); claims use the minimax paper's "
           "convention beta = P-1";
  if (std::isinf(holder_)) return "analytic: beta = infinity, rate limited by the spline degree (beta_eff = s+1)";
  return "exact Hoelder smoothness beta = " + format_param(holder_);
}

int Activation::default_degree() const noexcept {
  if (kind_ == Kind::bspline) return static_cast<int>(param_);
  if (std::isinf(holder_)) return 3;
  return static_cast<int>(std::min<double>(BSplineBasis::max_degree, std::floor(holder_)));
}

double minimax_exponent(double beta, int degree) {
  const double b = std::min(beta, static_cast<double>(degree + 1));
  return 2.0 * b / (2.0 * b + 1.0);
}

}  // namespace attnrate
