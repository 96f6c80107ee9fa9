#include "plots/cell_medians.hpp"

#include "plots/cell_summary.hpp"

namespace attnrate {

std::string cells_with_medians(std::size_t index, const std::vector<double>& x, const std::vector<double>& y,
                               DataExtent& extent, std::vector<std::string>& plot_items) {
  std::string text = cell_points(index, x, y, extent, plot_items);
  std::vector<std::vector<double>> medians;
  for (const CellSummary& c : summarise_cells(x, y)) medians.push_back({c.x, c.median, c.q1, c.q3});
  return text + gnuplot_datablock("median" + std::to_string(index), medians);
}

}  // namespace attnrate
