#include "plots/convergence_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "plots/cell_medians.hpp"
#include "plots/cell_summary.hpp"
#include "plots/figure_checks.hpp"
#include "plots/gnuplot_script.hpp"

namespace attnrate {

namespace {

using Rows = std::vector<std::vector<double>>;

std::string series_name(const ConvergenceSeries& s, std::size_t i) {
  return figure_item_name("convergence series", i, s.label);
}

void validate(const ConvergenceFigure& figure) {
  require_items("convergence", figure.title, figure.series.size(), "series", "ConvergenceSeries");
  for (std::size_t i = 0; i < figure.series.size(); ++i) {
    const ConvergenceSeries& s = figure.series[i];
    const std::string name = series_name(s, i);
    require_loglog_cells(name, s.x, s.y);
    if (!std::isfinite(s.fit_slope) || !std::isfinite(s.fit_intercept))
      throw std::invalid_argument(name + ": fit_slope and fit_intercept must be finite");
    if (s.draw_theory && !std::isfinite(s.theory_slope))
      throw std::invalid_argument(name + ": theory_slope must be finite when draw_theory is set");
    const bool lo_ok = s.fit_x_lo == 0.0 || (std::isfinite(s.fit_x_lo) && s.fit_x_lo > 0.0);
    const bool hi_ok = s.fit_x_hi == 0.0 || (std::isfinite(s.fit_x_hi) && s.fit_x_hi > 0.0);
    if (!lo_ok || !hi_ok || (s.fit_x_lo > 0.0 && s.fit_x_hi > 0.0 && s.fit_x_lo > s.fit_x_hi))
      throw std::invalid_argument(name + ": fit_x_lo and fit_x_hi must be 0 or finite and > 0, lo <= hi");
  }
  require_log_marks("convergence", figure.title, figure.marks_x, "marks_x");
  require_log_marks("convergence", figure.title, figure.marks_y, "marks_y");
}

// exp(log_y0 + slope (log x - log_x0)): a line on log-log axes; it must be drawable at x.
double loglog_line(double log_y0, double slope, double log_x0, double x, const std::string& what) {
  const double v = std::exp(log_y0 + slope * (std::log(x) - log_x0));
  if (!(std::isfinite(v) && v > 0.0))
    throw std::invalid_argument(what + " is not finite and > 0 at x = " + gnuplot_number(x) +
                                " (check fit_intercept and the slopes)");
  return v;
}

}  // namespace

std::string convergence_figure_script(const ConvergenceFigure& figure, const std::string& terminal,
                                      const std::filesystem::path& output) {
  validate(figure);
  ScriptParts parts(terminal, output);
  auto& [out, extent, plot_items] = parts;
  for (std::size_t i = 0; i < figure.series.size(); ++i) {
    const ConvergenceSeries& s = figure.series[i];
    const std::string name = series_name(s, i);
    const std::string id = std::to_string(i);
    const std::string colour = gnuplot_quote(series_colour(i));
    const std::string suffix = s.label.empty() ? "" : " (" + s.label + ")";
    const bool first = (i == 0);

    double mean_log_x = 0.0;
    for (double x : s.x) mean_log_x += std::log(x);
    mean_log_x /= static_cast<double>(s.x.size());
    const auto [xmin, xmax] = std::minmax_element(s.x.begin(), s.x.end());
    out << cells_with_medians(i, s.x, s.y, extent, plot_items);
    // Without a fit line (whose legend names the series), the medians name it.
    const std::string median_title = !s.draw_fit ? " title " + gnuplot_quote("median, interquartile range" + suffix)
                                     : first     ? " title \"median, interquartile range\""
                                                 : " notitle";
    plot_items.push_back("$median" + id + " using 1:2:3:4 with yerrorbars pt 5 ps 1.1 lw 1.5 lc rgb " + colour +
                         median_title);

    if (!s.draw_fit) continue;
    // Fitted line log y = a + b log x over the x range of the cells it was fitted to.
    const double a = s.fit_intercept, b = s.fit_slope;
    const double fit_lo = s.fit_x_lo > 0.0 ? s.fit_x_lo : *xmin, fit_hi = s.fit_x_hi > 0.0 ? s.fit_x_hi : *xmax;
    const Rows fit = {{fit_lo, loglog_line(a, b, 0.0, fit_lo, name + ": the fitted line")},
                      {fit_hi, loglog_line(a, b, 0.0, fit_hi, name + ": the fitted line")}};
    out << gnuplot_datablock("fit" + id, fit);
    extent.cover(fit);
    // Thick translucent band, so a dashed theory line lying on it stays visible.
    plot_items.push_back("$fit" + id + " using 1:2 with lines lw 4 lc rgb " +
                         gnuplot_quote(series_colour_transparent(i, 0xA0)) + " title " +
                         gnuplot_quote("fit slope " + format_slope(b) + suffix));

    if (s.draw_theory) {
      // Slope theory_slope through the fitted line at the geometric mean g of the cells' x, so
      // the picture compares exponents only, not constants.
      const double log_anchor = a + b * mean_log_x;
      const double c = s.theory_slope;
      const Rows theory = {
          {*xmin, loglog_line(log_anchor, c, mean_log_x, *xmin, name + ": the theory line")},
          {*xmax, loglog_line(log_anchor, c, mean_log_x, *xmax, name + ": the theory line")}};
      out << gnuplot_datablock("theory" + id, theory);
      extent.cover(theory);
      const std::string title =
          s.theory_label + " " + format_slope(c) + (figure.series.size() > 1 ? suffix : std::string());
      plot_items.push_back("$theory" + id + " using 1:2 with lines lw 2 dt 2 lc rgb " + colour +
                           " title " + gnuplot_quote(title));
    }
  }

  // Vertical marks from the bottom to the top of the plot, within the data's x range.
  double lo_x = std::numeric_limits<double>::infinity(), hi_x = 0.0;
  for (const ConvergenceSeries& s : figure.series)
    for (double x : s.x) lo_x = std::min(lo_x, x), hi_x = std::max(hi_x, x);
  for (double x : figure.marks_x)
    if (x >= lo_x && x <= hi_x)
      out << "set arrow from " << gnuplot_number(x) << ", graph 0 to " << gnuplot_number(x)
          << ", graph 1 nohead dt 3 lw 2 lc rgb '#555555' back\n";
  // Horizontal marks across the plot; the y range grows to hold them.
  out << horizontal_mark_lines(figure.marks_y, lo_x, extent);
  out << loglog_axes_and_plot(extent, figure.title, figure.note, figure.x_label, figure.y_label, plot_items);
  return out.str();
}

void write_convergence_figure(const ConvergenceFigure& figure, const std::filesystem::path& stem) {
  write_figure_files(figure, stem, "write_convergence_figure", convergence_figure_script);
}

}  // namespace attnrate
