#pragma once
// `attnrate simulate rfa`: attention inputs (a query and N keys per sample) and a target.
#include <filesystem>
#include <vector>

#include "studies/commands/command.hpp"

namespace attnrate {

/// Its options: n, N, d, target, inputs, sigma, seed, --max-memory.
std::vector<KeySpec> simulate_rfa_keys();

/// Draws n samples and writes them to `out` in the long format with index "key" (key 0 the
/// query; y, the target plus noise, repeated on every row of its sample). Refuses (InputError)
/// bad options, an output that is not a regular file, and sizes beyond the memory budget, before
/// any work.
CommandReport simulate_rfa(const Settings& s, const std::filesystem::path& out);

}  // namespace attnrate
