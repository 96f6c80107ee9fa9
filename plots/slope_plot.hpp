#pragma once
// Slope-vs-smoothness figure: the fitted convergence exponent with its confidence
// interval at each smoothness b, against the minimax exponent -2b/(2b+1); PNG and SVG via gnuplot.
#include <filesystem>
#include <string>
#include <vector>

namespace attnrate {

/// One fitted slope (of log error on log size) at smoothness b, with its confidence interval.
struct SlopePoint {
  double b = 0.0;      ///< smoothness (> 0)
  double slope = 0.0;  ///< fitted slope
  double ci_lo = 0.0;  ///< confidence interval, ci_lo <= slope <= ci_hi
  double ci_hi = 0.0;
};

struct SlopeSeries {
  std::string label;               ///< legend text, e.g. "t-interval" or "d = 5"
  std::vector<SlopePoint> points;
};

/// The dashed reference curve against b.
enum class SlopeReference {
  minimax,   ///< -2b/(2b+1): the rate's exponent (points are fitted slopes)
  identity,  ///< b: for estimates of b itself (points are b_hat)
};

struct SlopeFigure {
  std::string title;
  std::string x_label = "smoothness b";
  std::string y_label = "fitted slope of log error vs log M";
  std::string note;                ///< small text under the title
  std::vector<SlopeSeries> series;
  bool draw_theory = true;         ///< the reference curve, dashed black
  SlopeReference reference = SlopeReference::minimax;
  std::string point_name = "fitted slope";  ///< legend: "<point_name>, CI (<series label>)"
};

/// The theory curve: the exponent of the minimax rate M^{-2b/(2b+1)} of the error.
double minimax_slope(double b);

/// Writes stem.png and stem.svg: per series, points at (b, slope) with CI bars (series dodged
/// sideways by 1.2% of the b range each so bars do not overlap; the data keep the true b), and
/// the dashed reference curve (-2b/(2b+1) or b) sampled at 201 points over [min b, max b]
/// (padded by 5%, clamped at 0). Linear axes. Throws std::invalid_argument for an empty figure, a series
/// without points, or a point with b not finite and > 0, non-finite numbers or a CI not
/// containing its slope; std::runtime_error naming the file when gnuplot fails (see
/// plots/gnuplot_script.hpp).
void write_slope_figure(const SlopeFigure& figure, const std::filesystem::path& stem);

/// The gnuplot script (inline data) sent for one terminal ("pngcairo" or "svg") and output path:
/// datablocks $slopesI (b slope ci_lo ci_hi) per series I and $theory (b, the reference at b).
std::string slope_figure_script(const SlopeFigure& figure, const std::string& terminal,
                                const std::filesystem::path& output);

}  // namespace attnrate
