#pragma once
// Convergence figures: log-log error vs size, written as PNG and SVG with gnuplot
// (pngcairo / svg terminals, headless) through gnuplot-iostream.
#include <filesystem>
#include <string>
#include <vector>

namespace attnrate {

/// One curve of a convergence figure: its cells, its fitted line and its theory slope.
struct ConvergenceSeries {
  std::string label;                 ///< legend text, e.g. "weierstrass:1" or "d = 5"
  std::vector<double> x, y;          ///< one point per cell (x > 0, y > 0); drawn as light markers
  double fit_slope = 0.0;            ///< fitted line log y = fit_intercept + fit_slope log x (natural logs)
  double fit_intercept = 0.0;
  double theory_slope = 0.0;         ///< dashed line with this slope, through the fitted line at the geometric mean of x
  bool draw_theory = true;
  /// Legend word before the dashed line's slope: "theory" where a claim judges the series against
  /// it, e.g. "rate -2b/(2b+1), not judged:" where the line is only a reference.
  std::string theory_label = "theory";
  /// false: no fitted line and no theory line (for a quantity that converges to a level rather
  /// than following a power law).
  bool draw_fit = true;
  /// The x range the fitted line spans: that of the cells the fit used (e.g. only those above a
  /// knee). 0 (the default) stands for the smallest or largest x of the series.
  double fit_x_lo = 0.0, fit_x_hi = 0.0;
};

struct ConvergenceFigure {
  std::string title;
  std::string x_label = "M (samples)";
  std::string y_label = "composed L2(rho) error";
  std::string note;                  ///< small text under the title (e.g. tolerance, verdict)
  std::vector<ConvergenceSeries> series;
  /// x positions marked by a dotted vertical line across the plot (e.g. a predicted knee); each
  /// finite and > 0 (log axis). Not drawn outside the range of the data.
  std::vector<double> marks_x;
  /// y levels marked by a dotted horizontal line (e.g. a claim's threshold); each finite and > 0.
  std::vector<double> marks_y;
};

/// Writes stem.png and stem.svg. For each series: the cells (light markers), the median per
/// distinct x with interquartile bars, the fitted line with its slope in the legend
/// ("fit slope -0.664"), and the dashed theory line ("theory -0.667"). Throws
/// std::runtime_error naming the file when gnuplot is not installed or an output file was not
/// produced (gnuplot-iostream itself reports neither).
/// Details: axes are log10-log10 with ranges fitted to everything drawn; medians and quartiles
/// are per distinct x (type-7 quantiles, plots/cell_summary.hpp); the geometric mean is over
/// all cells of the series; the fit and theory lines span [min x, max x]; titles, labels and
/// note are drawn literally (quotes, backslashes, backquotes escaped, no enhanced-text markup);
/// series get distinct colours (plots/gnuplot_script.hpp). An empty figure, a series without
/// cells, mismatched x/y, a cell with x or y not finite and > 0, or non-finite fit/theory
/// numbers throw std::invalid_argument before any file is touched.
void write_convergence_figure(const ConvergenceFigure& figure, const std::filesystem::path& stem);

/// The gnuplot script (with inline data) that write_convergence_figure sends for one terminal
/// ("pngcairo" or "svg") and output path; exposed so tests can check it without gnuplot.
/// Datablocks $cellsI (x y), $medianI (x median q1 q3), $fitI and $theoryI (two rows: min x
/// and max x) for series I = 0, 1, ..., then the settings and one `plot` command. Same
/// std::invalid_argument checks as above, plus an unknown terminal or empty output path.
std::string convergence_figure_script(const ConvergenceFigure& figure, const std::string& terminal,
                                      const std::filesystem::path& output);

/// Whether a usable gnuplot binary is on PATH.
bool gnuplot_available();

}  // namespace attnrate
