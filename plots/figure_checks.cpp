#include "plots/figure_checks.hpp"

#include <cmath>
#include <stdexcept>

#include "plots/gnuplot_script.hpp"

namespace attnrate {

std::string figure_item_name(const std::string& kind, std::size_t index, const std::string& label) {
  std::string name = kind;
  name.append(" ").append(std::to_string(index));
  if (!label.empty()) name.append(" ('").append(label).append("')");
  return name;
}

void require_items(const std::string& figure, const std::string& title, std::size_t count, const std::string& items,
                   const std::string& item_type) {
  if (count > 0) return;
  std::string m = figure;
  m.append(" figure '").append(title).append("': no ").append(items).append(" to draw (add at least one ");
  throw std::invalid_argument(m.append(item_type).append(")"));
}

void require_log_marks(const std::string& figure, const std::string& title, const std::vector<double>& marks,
                       const std::string& field) {
  for (double v : marks)
    if (!(std::isfinite(v) && v > 0.0)) {
      std::string m = figure;
      m.append(" figure '").append(title).append("': ").append(field).append(" must be finite and > 0, got ");
      throw std::invalid_argument(m.append(gnuplot_number(v)));
    }
}

}  // namespace attnrate
