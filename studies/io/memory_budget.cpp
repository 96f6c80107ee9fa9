#include "studies/io/memory_budget.hpp"

#include <unistd.h>

#include <limits>

#include "estimators/common/input_error.hpp"
#include "studies/io/byte_size.hpp"
#include "studies/io/settings.hpp"

namespace attnrate {

std::uint64_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
}

MemoryBudget default_memory_budget() {
  const std::uint64_t physical = physical_memory();
  if (physical == 0) return {std::numeric_limits<double>::infinity(), "physical memory unknown", ""};
  return {0.75 * static_cast<double>(physical),
          "3/4 of the " + format_bytes(static_cast<double>(physical)) + " of physical memory", ""};
}

MemoryBudget memory_budget(const Settings& s, const std::string& key) {
  const std::string raise = "raise --" + key;
  if (s.raw(key) != "auto") return {static_cast<double>(s.get_bytes(key)), "--" + key + " " + s.raw(key), raise};
  MemoryBudget b = default_memory_budget();
  b.origin = "--" + key + " auto: " + b.origin;
  b.raise = raise;
  return b;
}

double MemoryEstimate::total() const {
  double sum = 0;
  for (const auto& item : items_) sum += item.second;
  return sum;
}

void MemoryEstimate::check(const MemoryBudget& budget, const std::string& command, const std::string& remedy) const {
  if (!(total() > budget.bytes)) return;
  std::string parts;
  for (const auto& [what, bytes] : items_)
    if (bytes > 0) parts += (parts.empty() ? "" : "; ") + what + ": " + format_bytes(bytes);
  throw InputError(command + " needs about " + format_bytes(total()) + " of memory (" + parts +
                   "), more than the budget of " + format_bytes(budget.bytes) + " (" + budget.origin + "); " + remedy +
                   (budget.raise.empty() ? "" : ", or " + budget.raise));
}

}  // namespace attnrate
