#pragma once
// Shared pieces of the gnuplot figures in plots/: literal text quoting, number formatting,
// headless terminal set-up, series colours, and running a finished script through gnuplot
// (via gnuplot-iostream) with the checks gnuplot-iostream itself does not make.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnrate {

/// `text` as a gnuplot double-quoted string literal that gnuplot reproduces verbatim: backslash,
/// double quote and backquote are escaped (a backquote would otherwise run a shell command),
/// '\n' becomes gnuplot's newline escape, other control characters become spaces. Enhanced-text
/// markup is switched off where the literal is used (the `noenhanced` keyword), not here.
std::string gnuplot_quote(std::string_view text);

/// Shortest round-trip decimal form of a finite double ("%.17g"), for inline data: the plotted
/// values are exactly the computed ones.
std::string gnuplot_number(double value);

/// Slope for legends: fixed 3 decimals ("-0.664"); -0.0 is printed as "0.000".
std::string format_slope(double slope);

/// The opening lines of every figure script: `set terminal` for "pngcairo"
/// (size 1000,700, DejaVu Sans 11) or "svg" (size 1000,700, dynamic) and `set output`.
/// Throws std::invalid_argument for any other terminal name or an empty output path.
std::string gnuplot_terminal_lines(const std::string& terminal, const std::filesystem::path& output);

/// A gnuplot datablock "$name << EOD" ... "EOD", one row per line, values by gnuplot_number,
/// separated by single spaces. Inline data keep each script self-contained.
std::string gnuplot_datablock(const std::string& name, const std::vector<std::vector<double>>& rows);

/// Smallest and largest x (first column) and y (every other column) over datablock rows; the
/// plots set their axis ranges from it (gnuplot's autoscale on log axes jumps to whole decades).
struct DataExtent {
  double x_lo = 0.0, x_hi = 0.0, y_lo = 0.0, y_hi = 0.0;
  bool empty = true;
  void cover(const std::vector<std::vector<double>>& rows);
};

/// What a figure's script is built from: its text so far (starting with the terminal lines),
/// the extent of the data it holds, and its plot items (joined into the final `plot` command).
/// A figure writer binds the parts by name: `auto& [out, extent, plot_items] = parts;`.
struct ScriptParts {
  ScriptParts(const std::string& terminal, const std::filesystem::path& output) {
    out << gnuplot_terminal_lines(terminal, output);
  }
  std::ostringstream out;
  DataExtent extent;
  std::vector<std::string> plot_items;
};

/// The cells of series `index` as light markers in its colour: the datablock $cells<index>
/// (x y) into the returned script text, its plot item appended to `plot_items` (the first
/// series' item carries the legend entry "cells"), and `extent` grown to cover the cells.
std::string cell_points(std::size_t index, const std::vector<double>& x, const std::vector<double>& y,
                        DataExtent& extent, std::vector<std::string>& plot_items);

/// A dotted grey line across the plot at each level of `ys` (e.g. the error level eps), and
/// `extent` grown to hold the levels (at abscissa x, inside the data's x range).
std::string horizontal_mark_lines(const std::vector<double>& ys, double x, DataExtent& extent);

/// [lo, hi] (0 < lo <= hi) widened on a log axis by 5% of its log-width at each end, or by a
/// factor 1.5 when lo == hi.
std::pair<double, double> padded_log_range(double lo, double hi);

/// [lo, hi] widened on a linear axis by 5% of its width at each end, or by 0.5 (absolute) when
/// lo == hi.
std::pair<double, double> padded_linear_range(double lo, double hi);

/// Argument of `set xtics` for a log axis over [lo, hi] (0 < lo < hi): an explicit list of the
/// decades, plus multiples 2 and 5 below 3 decades of span, or 2..9 below one decade (so a short
/// range still gets labelled tics); "autofreq" if no such value falls in [lo, hi].
std::string log_tics(double lo, double hi);

/// Title, optional note (smaller, grey, just under the title) and axis labels, all drawn
/// literally (`noenhanced`: a label such as "b_1" must not become a subscript).
/// The end of a log-log figure script: titles, log axes over the padded data extent with decade
/// tics and a grid, the legend below the plot (at most 3 columns, so rows grow), and the plot
/// command joining `plot_items`.
std::string loglog_axes_and_plot(const DataExtent& extent, const std::string& title, const std::string& note,
                                 const std::string& x_label, const std::string& y_label,
                                 const std::vector<std::string>& plot_items);

std::string gnuplot_text_lines(const std::string& title, const std::string& note,
                               const std::string& x_label, const std::string& y_label);

/// Colour of series `index` as "#RRGGBB" (colour-blind-safe Okabe-Ito palette, cycling after 7),
/// and the same colour with transparency alpha_byte (gnuplot "#AARRGGBB", 00 opaque, FF invisible).
std::string series_colour(std::size_t index);
std::string series_colour_transparent(std::size_t index, unsigned alpha_byte);

/// Whether an executable file named `gnuplot` is found in a directory of $PATH.
bool gnuplot_available();

/// Whether a figure file is whole: a PNG has its signature and ends with the IEND chunk, an SVG
/// ends with </svg> (then white space only); another file is not empty. A write cut short (a
/// full disk, a file size limit) fails it.
bool figure_file_complete(const std::filesystem::path& file);

/// Draws `output` with a fresh gnuplot process (gnuplot-iostream pipe) fed `script(file)`, the
/// script writing to `file`, a temporary file beside `output` (its parent directory is created if
/// missing), and renames that over `output` once gnuplot has exited without an error and the
/// file is complete. Otherwise `output` is left as it was and std::runtime_error naming it is
/// thrown: gnuplot not on PATH, an error gnuplot reported (its GPVAL_ERRNO, with its stderr in
/// the message), a missing or empty file, or an incomplete one (figure_file_complete).
void run_gnuplot_script(const std::function<std::string(const std::filesystem::path&)>& script,
                        const std::filesystem::path& output);

/// The script of a figure for a gnuplot terminal and output file.
using FigureScript = std::function<std::string(const std::string& terminal, const std::filesystem::path& output)>;
/// Writes <stem>.png (pngcairo) and <stem>.svg with run_gnuplot_script, the two gnuplot processes
/// at once (`script` is called from two threads, so it must only read shared state); returns when
/// both have finished, rethrowing the PNG's error first. Throws
/// std::invalid_argument "<writer>: the output stem is empty" before anything else.
void write_png_and_svg(const std::filesystem::path& stem, const std::string& writer, const FigureScript& script);

/// write_png_and_svg for a figure type and its script function, e.g.
/// write_figure_files(figure, stem, "write_slope_figure", slope_figure_script). The script
/// validates the figure, so nothing is touched for an invalid one.
template <class Figure>
void write_figure_files(const Figure& figure, const std::filesystem::path& stem, const std::string& writer,
                        std::string (*script)(const Figure&, const std::string&, const std::filesystem::path&)) {
  write_png_and_svg(stem, writer, [&figure, script](const std::string& terminal, const std::filesystem::path& output) {
    return script(figure, terminal, output);
  });
}

}  // namespace attnrate
