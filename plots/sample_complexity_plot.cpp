#include "plots/sample_complexity_plot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "plots/cell_medians.hpp"
#include "plots/cell_summary.hpp"
#include "plots/figure_checks.hpp"
#include "plots/gnuplot_script.hpp"

namespace attnrate {

namespace {

void validate(const SampleComplexityFigure& figure) {
  require_items("sample-complexity", figure.title, figure.curves.size(), "curves", "SampleComplexityCurve");
  for (std::size_t i = 0; i < figure.curves.size(); ++i) {
    const SampleComplexityCurve& c = figure.curves[i];
    require_loglog_cells(figure_item_name("sample-complexity curve", i, c.label), c.n, c.error);
  }
  require_log_marks("sample-complexity", figure.title, figure.marks_y, "marks_y");
  for (std::size_t i = 0; i < figure.curves.size(); ++i) {
    const SampleComplexityCurve& c = figure.curves[i];
    if (std::isnan(c.n_eps)) continue;
    const std::string name = figure_item_name("sample-complexity curve", i, c.label);
    if (!(std::isfinite(c.n_eps) && c.n_eps > 0))
      throw std::invalid_argument(name + ": n_eps must be finite and > 0 (NaN: no marker), got " + gnuplot_number(c.n_eps));
    if (!(std::isfinite(figure.eps) && figure.eps > 0))
      throw std::invalid_argument(name + ": an n_eps marker needs the figure's eps finite and > 0, got " +
                                  gnuplot_number(figure.eps));
  }
}

}  // namespace

std::string sample_complexity_figure_script(const SampleComplexityFigure& figure,
                                            const std::string& terminal,
                                            const std::filesystem::path& output) {
  validate(figure);
  ScriptParts parts(terminal, output);
  auto& [out, extent, plot_items] = parts;
  for (std::size_t i = 0; i < figure.curves.size(); ++i) {
    const SampleComplexityCurve& c = figure.curves[i];
    const std::string id = std::to_string(i);
    out << cells_with_medians(i, c.n, c.error, extent, plot_items);
    const std::string label = c.label.empty() ? "curve " + id : c.label;
    plot_items.push_back("$median" + id + " using 1:2:3:4 with yerrorlines pt 5 ps 1.1 lw 2 lc rgb " +
                         gnuplot_quote(series_colour(i)) + " title " +
                         gnuplot_quote("median, IQR: " + label));
  }

  // The n_eps markers, after the curves so that they stand on top; one legend entry for all.
  bool marker_titled = false;
  for (std::size_t i = 0; i < figure.curves.size(); ++i) {
    const SampleComplexityCurve& c = figure.curves[i];
    if (std::isnan(c.n_eps)) continue;
    const std::string id = "neps" + std::to_string(i);
    out << gnuplot_datablock(id, {{c.n_eps, figure.eps}});
    extent.cover({{c.n_eps, figure.eps}});
    plot_items.push_back("$" + id + " using 1:2 with points pt " + (c.n_eps_censored ? "8" : "6") +
                         " ps 2.5 lw 2 lc rgb " + gnuplot_quote(series_colour(i)) +
                         (marker_titled ? " notitle" : " title \"n_eps (triangle: censored)\""));
    marker_titled = true;
  }
  out << horizontal_mark_lines(figure.marks_y, extent.empty ? 1.0 : extent.x_lo, extent);
  out << loglog_axes_and_plot(extent, figure.title, figure.note, figure.x_label, figure.y_label, plot_items);
  return out.str();
}

void write_sample_complexity_figure(const SampleComplexityFigure& figure, const std::filesystem::path& stem) {
  write_figure_files(figure, stem, "write_sample_complexity_figure", sample_complexity_figure_script);
}

}  // namespace attnrate
