#pragma once
// Convergence figures (SPEC §6): log-log error vs size, written as PNG and SVG with gnuplot
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
};

struct ConvergenceFigure {
  std::string title;
  std::string x_label = "M (samples)";
  std::string y_label = "composed L2(rho) error";
  std::string note;                  ///< small text under the title (e.g. tolerance, verdict)
  std::vector<ConvergenceSeries> series;
};

/// Writes stem.png and stem.svg. For each series: the cells (light markers), the median per
/// distinct x with interquartile bars, the fitted line with its slope in the legend
/// ("fit slope -0.664"), and the dashed theory line ("theory -0.667"). Throws
/// std::runtime_error naming the file when gnuplot is not installed or an output file was not
/// produced (gnuplot-iostream itself reports neither).
void write_convergence_figure(const ConvergenceFigure& figure, const std::filesystem::path& stem);

/// The gnuplot script (with inline data) that write_convergence_figure sends for one terminal
/// ("pngcairo" or "svg") and output path; exposed so tests can check it without gnuplot.
std::string convergence_figure_script(const ConvergenceFigure& figure, const std::string& terminal,
                                      const std::filesystem::path& output);

/// Whether a usable gnuplot binary is on PATH.
bool gnuplot_available();

}  // namespace attnrate
