#include "studies/commands/command.hpp"

#include "studies/io/byte_size.hpp"

namespace attnrate {

std::vector<KeySpec> with_resource_keys(std::vector<KeySpec> keys, bool reads_files) {
  keys.push_back({"max-memory", "auto",
                  "memory budget, e.g. 8G (auto: 3/4 of physical memory); larger runs are refused before they start",
                  "SIZE|auto"});
  if (reads_files) {
    keys.push_back({"max-input-size", byte_size_text(kDataReadLimits.max_bytes),
                    "largest data or A file read (suffixes K, M, G, T)", "SIZE"});
    keys.push_back({"max-line-length", byte_size_text(kDataReadLimits.max_line_bytes), "longest line of a data or A file", "SIZE"});
  }
  return keys;
}

ReadLimits read_limits(const Settings& s) {
  return {s.get_bytes("max-input-size"), s.get_bytes("max-line-length")};
}

KeySpec data_seed_key(const std::string& model) {
  return {"data-seed", "auto",
          "seed of the samples (auto: --seed); another value draws fresh samples of the same " + model + " (a test set)",
          "INT|auto"};
}

std::uint64_t read_data_seed(const Settings& s, std::uint64_t seed) {
  return s.raw("data-seed") == "auto" ? seed : s.get_seed("data-seed");
}

}  // namespace attnrate
