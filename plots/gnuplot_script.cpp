#include "plots/gnuplot_script.hpp"

#include <gnuplot-iostream.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace attnrate {

std::string gnuplot_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '`': out += "\\`"; break;  // gnuplot runs `...` through the shell, even inside "..."
      case '\n': out += "\\n"; break;
      default:
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    }
  }
  out += '"';
  return out;
}

std::string gnuplot_number(double value) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.17g", value);
  return buf.data();
}

std::string format_slope(double slope) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.3f", slope);
  std::string s = buf.data();
  if (s == "-0.000") s = "0.000";  // a slope that rounds to zero has no sign worth showing
  return s;
}

std::string gnuplot_terminal_lines(const std::string& terminal, const std::filesystem::path& output) {
  if (output.empty()) throw std::invalid_argument("gnuplot figure: the output path is empty");
  std::string line;
  if (terminal == "pngcairo") {
    line = "set terminal pngcairo size 1000,700 enhanced font 'DejaVu Sans,11'\n";
  } else if (terminal == "svg") {
    line = "set terminal svg size 1000,700 dynamic enhanced font 'DejaVu Sans,11'\n";
  } else {
    throw std::invalid_argument("gnuplot figure: terminal '" + terminal +
                                "' is not supported; use \"pngcairo\" or \"svg\"");
  }
  return line + "set output " + gnuplot_quote(output.string()) + "\n";
}

std::string gnuplot_datablock(const std::string& name, const std::vector<std::vector<double>>& rows) {
  std::string out = "$" + name + " << EOD\n";
  for (const auto& row : rows) {
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (j) out += ' ';
      out += gnuplot_number(row[j]);
    }
    out += '\n';
  }
  return out + "EOD\n";
}

void DataExtent::cover(const std::vector<std::vector<double>>& rows) {
  for (const auto& r : rows) {
    if (r.empty()) continue;
    if (empty) {
      x_lo = x_hi = r[0];
      y_lo = HUGE_VAL;
      y_hi = -HUGE_VAL;
      empty = false;
    }
    x_lo = std::min(x_lo, r[0]);
    x_hi = std::max(x_hi, r[0]);
    for (std::size_t j = 1; j < r.size(); ++j) {
      y_lo = std::min(y_lo, r[j]);
      y_hi = std::max(y_hi, r[j]);
    }
  }
}

std::string cell_points(std::size_t index, const std::vector<double>& x, const std::vector<double>& y,
                        DataExtent& extent, std::vector<std::string>& plot_items) {
  std::vector<std::vector<double>> cells;
  for (std::size_t k = 0; k < x.size(); ++k) cells.push_back({x[k], y[k]});
  extent.cover(cells);
  const std::string id = "cells" + std::to_string(index);
  plot_items.push_back("$" + id + " using 1:2 with points pt 7 ps 0.6 lc rgb " +
                       gnuplot_quote(series_colour_transparent(index, 0x99)) +
                       (index == 0 ? " title \"cells\"" : " notitle"));
  return gnuplot_datablock(id, cells);
}

std::string horizontal_mark_lines(const std::vector<double>& ys, double x, DataExtent& extent) {
  std::string out;
  for (double y : ys) {
    extent.cover({{x, y}});
    out += "set arrow from graph 0, first " + gnuplot_number(y) + " to graph 1, first " + gnuplot_number(y) +
           " nohead dt 3 lw 2 lc rgb '#555555' back\n";
  }
  return out;
}

std::pair<double, double> padded_log_range(double lo, double hi) {
  const double pad = (hi > lo) ? std::pow(hi / lo, 0.05) : 1.5;
  return {lo / pad, hi * pad};
}

std::pair<double, double> padded_linear_range(double lo, double hi) {
  const double pad = (hi > lo) ? 0.05 * (hi - lo) : 0.5;
  return {lo - pad, hi + pad};
}

std::string log_tics(double lo, double hi) {
  const double decades = std::log10(hi / lo);
  std::vector<int> mantissas = {1};
  if (decades < 1.0) mantissas = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  else if (decades < 3.0) mantissas = {1, 2, 5};
  std::string out = "(";
  bool first = true;
  const int e_lo = static_cast<int>(std::floor(std::log10(lo)));
  const int e_hi = static_cast<int>(std::ceil(std::log10(hi)));
  for (int e = e_lo; e <= e_hi; ++e) {
    for (const int m : mantissas) {
      const double t = m * std::pow(10.0, e);
      if (t < lo || t > hi) continue;
      std::array<char, 32> buf{};
      std::snprintf(buf.data(), buf.size(), "%.6g", t);  // tic values are short decimals
      if (!first) out += ", ";
      out += buf.data();
      first = false;
    }
  }
  return first ? std::string("autofreq") : out + ")";
}

std::string gnuplot_text_lines(const std::string& title, const std::string& note,
                               const std::string& x_label, const std::string& y_label) {
  std::string out = "set title " + gnuplot_quote(title) + " noenhanced font ',14'" +
                    (note.empty() ? "" : " offset 0,1") + "\n";
  if (!note.empty()) {
    out += "set tmargin 5\n";
    out += "set label 1 " + gnuplot_quote(note) +
           " noenhanced at graph 0.5, graph 1.0 offset 0,1.2 center font ',10' textcolor rgb '#444444'\n";
  }
  out += "set xlabel " + gnuplot_quote(x_label) + " noenhanced\n";
  out += "set ylabel " + gnuplot_quote(y_label) + " noenhanced\n";
  return out;
}

namespace {
// Okabe & Ito (2008) colour-blind-safe palette, without yellow (too light on white).
constexpr std::array<const char*, 7> kPalette = {"0072B2", "D55E00", "009E73", "CC79A7",
                                                 "E69F00", "56B4E9", "000000"};

// Single-quoted for /bin/sh: nothing inside is special except the quote itself.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kErrnoTag = "attnrate-gnuplot-errno ";
}  // namespace

std::string series_colour(std::size_t index) {
  return std::string("#") + kPalette[index % kPalette.size()];
}

std::string series_colour_transparent(std::size_t index, unsigned alpha_byte) {
  if (alpha_byte > 0xff) throw std::invalid_argument("series_colour_transparent: alpha_byte > 255");
  std::array<char, 4> aa{};
  std::snprintf(aa.data(), aa.size(), "%02X", alpha_byte);
  return std::string("#") + aa.data() + kPalette[index % kPalette.size()];
}

bool gnuplot_available() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest(path);
  while (true) {
    const auto colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    // POSIX: an empty PATH entry is the current directory.
    const std::filesystem::path candidate =
        (dir.empty() ? std::filesystem::path(".") : std::filesystem::path(dir)) / "gnuplot";
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
      return true;
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
}

bool figure_file_complete(const std::filesystem::path& file) {
  const std::string text = read_text(file);
  const std::string ext = file.extension().string();
  if (ext == ".png") {
    // The 8-byte signature, and last the IEND chunk: length 0, "IEND", its CRC AE 42 60 82.
    static constexpr char signature[] = "\x89PNG\r\n\x1a\n";
    static constexpr char iend[] = "\0\0\0\0IEND\xae\x42\x60\x82";
    return text.size() >= 8 + 12 && text.compare(0, 8, signature, 8) == 0 &&
           text.compare(text.size() - 12, 12, iend, 12) == 0;
  }
  if (ext == ".svg") {
    const auto last = text.find_last_not_of(" \t\r\n");
    return last != std::string::npos && last + 1 >= 6 && text.compare(last + 1 - 6, 6, "</svg>") == 0;
  }
  return !text.empty();
}

namespace {

// The process's umask, read once. Linux gives it in /proc/self/status; umask() can only read it by
// setting it, which would race with the threads that create files (the SVG is drawn beside the
// PNG), so that is the fallback of older kernels only.
mode_t process_umask() {
  static const mode_t mask = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
    const mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }();
  return mask;
}

}  // namespace

void run_gnuplot_script(const std::function<std::string(const std::filesystem::path&)>& script,
                        const std::filesystem::path& output) {
  const std::string name = output.string();
  if (output.empty() || !output.has_filename())
    throw std::invalid_argument("run_gnuplot_script: the output path is empty or a directory");
  if (!gnuplot_available())
    throw std::runtime_error("cannot write " + name +
                             ": no executable 'gnuplot' on PATH (install gnuplot-nox; a study runs without "
                             "figures with --no-figures)");

  std::error_code ec;
  if (output.has_parent_path()) std::filesystem::create_directories(output.parent_path(), ec);
  const std::filesystem::path dir = output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");

  // Temporary files removed on every path, exceptions included: gnuplot's stderr (gnuplot-iostream
  // discards its exit status) and the figure itself, drawn beside `output` and renamed over it
  // only when complete, so a failure never leaves a partial figure in place of the last one.
  struct TempFile {
    std::filesystem::path path;
    TempFile(std::filesystem::path pattern, const std::string& what, bool output) {
      std::string t = pattern.string();
      const int fd = ::mkstemps(t.data(), static_cast<int>(pattern.extension().string().size()));
      if (fd < 0) throw std::runtime_error("cannot write " + what + ": cannot create a temporary file " + t);
      // mkstemps makes the file 0600; the figure gets the mode of every other output (0644 less
      // the umask), or users sharing the folder could not open it.
      if (output) (void)::fchmod(fd, 0644 & ~process_umask());
      ::close(fd);
      path = t;
    }
    ~TempFile() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  };
  const TempFile err(std::filesystem::temp_directory_path() / "attnrate-gnuplot-XXXXXX", name, false);
  const TempFile drawn(dir / ("." + output.filename().string() + ".tmp-XXXXXX" + output.extension().string()), name,
                       true);

  {
    // Scoped: the figure is complete only once gnuplot has exited (pclose in the destructor).
    // "|| true": a failing gnuplot is reported below from its stderr, not by the header's
    // bare "pclose returned error" line.
    Gnuplot gp("gnuplot 2>" + shell_quote(err.path.string()) + " || true");
    const std::string text = script(drawn.path);
    gp << text;
    if (!text.empty() && text.back() != '\n') gp << '\n';
    // gnuplot keeps reading after an error when fed by a pipe; GPVAL_ERRNO tells whether one occurred.
    gp << "unset output\nprint sprintf(\"" << kErrnoTag << "%d\", GPVAL_ERRNO)\n";
  }

  const std::string log = read_text(err.path);
  const auto tag = log.find(kErrnoTag);
  const bool clean = tag != std::string::npos &&
                     std::atoi(log.c_str() + tag + std::char_traits<char>::length(kErrnoTag)) == 0;
  if (!clean) {
    std::string msg = log.substr(0, tag == std::string::npos ? log.size() : tag);
    if (msg.size() > 2000) msg = msg.substr(0, 2000) + " ...";
    throw std::runtime_error("gnuplot failed while writing " + name + ": " +
                             (msg.empty() ? std::string("(no message)") : msg));
  }
  if (std::filesystem::file_size(drawn.path, ec) == 0 || ec)
    throw std::runtime_error("gnuplot did not produce " + name + " (nothing was written to the file it was given)");
  if (!figure_file_complete(drawn.path))
    throw std::runtime_error("gnuplot wrote " + name + " incompletely (" +
                             std::to_string(std::filesystem::file_size(drawn.path, ec)) +
                             " bytes, no end marker): is the disk full or a file size limit set?");
  std::filesystem::rename(drawn.path, output, ec);
  if (ec) throw std::runtime_error("cannot write " + name + ": " + ec.message());
}

std::string loglog_axes_and_plot(const DataExtent& extent, const std::string& title, const std::string& note,
                                 const std::string& x_label, const std::string& y_label,
                                 const std::vector<std::string>& plot_items) {
  std::ostringstream out;
  const auto [lo_x, hi_x] = padded_log_range(extent.x_lo, extent.x_hi);
  const auto [lo_y, hi_y] = padded_log_range(extent.y_lo, extent.y_hi);
  out << gnuplot_text_lines(title, note, x_label, y_label);
  out << "set logscale xy 10\n";
  out << "set xrange [" << gnuplot_number(lo_x) << ":" << gnuplot_number(hi_x) << "]\n";
  out << "set yrange [" << gnuplot_number(lo_y) << ":" << gnuplot_number(hi_y) << "]\n";
  out << "set format x '%g'\nset format y '%g'\n";
  out << "set xtics " << log_tics(lo_x, hi_x) << "\nset ytics " << log_tics(lo_y, hi_y) << '\n';
  out << "set mxtics 10\nset mytics 10\n";
  out << "set grid xtics ytics mxtics mytics lc rgb '#d4d4d4' lw 1, lc rgb '#eeeeee' lw 1\n";
  // Legend below the plot (inside it would hide cells whatever the slopes' signs). Columns that
  // do not fit the 1000-pixel width are clipped by gnuplot, so the number of columns follows the
  // longest entry (about 8 pixels a character at 11 pt, plus the sample line and marker) and rows
  // grow instead.
  std::size_t entries = 0, longest = 0;
  for (const std::string& item : plot_items) {
    const std::size_t t = item.find(" title ");
    if (t == std::string::npos) continue;
    ++entries;
    longest = std::max(longest, item.size() - t - 7);
  }
  const std::size_t columns = std::clamp<std::size_t>(900 / (8 * (longest + 12)), 1, 3);
  const std::size_t key_rows = std::max<std::size_t>(2, (entries + columns - 1) / columns);
  out << "set key below center vertical maxrows " << key_rows << " noenhanced width 1\n";
  out << "set errorbars small\n";
  out << "plot ";
  for (std::size_t j = 0; j < plot_items.size(); ++j) out << (j ? ", \\\n     " : "") << plot_items[j];
  out << '\n';
  return out.str();
}

void write_png_and_svg(const std::filesystem::path& stem, const std::string& writer, const FigureScript& script) {
  if (stem.empty()) throw std::invalid_argument(writer + ": the output stem is empty");
  std::filesystem::path png = stem, svg = stem;
  png += ".png";
  svg += ".svg";
  // Two gnuplot processes at once: a figure is drawn after its study's cells, when the other
  // cores are idle. Each script is built on its own thread from the same const figure.
  const auto for_terminal = [&script](const char* terminal) {
    return [&script, terminal](const std::filesystem::path& file) { return script(terminal, file); };
  };
  auto svg_done = std::async(std::launch::async, [&] { run_gnuplot_script(for_terminal("svg"), svg); });
  try {
    run_gnuplot_script(for_terminal("pngcairo"), png);
  } catch (...) {
    svg_done.wait();  // never leave the other process writing after an error is reported
    throw;
  }
  svg_done.get();
}

}  // namespace attnrate
