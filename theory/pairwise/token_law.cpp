#include "theory/pairwise/token_law.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "estimators/common/input_error.hpp"

namespace attnrate {

TokenLaw TokenLaw::parse(std::string_view spec) {
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  TokenLaw law;
  if (name == "uniform" || name == "gaussian") {
    if (colon != std::string_view::npos)
      throw InputError("token law " + std::string(name) + " takes no parameter, got '" + std::string(spec) + "'");
    law.kind = name == "uniform" ? Kind::uniform : Kind::gaussian;
    return law;
  }
  if (name == "exchangeable") {
    law.kind = Kind::exchangeable;
    if (colon != std::string_view::npos) {
      const std::string_view t = spec.substr(colon + 1);
      double rho = 0.0;
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), rho);
      if (ec != std::errc() || ptr != t.data() + t.size() || !(rho >= 0.0 && rho < 1.0))
        throw InputError("exchangeable:rho needs rho in [0, 1), got '" + std::string(t) + "'");
      law.rho = rho;
    }
    return law;
  }
  throw InputError("unknown token law '" + std::string(spec) + "'; valid: uniform, gaussian, exchangeable[:rho]");
}

std::string TokenLaw::name() const {
  switch (kind) {
    case Kind::uniform:
      return "uniform";
    case Kind::gaussian:
      return "gaussian";
    case Kind::exchangeable: {
      std::ostringstream s;
      s << "exchangeable:" << rho;
      return s.str();
    }
  }
  return "?";
}

void TokenLaw::draw_sample(Rng& rng, int N, int d, double* out) const {
  const std::size_t n = static_cast<std::size_t>(N) * d;
  switch (kind) {
    case Kind::uniform:
      for (std::size_t k = 0; k < n; ++k) out[k] = rng.uniform(-1.0, 1.0);
      break;
    case Kind::gaussian: {
      const double sd = 1.0 / std::sqrt(3.0);
      for (std::size_t k = 0; k < n; ++k) out[k] = sd * rng.normal();
      break;
    }
    case Kind::exchangeable: {
      double shared[64];
      std::vector<double> big;
      double* s = shared;
      if (d > 64) {
        big.resize(d);
        s = big.data();
      }
      const double a = std::sqrt(1.0 - rho), b = std::sqrt(rho);
      for (int c = 0; c < d; ++c) s[c] = rng.uniform(-1.0, 1.0);
      for (std::size_t k = 0; k < n; ++k) out[k] = a * rng.uniform(-1.0, 1.0) + b * s[k % d];
      break;
    }
  }
}

void TokenLaw::draw_samples(Rng* rngs, std::size_t count, int N, int d, double* out) const {
  const std::size_t n = static_cast<std::size_t>(N) * d;
  if (kind == Kind::uniform) return uniform_streams(rngs, count, n, -1.0, 1.0, out, n);
  for (std::size_t t = 0; t < count; ++t) draw_sample(rngs[t], N, d, out + t * n);
}

void TokenLaw::draw_pairs(Rng& rng, std::size_t n, int d, double* out) const {
  // Independent tokens draw the same numbers in one run as pair by pair; exchangeable ones share
  // a draw per call, so their pairs go one at a time.
  if (kind != Kind::exchangeable && 2 * n <= static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return draw_sample(rng, static_cast<int>(2 * n), d, out);
  for (std::size_t t = 0; t < n; ++t) draw_sample(rng, 2, d, out + t * 2 * static_cast<std::size_t>(d));
}

}  // namespace attnrate
