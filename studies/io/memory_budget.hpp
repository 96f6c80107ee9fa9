#pragma once
// Memory checks before allocation: a command estimates what a run needs from its sizes and
// refuses it (InputError naming --max-memory and the sizes to lower) when the estimate exceeds
// the budget, instead of failing with std::bad_alloc minutes later or driving the machine into
// swap. Estimates are in double, so products of hostile sizes cannot overflow.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnrate {

class Settings;

/// Physical memory in bytes (sysconf), 0 when unknown.
std::uint64_t physical_memory();

struct MemoryBudget {
  double bytes = 0;    ///< infinity: no limit known
  std::string origin;  ///< "--max-memory 8G" or "--max-memory auto: 3/4 of physical memory"
  /// How the caller raises the budget ("raise --max-memory"); empty where it cannot (the Python
  /// estimators, which take no budget).
  std::string raise = "raise --max-memory";
};

/// Setting `key` ("max-memory"): "auto" is default_memory_budget(), anything else a byte size
/// (byte_size.hpp).
MemoryBudget memory_budget(const Settings& s, const std::string& key = "max-memory");

/// 3/4 of physical memory (no limit when unknown), its origin in words ("3/4 of the 23.5 GiB of
/// physical memory") and nothing to raise: the budget of a caller without a budget option (the
/// Python estimators).
MemoryBudget default_memory_budget();

/// What a run needs, item by item ("Gram matrices for K = 400 pieces", bytes).
class MemoryEstimate {
 public:
  void add(std::string what, double bytes) { items_.emplace_back(std::move(what), bytes); }
  double total() const;
  /// Throws InputError "<command> needs about X of memory (items), more than the budget Y
  /// (origin); <remedy>, or <budget.raise>" when total() > budget.bytes.
  void check(const MemoryBudget& budget, const std::string& command, const std::string& remedy) const;

 private:
  std::vector<std::pair<std::string, double>> items_;
};

}  // namespace attnrate
