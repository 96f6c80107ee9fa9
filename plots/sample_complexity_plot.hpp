#pragma once
// Sample-complexity figure (e.g. RFA vs RF-MLP): test error against the number of
// training samples n, several curves, log-log; PNG and SVG via gnuplot.
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace attnrate {

/// One curve: one point per cell (several seeds per n allowed).
struct SampleComplexityCurve {
  std::string label;                 ///< legend text, e.g. "RFA, M = 64" or "RF-MLP"
  std::vector<double> n, error;      ///< n > 0, error > 0 (finite)
  /// The curve's sample complexity at the figure's eps (e.g. the geometric mean of n_eps over
  /// repetitions), drawn as a large open marker in the curve's colour at (n_eps, eps); NaN: none.
  double n_eps = std::numeric_limits<double>::quiet_NaN();
  /// Some repetition's n_eps is censored (eps not crossed inside the n grid): a triangle marker.
  bool n_eps_censored = false;

  /// Adds the cell (n, error) when error > 0: a zero error cannot stand on the log axis.
  void add(double n_cell, double error_cell) {
    if (error_cell > 0) n.push_back(n_cell), error.push_back(error_cell);
  }
};

struct SampleComplexityFigure {
  std::string title;
  std::string x_label = "n (training samples)";
  std::string y_label = "test excess risk / Var f*";
  std::string note;                  ///< small text under the title
  std::vector<SampleComplexityCurve> curves;
  /// Error levels marked by a dotted horizontal line (e.g. the eps that defines n_eps); each
  /// finite and > 0 (log axis).
  std::vector<double> marks_y;
  /// The error level of the curves' n_eps markers: finite and > 0 when a curve has an n_eps.
  double eps = std::numeric_limits<double>::quiet_NaN();

  /// Adds the curve unless it has no cells.
  void add_curve(SampleComplexityCurve curve) {
    if (!curve.n.empty()) curves.push_back(std::move(curve));
  }
};

/// Writes stem.png and stem.svg: per curve (distinct colours), the cells as light markers, the
/// median per distinct n with interquartile bars, joined by a line (the legend entry), and the
/// n_eps marker when the curve has one.
/// Log10-log10 axes fitted to the data. Throws std::invalid_argument for an empty figure, a curve
/// without cells, mismatched lengths or a value not finite and > 0; std::runtime_error naming
/// the file when gnuplot fails (see plots/gnuplot_script.hpp).
void write_sample_complexity_figure(const SampleComplexityFigure& figure,
                                    const std::filesystem::path& stem);

/// The gnuplot script (inline data) for one terminal ("pngcairo" or "svg") and output path:
/// datablocks $cellsI (n error) and $medianI (n median q1 q3) per curve I, and $nepsI (n_eps
/// eps) per curve I with an n_eps.
std::string sample_complexity_figure_script(const SampleComplexityFigure& figure,
                                            const std::string& terminal,
                                            const std::filesystem::path& output);

}  // namespace attnrate
