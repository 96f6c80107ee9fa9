#pragma once
// What the data commands (simulate pairwise|rfa, fit pairwise|rfa) share. Each command is a
// library function taking its Settings (after the command line was applied) and the output path:
// it validates every option before any work, checks the outputs (output.hpp: regular files, not
// an input of the run) and the memory it will need (memory_budget.hpp), does the work, writes its
// files atomically and returns what the CLI prints.
#include <cstdint>
#include <string>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "studies/io/input_file.hpp"
#include "studies/io/settings.hpp"

namespace attnrate {

/// What a command reports: stdout text (ends with a newline) and warnings for stderr.
struct CommandReport {
  std::string message;
  std::vector<std::string> warnings;
};

/// Largest sample count of a command (2^53: counts stay exact in the double memory estimates).
inline constexpr std::uint64_t kMaxSamples = std::uint64_t{1} << 53;

/// `keys` plus the resource options every command has: --max-memory, and with `reads_files`
/// --max-input-size and --max-line-length (the limits of the data files it reads).
std::vector<KeySpec> with_resource_keys(std::vector<KeySpec> keys, bool reads_files);

/// The ReadLimits of --max-input-size and --max-line-length.
ReadLimits read_limits(const Settings& s);

/// work() on data read from `data_path`: an InputError it throws (the data overflow the model:
/// interactions, scores or features that are not finite, named by sample) is raised again with
/// "--data <path>: " in front.
template <class Work>
auto on_data_file(const std::string& data_path, Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const InputError& e) {
    throw InputError("--data " + data_path + ": " + e.what());
  }
}

/// --data-seed of the simulate commands: the seed of the samples, "auto" meaning --seed; another
/// value draws fresh samples of the same `model` (a test set).
KeySpec data_seed_key(const std::string& model);
/// Its value: `seed` for "auto".
std::uint64_t read_data_seed(const Settings& s, std::uint64_t seed);

}  // namespace attnrate
