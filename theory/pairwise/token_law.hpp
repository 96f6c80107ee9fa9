#pragma once
// Token laws of the pairwise-interaction model. Parsed from "NAME[:PARAM]":
//   uniform            X_i iid uniform on [-1, 1]^d (per-coordinate variance 1/3)
//   gaussian           X_i iid N(0, I_d / 3) (same per-coordinate variance as uniform)
//   exchangeable[:rho] X_i = sqrt(1-rho) Z_i + sqrt(rho) S, Z_i and S iid uniform on [-1,1]^d,
//                      S shared by the tokens of one sample (dependent, exchangeable); rho in
//                      [0, 1), default 0.5.
#include <cstddef>
#include <string>
#include <string_view>

#include "estimators/common/random.hpp"

namespace attnrate {

struct TokenLaw {
  enum class Kind { uniform, gaussian, exchangeable };
  Kind kind = Kind::uniform;
  double rho = 0.5;  ///< exchangeable only

  /// Throws InputError for an unknown name or rho outside [0, 1).
  static TokenLaw parse(std::string_view spec);
  std::string name() const;

  /// Draws the N tokens of one sample into `out` (d x N, column-major: token i is
  /// out[i*d .. i*d+d-1]), consuming `rng` in a fixed order.
  void draw_sample(Rng& rng, int N, int d, double* out) const;

  /// draw_sample for `count` samples, sample t from rngs[t] into out + t N d: the same values,
  /// and the same states of the streams afterwards (uniform tokens draw the streams side by side).
  void draw_samples(Rng* rngs, std::size_t count, int N, int d, double* out) const;

  /// n successive draw_sample(rng, 2, d, out + 2 t d), t = 0..n-1: n token pairs from one stream,
  /// the same values (for independent tokens, one run over the stream).
  void draw_pairs(Rng& rng, std::size_t n, int d, double* out) const;
};

}  // namespace attnrate
