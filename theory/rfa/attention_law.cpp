#include "theory/rfa/attention_law.hpp"

#include <cmath>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"

namespace attnrate {

AttentionLaw AttentionLaw::parse(std::string_view spec) {
  AttentionLaw law;
  if (spec == "sphere")
    law.kind = Kind::sphere;
  else if (spec == "gaussian")
    law.kind = Kind::gaussian;
  else
    throw InputError("unknown input law \"" + std::string(spec) + "\"; valid: sphere, gaussian");
  return law;
}

std::string AttentionLaw::name() const { return kind == Kind::sphere ? "sphere" : "gaussian"; }

namespace {

// One token into out[0..d-1].
void draw_token(AttentionLaw::Kind kind, Rng& rng, int d, double* out) {
  if (kind == AttentionLaw::Kind::gaussian) {
    const double sd = 1.0 / std::sqrt(static_cast<double>(d));
    for (int c = 0; c < d; ++c) out[c] = sd * rng.normal();
    return;
  }
  // Normalised Gaussian; a zero vector has probability 0 but is redrawn for safety.
  double norm2 = 0.0;
  do {
    norm2 = 0.0;
    for (int c = 0; c < d; ++c) {
      out[c] = rng.normal();
      norm2 += out[c] * out[c];
    }
  } while (!(norm2 > 0.0));
  const double inv = 1.0 / std::sqrt(norm2);
  for (int c = 0; c < d; ++c) out[c] *= inv;
}

}  // namespace

AttentionInputs AttentionLaw::sample(int d, int N, std::size_t n, std::uint64_t seed) const {
  if (d < 1) throw InputError("input dimension d must be >= 1, got " + std::to_string(d));
  if (N < 1) throw InputError("number of keys N must be >= 1, got " + std::to_string(N));
  if (n < 1) throw InputError("number of samples n must be >= 1, got " + std::to_string(n));
  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query.set_size(d, n);
  in.keys.set_size(d, n * static_cast<std::size_t>(N));
  Rng rng(seed);
  for (std::size_t s = 0; s < n; ++s) {
    draw_token(kind, rng, d, in.query.colptr(s));
    for (int i = 0; i < N; ++i) draw_token(kind, rng, d, in.keys.colptr(s * N + i));
  }
  return in;
}

}  // namespace attnrate
