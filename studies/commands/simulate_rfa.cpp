#include "studies/commands/simulate_rfa.hpp"

#include <limits>
#include <sstream>

#include "estimators/common/random.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/rfa/rfa_common.hpp"
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
          {"target", "key-poly:2", "target: inner-poly:p | key-poly:p | mixed:p | cos-inner[:w] | first-key | first-key-poly:p"},
          inputs_key(),
          target_noise_key(),
          {"seed", "7", "seed of the target's random directions, and of the inputs and the noise unless --data-seed"},
          data_seed_key("target"),
      },
      false);
}

AttentionSimulation simulate_rfa_draws(const Settings& s, const std::string& command) {
  const std::uint64_t n = s.get_size("n", 2, kMaxSamples);
  const int N = s.get_count("N", 1, 100000);
  const int d = s.get_count("d", 1, 100000);
  AttentionSimulation sim;
  sim.sigma = s.get_double("sigma", 0.0, 1e6);
  const std::uint64_t seed = s.get_seed("seed");
  const std::uint64_t data_seed = read_data_seed(s, seed);
  const AttentionLaw law = s.get_parsed("inputs", AttentionLaw::parse);
  // The drawn inputs and a written table each hold n (N + 1) tokens.
  MemoryEstimate need;
  need.add("inputs and table of n x (N + 1) = " + std::to_string(n) + " x " + std::to_string(N + 1) +
               " tokens in d = " + std::to_string(d),
           8.0 * static_cast<double>(n) * (N + 1) * (2.0 * d + 2));
  need.check(memory_budget(s), command, "lower --n, --N or --d");

  // The studies' targets, first-key-poly:p included (the others are RfaTarget's, same values).
  const StudyTarget target = s.get_parsed(
      "target", [&](const std::string& t) { return StudyTarget(t, d, law, derive_seed(seed, {hash_name("target")})); });
  sim.target = target.name();
  sim.inputs = law.sample(d, N, n, derive_seed(data_seed, {hash_name("inputs")}));
  sim.y = target.evaluate(sim.inputs);
  Rng noise(derive_seed(data_seed, {hash_name("noise")}));
  for (auto& v : sim.y) v += sim.sigma * noise.normal();
  return sim;
}

CommandReport simulate_rfa(const Settings& s, const std::filesystem::path& out) {
  check_outputs({{"--out", out}}, {});
  const AttentionSimulation sim = simulate_rfa_draws(s);
  const AttentionInputs& in = sim.inputs;
  const arma::vec& y = sim.y;
  const std::size_t n = in.n();
  const int N = in.N, d = in.d;
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
    << sim.target << ", sigma_eps " << sim.sigma << ")\n";
  return {m.str(), {}};
}

}  // namespace attnrate
