#pragma once
// `attnrate simulate pairwise`: data from the pairwise-interaction model with a drawn A.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "studies/commands/command.hpp"
#include "studies/io/pairwise_data.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

/// Its options: the model (tokens, N, d, r, sigma, activation), M, seed, data-seed, --max-memory.
std::vector<KeySpec> simulate_pairwise_keys();

/// What simulate pairwise draws: the model (A and phi from model_seed = derive_seed(seed,
/// "model")) and M samples (from derive_seed(data_seed, "data")).
struct PairwiseSimulation {
  PairwiseModel model;
  PairwiseData data;
  std::uint64_t seed = 0, model_seed = 0, data_seed = 0;
};

/// The draws of simulate pairwise from its settings, without writing: options read and checked
/// and the memory weighed (InputError, naming `command` in the memory message) before any work.
/// The Python module's simulate_pairwise is this function.
PairwiseSimulation simulate_pairwise_draws(const Settings& s, const std::string& command = "simulate pairwise");

/// Draws the model from --seed and M samples from --data-seed (default: --seed; the same --seed
/// with another --data-seed gives fresh samples of the same model), and writes the data CSV to
/// `out`, A to `<stem>.A.csv` and what recomputes g(x, y) = phi(x^T A y) and the token law
/// (activation, the seed of its coefficients, the model options; score.hpp read_truth reads it)
/// to `<stem>.truth.json` beside it (sidecar_path), so two simulations in one folder keep their
/// own A. Refuses (InputError) bad options, output targets
/// that are not regular files, and sizes beyond the memory budget, before any work.
CommandReport simulate_pairwise(const Settings& s, const std::filesystem::path& out);

}  // namespace attnrate
