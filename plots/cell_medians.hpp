#pragma once
// The cells of one series of a sweep figure with their medians, as the convergence and the
// sample-complexity figures draw them before their own lines and markers.
#include <cstddef>
#include <string>
#include <vector>

#include "plots/gnuplot_script.hpp"

namespace attnrate {

/// The datablocks $cells<index> (cell_points: light markers, their plot item appended to
/// `plot_items`, `extent` grown to cover them) and $median<index> (x median q1 q3 per distinct x)
/// as script text. The caller adds the plot item of $median<index> in its own style.
std::string cells_with_medians(std::size_t index, const std::vector<double>& x, const std::vector<double>& y,
                               DataExtent& extent, std::vector<std::string>& plot_items);

}  // namespace attnrate
