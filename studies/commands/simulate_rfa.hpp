#pragma once
// `attnrate simulate rfa`: attention inputs (a query and N keys per sample) and a target.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "estimators/random_features/attention_inputs.hpp"
#include "studies/commands/command.hpp"

namespace attnrate {

/// Its options: n, N, d, target, inputs, sigma, seed, data-seed, --max-memory.
std::vector<KeySpec> simulate_rfa_keys();

/// What simulate rfa draws: n samples of a query and N keys (from derive_seed(data_seed,
/// "inputs")), and y, the target (its random directions from derive_seed(seed, "target")) plus
/// noise sigma (from derive_seed(data_seed, "noise")); data_seed is --data-seed, by default --seed.
struct AttentionSimulation {
  AttentionInputs inputs;
  arma::vec y;
  std::string target;  ///< the target's canonical name
  double sigma = 0;
};

/// The draws of simulate rfa from its settings, without writing: options read and checked and
/// the memory weighed (InputError, naming `command`) before any work. The Python module's
/// simulate_rfa is this function.
AttentionSimulation simulate_rfa_draws(const Settings& s, const std::string& command = "simulate rfa");

/// Draws n samples and writes them to `out` in the long format with index "key" (key 0 the
/// query; y, the target plus noise, repeated on every row of its sample). Refuses (InputError)
/// bad options, an output that is not a regular file, and sizes beyond the memory budget, before
/// any work.
CommandReport simulate_rfa(const Settings& s, const std::filesystem::path& out);

}  // namespace attnrate
