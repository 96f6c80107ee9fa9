#include "studies/commands/simulate_rfa.hpp"

#include <limits>
#include <sstream>

#include "estimators/common/random.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/rfa/rfa_options.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/rfa_targets.hpp"

namespace attnrate {

std::vector<KeySpec> simulate_rfa_keys() {
  return with_resource_keys(
      {
          {"n", "2000", "number of samples (2..2^53, within --max-memory)"},
          {"N", "8", "keys per sample (1..100000)"},
          {"d", "8", "token dimension (1..100000)"},
          {"target", "key-poly:2", "target: inner-poly:p | key-poly:p | mixed:p | cos-inner[:w] | first-key"},
          inputs_key(),
          target_noise_key(),
          {"seed", "7", "seed of the inputs, the target's random directions and the noise"},
      },
      false);
}

CommandReport simulate_rfa(const Settings& s, const std::filesystem::path& out) {
  const std::uint64_t n = s.get_size("n", 2, kMaxSamples);
  const int N = s.get_count("N", 1, 100000);
  const int d = s.get_count("d", 1, 100000);
  const double sigma_eps = s.get_double("sigma", 0.0, 1e6);
  const std::uint64_t seed = s.get_seed("seed");
  const AttentionLaw law = s.get_parsed("inputs", AttentionLaw::parse);
  check_outputs({{"--out", out}}, {});
  // The drawn inputs and the long table each hold n (N + 1) tokens.
  MemoryEstimate need;
  need.add("inputs and table of n x (N + 1) = " + std::to_string(n) + " x " + std::to_string(N + 1) +
               " tokens in d = " + std::to_string(d),
           8.0 * static_cast<double>(n) * (N + 1) * (2.0 * d + 2));
  need.check(memory_budget(s), "simulate rfa", "lower --n, --N or --d");

  const RfaTarget target = s.get_parsed(
      "target", [&](const std::string& t) { return RfaTarget::parse(t, d, law, derive_seed(seed, {hash_name("target")})); });
  const AttentionInputs in = law.sample(d, N, n, derive_seed(seed, {hash_name("inputs")}));
  arma::vec y = target.evaluate(in);
  Rng noise(derive_seed(seed, {hash_name("noise")}));
  for (auto& v : y) v += sigma_eps * noise.normal();
  LongTable t;
  t.T = N + 1;
  t.d = d;
  t.M = n;
  t.X.set_size(d, n * (N + 1));
  t.Y.set_size(n * (N + 1));
  for (std::size_t m = 0; m < n; ++m) {
    t.X.col(m * (N + 1)) = in.query.col(m);
    t.Y[m * (N + 1)] = y[m];
    for (int i = 0; i < N; ++i) {
      t.X.col(m * (N + 1) + 1 + i) = in.keys.col(m * N + i);
      t.Y[m * (N + 1) + 1 + i] = y[m];
    }
  }
  write_long_csv(out, "key", t);
  std::ostringstream m;
  m << "wrote " << out.string() << " (" << n << " samples, query + " << N << " keys, d = " << d << ", target "
    << target.name() << ", sigma_eps " << sigma_eps << ")\n";
  return {m.str(), {}};
}

}  // namespace attnrate
