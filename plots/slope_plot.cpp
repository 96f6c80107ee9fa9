#include "plots/slope_plot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "plots/figure_checks.hpp"
#include "plots/gnuplot_script.hpp"

namespace attnrate {

double minimax_slope(double b) { return -2.0 * b / (2.0 * b + 1.0); }

namespace {

using Rows = std::vector<std::vector<double>>;

void validate(const SlopeFigure& figure) {
  require_items("slope", figure.title, figure.series.size(), "series", "SlopeSeries");
  for (std::size_t i = 0; i < figure.series.size(); ++i) {
    const SlopeSeries& s = figure.series[i];
    const std::string name = figure_item_name("slope series", i, s.label);
    if (s.points.empty()) throw std::invalid_argument(name + ": no points");
    for (std::size_t k = 0; k < s.points.size(); ++k) {
      const SlopePoint& p = s.points[k];
      std::ostringstream where;
      where << name << ": point " << k << " (b = " << p.b << ", slope = " << p.slope << ", CI ["
            << p.ci_lo << ", " << p.ci_hi << "])";
      if (!(std::isfinite(p.b) && p.b > 0.0))
        throw std::invalid_argument(where.str() + ": b must be finite and > 0");
      if (!std::isfinite(p.slope) || !std::isfinite(p.ci_lo) || !std::isfinite(p.ci_hi))
        throw std::invalid_argument(where.str() + ": slope and CI must be finite");
      if (!(p.ci_lo <= p.slope && p.slope <= p.ci_hi))
        throw std::invalid_argument(where.str() + ": the CI must contain the slope");
    }
  }
}

}  // namespace

std::string slope_figure_script(const SlopeFigure& figure, const std::string& terminal,
                                const std::filesystem::path& output) {
  validate(figure);
  ScriptParts parts(terminal, output);
  auto& [out, extent, plot_items] = parts;
  std::vector<Rows> blocks;
  for (const SlopeSeries& s : figure.series) {
    Rows rows;
    for (const SlopePoint& p : s.points) rows.push_back({p.b, p.slope, p.ci_lo, p.ci_hi});
    extent.cover(rows);
    blocks.push_back(std::move(rows));
  }
  const auto [lo_x, hi_x] = padded_linear_range(extent.x_lo, extent.x_hi);
  const double width = hi_x - lo_x;

  for (std::size_t i = 0; i < blocks.size(); ++i)
    out << gnuplot_datablock("slopes" + std::to_string(i), blocks[i]);
  if (figure.draw_theory) {
    const double t_lo = std::max(lo_x, 0.0), t_hi = hi_x;
    Rows theory;
    constexpr int kSamples = 201;
    for (int k = 0; k < kSamples; ++k) {
      const double b = t_lo + (t_hi - t_lo) * k / (kSamples - 1.0);
      theory.push_back({b, figure.reference == SlopeReference::minimax ? minimax_slope(b) : b});
    }
    out << gnuplot_datablock("theory", theory);
    extent.cover(theory);
  }
  const auto [lo_y, hi_y] = padded_linear_range(extent.y_lo, extent.y_hi);

  out << gnuplot_text_lines(figure.title, figure.note, figure.x_label, figure.y_label);
  out << "set xrange [" << gnuplot_number(lo_x) << ":" << gnuplot_number(hi_x) << "]\n";
  out << "set yrange [" << gnuplot_number(lo_y) << ":" << gnuplot_number(hi_y) << "]\n";
  out << "set grid xtics ytics lc rgb '#d4d4d4' lw 1\n";
  out << "set key below center vertical maxrows "
      << std::max<std::size_t>(2, (figure.series.size() + 3) / 3) << " noenhanced width 1\n";
  out << "set errorbars small\n";
  const std::size_t n = blocks.size();
  for (std::size_t i = 0; i < n; ++i) {
    // Sideways dodge so the CI bars of several series at the same b stay apart.
    const double dodge = (static_cast<double>(i) - 0.5 * static_cast<double>(n - 1)) * 0.012 * width;
    const std::string& label = figure.series[i].label;
    plot_items.push_back(std::string("$slopes") + std::to_string(i) + " using ($1+(" + gnuplot_number(dodge) +
                         ")):2:3:4 with yerrorbars pt 7 ps 1.2 lw 1.5 lc rgb " + gnuplot_quote(series_colour(i)) +
                         " title " +
                         gnuplot_quote(figure.point_name + ", CI" + (label.empty() ? "" : " (" + label + ")")));
  }
  if (figure.draw_theory)
    plot_items.push_back("$theory using 1:2 with lines lw 2 dt 2 lc rgb '#000000' title " +
                         gnuplot_quote(figure.reference == SlopeReference::minimax ? "theory -2b/(2b+1)" : "b_hat = b"));
  out << "plot ";
  for (std::size_t k = 0; k < plot_items.size(); ++k) out << (k ? ", \\\n     " : "") << plot_items[k];
  out << '\n';
  return out.str();
}

void write_slope_figure(const SlopeFigure& figure, const std::filesystem::path& stem) {
  write_figure_files(figure, stem, "write_slope_figure", slope_figure_script);
}

}  // namespace attnrate
