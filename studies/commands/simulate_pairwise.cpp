#include "studies/commands/simulate_pairwise.hpp"

#include <nlohmann/json.hpp>

#include "estimators/common/random.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/sweep/study.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

std::vector<KeySpec> simulate_pairwise_keys() {
  return with_resource_keys(
      {
          token_law_key(),
          tokens_per_sample_key("8"),
          token_dimension_key("5"),
          interaction_rank_key("2"),
          {"sigma", "0.5", "noise standard deviation (>= 0)"},
          activation_key("weierstrass:1"),
          {"M", "2000", "number of samples (2..2^53, within --max-memory)"},
          {"seed", "7", "seed of the model (A) and the data"},
          data_seed_key("model"),
      },
      false);
}

PairwiseSimulation simulate_pairwise_draws(const Settings& s, const std::string& command) {
  const PairwiseModelSpec spec = read_pairwise_model_spec(s);
  const std::uint64_t M = s.get_size("M", 2, kMaxSamples);
  const std::uint64_t seed = s.get_seed("seed");
  const std::uint64_t data_seed = read_data_seed(s, seed);
  MemoryEstimate need;
  need.add("tokens and outputs of M x N = " + std::to_string(M) + " x " + std::to_string(spec.N) + " in d = " +
               std::to_string(spec.d),
           8.0 * (spec.d + 1) * static_cast<double>(M) * spec.N);
  need.check(memory_budget(s), command, "lower --M, --N or --d");

  const std::uint64_t model_seed = derive_seed(seed, {hash_name("model")});
  PairwiseSimulation sim{PairwiseModel(spec, model_seed), {}, seed, model_seed, data_seed};
  PairwiseData& data = sim.data;
  data.N = spec.N;
  data.d = spec.d;
  data.M = M;
  data.X.set_size(spec.d, M * spec.N);
  data.Y.set_size(M * spec.N);
  sim.model.draw_samples(derive_seed(data_seed, {hash_name("data")}), 0, M, data.X.memptr(), data.Y.memptr());
  return sim;
}

CommandReport simulate_pairwise(const Settings& s, const std::filesystem::path& out) {
  const std::filesystem::path a_path = sidecar_path(out, ".A.csv"), truth_path = sidecar_path(out, ".truth.json");
  check_outputs({{"--out", out}, {"--out (A beside it)", a_path}, {"--out (truth beside it)", truth_path}}, {});
  const PairwiseSimulation sim = simulate_pairwise_draws(s);
  const PairwiseModel& model = sim.model;
  const PairwiseData& data = sim.data;
  const PairwiseModelSpec& spec = model.spec();
  const std::uint64_t M = data.M, seed = sim.seed, model_seed = sim.model_seed, data_seed = sim.data_seed;
  const InterruptsDeferred one_set;  // data, A and truth: never half of them
  write_pairwise_csv(out, data);
  write_matrix_csv(a_path, model.A());
  nlohmann::json truth;
  truth["kind"] = "pairwise-truth";  // what attnrate score --truth reads
  truth["model"] = "Y_i = 1/(N-1) sum_{j != i} phi(X_i^T A X_j) + eta_i, eta_i ~ N(0, sigma^2)";
  truth["g"] = "g(x, y) = phi(x^T A y): phi = Activation::parse(activation, activation_seed), A in " +
               a_path.filename().string();
  truth["activation"] = model.phi().name();
  truth["activation_seed"] = model_seed;
  truth["A"] = a_path.filename().string();  // beside the truth file
  truth["data"] = out.filename().string();
  truth["tokens"] = spec.tokens;
  truth["N"] = spec.N;
  truth["d"] = spec.d;
  truth["r"] = spec.r;
  truth["sigma"] = spec.sigma;
  truth["M"] = M;
  truth["seed"] = seed;
  truth["data_seed"] = data_seed;
  truth["build"] = build_info();
  write_file_atomic(truth_path, truth.dump(2) + "\n");
  return {"wrote " + out.string() + " (" + std::to_string(M) + " samples x " + std::to_string(spec.N) +
              " tokens, d = " + std::to_string(spec.d) + "), " + a_path.string() + " (A) and " + truth_path.string() +
              " (activation and seeds)\n",
          {}};
}

}  // namespace attnrate
