#include "theory/rfa/rfa_targets.hpp"

#include <boost/math/constants/constants.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <charconv>
#include <cmath>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"

namespace attnrate {

double hermite_he(int p, double x) noexcept {
  if (p <= 0) return 1.0;
  double prev = 1.0, cur = x;
  for (int k = 1; k < p; ++k) {
    const double next = x * cur - k * prev;
    prev = cur;
    cur = next;
  }
  return cur;
}

namespace {

constexpr int kMixedDirections = 4;
constexpr std::size_t kMonteCarloSamples = 200000;
const char* const kValidTargets = "inner-poly:p, key-poly:p, mixed:p (p integer in [1, 10]), cos-inner[:w] (w > 0), first-key";

double factorial(int p) {
  double f = 1.0;
  for (int k = 2; k <= p; ++k) f *= k;
  return f;
}

// Monomial coefficients of He_p / sqrt(p!): a[k] multiplies t^k.
std::vector<double> normalised_hermite_coefficients(int p) {
  std::vector<double> prev{1.0}, cur{0.0, 1.0};
  if (p == 0) return prev;
  for (int k = 1; k < p; ++k) {
    std::vector<double> next(k + 2, 0.0);
    for (int j = 0; j <= k; ++j) next[j + 1] += cur[j];
    for (int j = 0; j < k; ++j) next[j] -= k * prev[j];
    prev = std::move(cur);
    cur = std::move(next);
  }
  const double s = 1.0 / std::sqrt(factorial(p));
  for (double& c : cur) c *= s;
  return cur;
}

double double_factorial_odd(int j) {  // (2j-1)!!, 1 for j = 0
  double f = 1.0;
  for (int i = 1; i <= j; ++i) f *= 2 * i - 1;
  return f;
}

// E (|x_0|^2)^j for x_0 ~ N(0, I/d): E (chi2_d / d)^j = prod_{i<j} (d + 2i) / d.
double chi2_over_d_moment(int d, int j) {
  double m = 1.0;
  for (int i = 0; i < j; ++i) m *= (d + 2.0 * i) / d;
  return m;
}

// Even moments mu[2j] (odd ones zero) of the scalar t entering the polynomial targets.
enum class ScalarLaw { sphere_projection, standard_normal, gaussian_inner };
std::vector<double> scalar_moments(ScalarLaw law, int d, int kmax) {
  std::vector<double> mu(kmax + 1, 0.0);
  for (int k = 0; k <= kmax; k += 2) {
    const int j = k / 2;
    switch (law) {
      case ScalarLaw::sphere_projection: {  // t = sqrt(d) u_1: E u_1^{2j} = prod (1+2i)/(d+2i)
        double m = 1.0;
        for (int i = 0; i < j; ++i) m *= d * (1.0 + 2.0 * i) / (d + 2.0 * i);
        mu[k] = m;
        break;
      }
      case ScalarLaw::standard_normal:
        mu[k] = double_factorial_odd(j);
        break;
      case ScalarLaw::gaussian_inner:  // t = |x_0| Z
        mu[k] = double_factorial_odd(j) * chi2_over_d_moment(d, j);
        break;
    }
  }
  return mu;
}

// Mean and variance of P(t) = sum a_k t^k from the moments of t.
void polynomial_mean_variance(const std::vector<double>& a, const std::vector<double>& mu, double& mean,
                              double& var) {
  mean = 0.0;
  double second = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    mean += a[k] * mu[k];
    for (std::size_t l = 0; l < a.size(); ++l) second += a[k] * a[l] * mu[k + l];
  }
  var = second - mean * mean;
}

// Cov(P(t_1), P(t_2)) for t_i = sqrt(d) <x_0, x_i>, gaussian law: given x_0 the t_i are iid
// N(0, R), R = |x_0|^2, so the covariance is Var_R g(R), g(R) = E[P(sqrt(R) Z)] = sum_j
// a_{2j} (2j-1)!! R^j.
double gaussian_inner_covariance(const std::vector<double>& a, int d) {
  std::vector<double> g;  // coefficients of g in R
  for (std::size_t k = 0; k < a.size(); k += 2) g.push_back(a[k] * double_factorial_odd(static_cast<int>(k / 2)));
  double mean = 0.0, second = 0.0;
  for (std::size_t j = 0; j < g.size(); ++j) {
    mean += g[j] * chi2_over_d_moment(d, static_cast<int>(j));
    for (std::size_t l = 0; l < g.size(); ++l) second += g[j] * g[l] * chi2_over_d_moment(d, static_cast<int>(j + l));
  }
  return second - mean * mean;
}

// E cos(lambda u_1) for u_1 the first coordinate of a uniform point of S^{d-1}: density of the
// angle theta = acos(u_1) is proportional to sin^{d-2}(theta) on [0, pi]; symmetric about pi/2.
double sphere_cos_mean(double lambda, int d) {
  if (d == 1) return std::cos(lambda);
  using boost::math::quadrature::gauss_kronrod;
  const double half_pi = boost::math::constants::half_pi<double>();
  auto weight = [d](double t) { return std::pow(std::sin(t), d - 2); };
  auto integrand = [&](double t) { return std::cos(lambda * std::cos(t)) * weight(t); };
  const double num = gauss_kronrod<double, 61>::integrate(integrand, 0.0, half_pi, 20, 1e-14);
  const double den = gauss_kronrod<double, 61>::integrate(weight, 0.0, half_pi, 20, 1e-14);
  return num / den;
}

int parse_degree(std::string_view name, std::string_view param) {
  int p = 0;
  const auto [ptr, ec] = std::from_chars(param.data(), param.data() + param.size(), p);
  if (param.empty() || ec != std::errc() || ptr != param.data() + param.size() || p < 1 || p > 10)
    throw InputError("target " + std::string(name) + ":p needs an integer degree p in [1, 10], got \"" +
                     std::string(param) + "\"");
  return p;
}

arma::vec unit_vector(Rng& rng, int dim) {
  arma::vec v(dim);
  double n2 = 0.0;
  do {
    for (auto& x : v) x = rng.normal();
    n2 = arma::dot(v, v);
  } while (!(n2 > 0.0));
  return v / std::sqrt(n2);
}

}  // namespace

const char* RfaTarget::valid_names() noexcept { return kValidTargets; }

bool RfaTarget::known_name(std::string_view name) noexcept {
  return name == "inner-poly" || name == "key-poly" || name == "mixed" || name == "cos-inner" || name == "first-key";
}

RfaTarget RfaTarget::parse(std::string_view spec, int d, const AttentionLaw& law, std::uint64_t seed) {
  if (d < 1) throw InputError("target \"" + std::string(spec) + "\" needs dimension d >= 1, got " + std::to_string(d));
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const bool has_param = colon != std::string_view::npos;
  const std::string_view param = has_param ? spec.substr(colon + 1) : std::string_view{};
  RfaTarget t;
  t.d_ = d;
  const bool sphere = law.kind == AttentionLaw::Kind::sphere;

  if (name == "inner-poly" || name == "key-poly" || name == "mixed") {
    if (!has_param) throw InputError("target " + std::string(name) + " needs a degree, e.g. \"" + std::string(name) + ":2\"");
    t.p_ = parse_degree(name, param);
    t.name_ = std::string(name) + ":" + std::to_string(t.p_);
    t.kind_ = name == "inner-poly" ? Kind::inner_poly : name == "key-poly" ? Kind::key_poly : Kind::mixed;
  } else if (name == "cos-inner") {
    t.kind_ = Kind::cos_inner;
    t.w_ = 1.5 * std::sqrt(static_cast<double>(d));
    t.name_ = "cos-inner";
    if (has_param) {
      double w = 0.0;
      const auto [ptr, ec] = std::from_chars(param.data(), param.data() + param.size(), w);
      if (param.empty() || ec != std::errc() || ptr != param.data() + param.size() || !(w > 0.0) || !std::isfinite(w))
        throw InputError("target cos-inner:w needs a finite frequency w > 0, got \"" + std::string(param) + "\"");
      t.w_ = w;
      t.name_ = std::string(spec);
    }
  } else if (name == "first-key") {
    if (has_param) throw InputError("target first-key takes no parameter, got \"" + std::string(spec) + "\"");
    t.kind_ = Kind::first_key;
    t.p_ = 2;
    t.name_ = "first-key";
  } else {
    throw InputError("unknown target \"" + std::string(spec) + "\"; valid: " + kValidTargets);
  }

  // Random ingredients, each from its own named stream.
  if (t.kind_ == Kind::key_poly) {
    Rng rng(derive_seed(seed, {hash_name("key-poly direction")}));
    t.b_ = unit_vector(rng, d);
  }
  if (t.kind_ == Kind::mixed) {
    Rng rng(derive_seed(seed, {hash_name("mixed polynomial")}));
    t.c_query_.set_size(d, kMixedDirections);
    t.c_key_.set_size(d, kMixedDirections);
    t.a_.set_size(kMixedDirections);
    for (int k = 0; k < kMixedDirections; ++k) {
      const arma::vec c = unit_vector(rng, 2 * d);
      t.c_query_.col(k) = c.head(d);
      t.c_key_.col(k) = c.tail(d);
    }
    for (auto& a : t.a_) a = rng.normal();
  }

  // Normalising moments (see header).
  RawMoments& mo = t.moments_;
  switch (t.kind_) {
    case Kind::inner_poly:
    case Kind::key_poly:
    case Kind::first_key: {
      const auto a = normalised_hermite_coefficients(t.p_);
      const ScalarLaw sl = sphere ? ScalarLaw::sphere_projection
                                  : (t.kind_ == Kind::key_poly ? ScalarLaw::standard_normal : ScalarLaw::gaussian_inner);
      polynomial_mean_variance(a, scalar_moments(sl, d, 2 * t.p_), mo.mean, mo.variance);
      // Keys are independent (key-poly), or t_1, t_2 are independent because the law of
      // <x_0, x_i> given x_0 does not depend on x_0 (sphere): c = 0 in both cases.
      mo.covariance = (!sphere && t.kind_ != Kind::key_poly) ? gaussian_inner_covariance(a, d) : 0.0;
      mo.method = "closed form";
      break;
    }
    case Kind::cos_inner: {
      const double w = t.w_;
      if (sphere) {
        mo.mean = sphere_cos_mean(w, d);
        mo.variance = 0.5 * (1.0 + sphere_cos_mean(2.0 * w, d)) - mo.mean * mo.mean;
        mo.covariance = 0.0;
        mo.method = "quadrature";
      } else {
        // u = <x_0, x_i> = (|x_0| / sqrt(d)) Z; E[cos(w u) | x_0] = exp(-w^2 |x_0|^2 / (2d)) and
        // E exp(-s chi2_d) = (1 + 2s)^{-d/2} with |x_0|^2 = chi2_d / d.
        const double dd = d, q = w * w / (dd * dd);
        mo.mean = std::pow(1.0 + q, -dd / 2);
        mo.variance = 0.5 * (1.0 + std::pow(1.0 + 4.0 * q, -dd / 2)) - mo.mean * mo.mean;
        mo.covariance = std::pow(1.0 + 2.0 * q, -dd / 2) - mo.mean * mo.mean;
        mo.method = "closed form";
      }
      break;
    }
    case Kind::mixed: {
      const AttentionInputs mc = law.sample(d, 2, kMonteCarloSamples, derive_seed(seed, {hash_name("target-normalisation")}));
      const arma::mat h = t.per_key(mc);  // n x 2
      mo.mean = arma::accu(h) / h.n_elem;
      const arma::mat c = h - mo.mean;
      mo.variance = arma::accu(c % c) / (h.n_elem - 1.0);
      mo.covariance = arma::dot(c.col(0), c.col(1)) / (h.n_rows - 1.0);
      mo.method = "monte carlo (" + std::to_string(kMonteCarloSamples) + " samples)";
      break;
    }
  }
  // Constant targets (e.g. inner-poly:2 at d = 1 on the sphere, where t = +-1) cannot be
  // normalised; the relative threshold absorbs rounding in the closed forms.
  if (!(mo.variance > 1e-12 * (mo.variance + mo.mean * mo.mean)) || !std::isfinite(mo.variance))
    throw InputError("target \"" + std::string(spec) + "\" is constant under the " + law.name() + " law at d = " +
                     std::to_string(d) + " (variance " + std::to_string(mo.variance) + "); choose another target or d");
  return t;
}

std::string RfaTarget::identity() const {
  if (kind_ != Kind::cos_inner) return name_;  // the others' names are canonical already
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, w_);
  return "cos-inner:" + std::string(buf, r.ptr);
}

double RfaTarget::raw_sd(int N) const {
  if (kind_ == Kind::first_key || N <= 1) return std::sqrt(moments_.variance);
  const double var = moments_.covariance + (moments_.variance - moments_.covariance) / N;
  return std::sqrt(std::max(var, 0.0));
}

arma::mat RfaTarget::per_key(const AttentionInputs& in) const {
  const std::size_t n = in.n();
  const int N = kind_ == Kind::first_key ? 1 : in.N;
  const int d = d_;
  const double sd = std::sqrt(static_cast<double>(d));
  arma::mat h(n, N);
  if (kind_ == Kind::mixed) {
    // Ridge arguments sqrt(d) (<c_k^q, x_0> + <c_k^k, x_i>); plain loops (fixed summation
    // order, no threaded BLAS) so the values do not depend on the thread count.
    const double norm = 1.0 / std::sqrt(factorial(p_));
#pragma omp parallel for schedule(static)
    for (std::size_t s = 0; s < n; ++s) {
      double q[kMixedDirections];
      for (int c = 0; c < kMixedDirections; ++c) {
        const double* cq = c_query_.colptr(c);
        const double* x0 = in.query.colptr(s);
        q[c] = 0.0;
        for (int j = 0; j < d; ++j) q[c] += cq[j] * x0[j];
      }
      for (int i = 0; i < N; ++i) {
        double v = 0.0;
        for (int c = 0; c < kMixedDirections; ++c) {
          const double* ck = c_key_.colptr(c);
          const double* xi = in.keys.colptr(s * in.N + i);
          double kd = 0.0;
          for (int j = 0; j < d; ++j) kd += ck[j] * xi[j];
          v += a_[c] * hermite_he(p_, sd * (q[c] + kd));
        }
        h(s, i) = v * norm;
      }
    }
    return h;
  }
  const double norm = 1.0 / std::sqrt(factorial(p_));
#pragma omp parallel for schedule(static)
  for (std::size_t s = 0; s < n; ++s) {
    const double* x0 = in.query.colptr(s);
    for (int i = 0; i < N; ++i) {
      const double* xi = in.keys.colptr(s * in.N + i);
      const double* u = kind_ == Kind::key_poly ? b_.memptr() : x0;
      double dot = 0.0;
      for (int c = 0; c < d; ++c) dot += u[c] * xi[c];
      h(s, i) = kind_ == Kind::cos_inner ? std::cos(w_ * dot) : norm * hermite_he(p_, sd * dot);
    }
  }
  return h;
}

arma::vec RfaTarget::evaluate(const AttentionInputs& in) const {
  if (in.d != d_)
    throw InputError("target " + name_ + " was built for d = " + std::to_string(d_) + ", the inputs have d = " +
                     std::to_string(in.d));
  if (in.N < 1) throw InputError("target " + name_ + ": inputs need N >= 1 keys, got " + std::to_string(in.N));
  const arma::mat h = per_key(in);
  arma::vec f = arma::mean(h, 1);
  return (f - moments_.mean) / raw_sd(in.N);
}

}  // namespace attnrate
