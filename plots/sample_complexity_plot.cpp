#include "plots/sample_complexity_plot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "plots/cell_summary.hpp"
#include "plots/gnuplot_script.hpp"

namespace attnrate {

namespace {

using Rows = std::vector<std::vector<double>>;

std::string curve_name(const SampleComplexityCurve& c, std::size_t i) {
  return "sample-complexity curve " + std::to_string(i) + (c.label.empty() ? "" : " ('" + c.label + "')");
}

void validate(const SampleComplexityFigure& figure) {
  if (figure.curves.empty())
    throw std::invalid_argument("sample-complexity figure '" + figure.title +
                                "': no curves to draw (add at least one SampleComplexityCurve)");
  for (std::size_t i = 0; i < figure.curves.size(); ++i)
    require_loglog_cells(curve_name(figure.curves[i], i), figure.curves[i].n, figure.curves[i].error);
  for (double y : figure.marks_y)
    if (!(std::isfinite(y) && y > 0.0))
      throw std::invalid_argument("sample-complexity figure '" + figure.title + "': marks_y must be finite and > 0, got " +
                                  gnuplot_number(y));
}

}  // namespace

std::string sample_complexity_figure_script(const SampleComplexityFigure& figure,
                                            const std::string& terminal,
                                            const std::filesystem::path& output) {
  validate(figure);
  std::ostringstream out;
  out << gnuplot_terminal_lines(terminal, output);

  DataExtent extent;
  std::vector<std::string> plot_items;
  for (std::size_t i = 0; i < figure.curves.size(); ++i) {
    const SampleComplexityCurve& c = figure.curves[i];
    const std::string id = std::to_string(i);
    Rows cells;
    for (std::size_t k = 0; k < c.n.size(); ++k) cells.push_back({c.n[k], c.error[k]});
    out << gnuplot_datablock("cells" + id, cells);
    extent.cover(cells);
    Rows medians;
    for (const CellSummary& s : summarise_cells(c.n, c.error)) medians.push_back({s.x, s.median, s.q1, s.q3});
    out << gnuplot_datablock("median" + id, medians);

    plot_items.push_back("$cells" + id + " using 1:2 with points pt 7 ps 0.6 lc rgb " +
                         gnuplot_quote(series_colour_transparent(i, 0x99)) +
                         (i == 0 ? " title \"cells\"" : " notitle"));
    const std::string label = c.label.empty() ? "curve " + id : c.label;
    plot_items.push_back("$median" + id + " using 1:2:3:4 with yerrorlines pt 5 ps 1.1 lw 2 lc rgb " +
                         gnuplot_quote(series_colour(i)) + " title " +
                         gnuplot_quote("median, IQR: " + label));
  }

  for (double y : figure.marks_y) {
    extent.cover({{extent.empty ? 1.0 : extent.x_lo, y}});  // keep the line inside the axes
    out << "set arrow from graph 0, first " << gnuplot_number(y) << " to graph 1, first " << gnuplot_number(y)
        << " nohead dt 3 lw 2 lc rgb '#555555' back\n";
  }
  out << loglog_axes_and_plot(extent, figure.title, figure.note, figure.x_label, figure.y_label, plot_items);
  return out.str();
}

void write_sample_complexity_figure(const SampleComplexityFigure& figure,
                                    const std::filesystem::path& stem) {
  if (stem.empty())
    throw std::invalid_argument("write_sample_complexity_figure: the output stem is empty");
  validate(figure);
  std::filesystem::path png = stem, svg = stem;
  png += ".png";
  svg += ".svg";
  run_gnuplot_script(sample_complexity_figure_script(figure, "pngcairo", png), png);
  run_gnuplot_script(sample_complexity_figure_script(figure, "svg", svg), svg);
}

}  // namespace attnrate
