#include "studies/pairwise/pairwise_options.hpp"

namespace attnrate {
namespace {

std::string help(const std::string& what, const std::string& detail, const std::string& range) {
  return what + (detail.empty() ? "" : " " + detail) + " (" + range + ")";
}

}  // namespace

KeySpec token_law_key(const std::string& default_value) {
  return {"tokens", default_value, "token law: uniform | gaussian | exchangeable[:rho]"};
}

KeySpec tokens_per_sample_key(const std::string& default_value, const std::string& detail) {
  return {"N", default_value, help("tokens per sample", detail, "2..100000")};
}

KeySpec token_dimension_key(const std::string& default_value, const std::string& detail) {
  return {"d", default_value, help("token dimension", detail, "1..100000")};
}

KeySpec interaction_rank_key(const std::string& default_value, const std::string& detail) {
  return {"r", default_value, help("rank of A", detail, "1 <= r <= d")};
}

KeySpec activation_key(const std::string& default_value) {
  return {"activation", default_value, "phi: bspline:P | weierstrass:b | kink:b | tanh | softplus | gelu | exp"};
}

KeySpec test_pairs_key(const std::string& default_value) {
  return {"test-pairs", default_value, "fresh pairs for the composed L2(rho) error (1000..10^9)"};
}

void read_token_shape(const Settings& s, PairwiseModelSpec& spec) {
  spec.N = static_cast<int>(s.get_int("N", 2, 100000));
  spec.d = static_cast<int>(s.get_int("d", 1, 100000));
  spec.r = static_cast<int>(s.get_int("r", 1, spec.d));
}

}  // namespace attnrate
