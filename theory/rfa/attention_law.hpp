#pragma once
// Input law of the random-feature attention experiments: n iid samples, each a query
// x_0 and N keys x_1..x_N, all N+1 tokens iid. Parsed from a name:
//   sphere    uniform on the unit sphere S^{d-1} (default): a standard normal vector divided by
//             its norm. Then sqrt(d) <u, x> has mean 0 and variance 1 for any unit u.
//   gaussian  N(0, I_d / d): E|x|^2 = 1, the same second moments as `sphere`, and sqrt(d) <u, x>
//             is exactly N(0, 1) for any unit u.
// The constant-1 augmentation xt = [x; 1] is applied by the models, not stored here.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "estimators/random_features/attention_inputs.hpp"

namespace attnrate {

struct AttentionLaw {
  enum class Kind { sphere, gaussian };
  Kind kind = Kind::sphere;

  /// Throws InputError naming the valid laws for anything but "sphere" or "gaussian".
  static AttentionLaw parse(std::string_view spec);
  std::string name() const;

  /// Draws n samples from Rng(seed). Order: sample 0 (x_0, then x_1..x_N, each token's d
  /// coordinates in turn), then sample 1, ...; sequential, so the result depends only on
  /// (law, d, N, n, seed). Throws InputError unless d >= 1, N >= 1 and n >= 1.
  AttentionInputs sample(int d, int N, std::size_t n, std::uint64_t seed) const;
};

}  // namespace attnrate
