// Figures: script content (terminals, log axes, legends, inline data, theory anchor), text
// escaping, per-x quartiles, input rejection, and real PNG/SVG files when gnuplot is installed.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "plots/cell_summary.hpp"
#include "plots/convergence_plot.hpp"
#include "plots/gnuplot_script.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "plots/slope_plot.hpp"

#include "tests/lib/temp_dir.hpp"

using namespace attnrate;
using attnrate::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Rows = std::vector<std::vector<double>>;

// Rows of datablock $name in a script (parsed independently of the writer's helpers).
Rows datablock_rows(const std::string& script, const std::string& name) {
  const std::string head = "$" + name + " << EOD\n";
  const auto start = script.find(head);
  if (start == std::string::npos) throw std::runtime_error("no datablock " + name);
  const auto body = start + head.size();
  const auto end = script.find("\nEOD\n", body - 1);
  std::istringstream lines(script.substr(body, end + 1 - body));
  Rows rows;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::vector<double> row;
    for (double v; fields >> v;) row.push_back(v);
    rows.push_back(row);
  }
  return rows;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


// Deterministic cells: y = 3 M^{-2/3} times a spread that differs per replicate.
ConvergenceSeries example_series(const std::string& label, double scale) {
  ConvergenceSeries s;
  s.label = label;
  const std::vector<double> factors = {0.8, 1.1, 0.95, 1.3};
  for (double m : {50.0, 100.0, 200.0, 400.0, 800.0})
    for (double f : factors) {
      s.x.push_back(m);
      s.y.push_back(scale * 3.0 * std::pow(m, -2.0 / 3.0) * f);
    }
  s.fit_slope = -0.66431;
  s.fit_intercept = std::log(3.0 * scale) + 0.01;
  s.theory_slope = -2.0 / 3.0;
  return s;
}

ConvergenceFigure example_figure() {
  ConvergenceFigure f;
  f.title = "Pairwise LSE, weierstrass:1";
  f.note = "tolerance 0.05: consistent";
  f.series.push_back(example_series("weierstrass:1", 1.0));
  return f;
}

bool is_png(const fs::path& p) {
  const std::string bytes = read_file(p);
  return bytes.size() > 8 && bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0;
}

}  // namespace

TEST_CASE("gnuplot_quote escapes quotes, backslashes, backquotes and newlines", "[plots]") {
  CHECK(gnuplot_quote("plain") == "\"plain\"");
  CHECK(gnuplot_quote("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(gnuplot_quote("a\\b") == "\"a\\\\b\"");
  CHECK(gnuplot_quote("`rm -rf x`") == "\"\\`rm -rf x\\`\"");
  CHECK(gnuplot_quote("two\nlines") == "\"two\\nlines\"");
  CHECK(gnuplot_quote(std::string("tab\there", 8)) == "\"tab here\"");

  if (gnuplot_available()) {
    // gnuplot itself must read each literal back as the original text.
    TempDir dir("quote");
    const std::vector<std::string> texts = {"it's \"quoted\"", "back\\slash", "`echo injected`",
                                            "b_1 ^2 {x} @y &z"};
    std::string script;
    for (const auto& t : texts) script += "print " + gnuplot_quote(t) + "\n";
    std::ofstream(dir.dir / "q.gp") << script;
    const std::string cmd = "gnuplot '" + (dir.dir / "q.gp").string() + "' 2> '" +
                            (dir.dir / "q.out").string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::string expected;
    for (const auto& t : texts) expected += t + "\n";
    CHECK(read_file(dir.dir / "q.out") == expected);
  }
}

TEST_CASE("format_slope prints three decimals", "[plots]") {
  CHECK(format_slope(-0.66431) == "-0.664");
  CHECK(format_slope(-2.0 / 3.0) == "-0.667");
  CHECK(format_slope(0.5) == "0.500");
  CHECK(format_slope(-0.0004) == "0.000");
  CHECK(format_slope(-1.2345) == "-1.234");  // -1.2345 is stored just below, so it rounds down
}

TEST_CASE("type-7 quantiles and per-x summaries match hand computation", "[plots]") {
  // {4,1,3,2}: sorted 1 2 3 4, h = 3p: p=.25 -> 1 + .75*(2-1); p=.5 -> 2.5; p=.75 -> 3.25.
  CHECK(cell_quantile({4, 1, 3, 2}, 0.25) == Approx(1.75).epsilon(1e-15));
  CHECK(cell_quantile({4, 1, 3, 2}, 0.5) == Approx(2.5).epsilon(1e-15));
  CHECK(cell_quantile({4, 1, 3, 2}, 0.75) == Approx(3.25).epsilon(1e-15));
  CHECK(cell_quantile({4, 1, 3, 2}, 0.0) == 1.0);
  CHECK(cell_quantile({4, 1, 3, 2}, 1.0) == 4.0);
  CHECK(cell_quantile({7.5}, 0.3) == 7.5);
  // Five values: h = 4p is an integer at the quartiles, so they are order statistics.
  CHECK(cell_quantile({10, 50, 20, 40, 30}, 0.25) == 20.0);
  CHECK(cell_quantile({10, 50, 20, 40, 30}, 0.75) == 40.0);
  CHECK_THROWS_AS(cell_quantile({}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(cell_quantile({1.0}, 1.5), std::invalid_argument);

  const auto s = summarise_cells({200, 100, 200, 100, 100}, {1, 3, 5, 1, 2});
  REQUIRE(s.size() == 2);
  CHECK(s[0].x == 100);
  CHECK(s[0].count == 3);
  CHECK(s[0].median == 2.0);
  CHECK(s[0].q1 == 1.5);
  CHECK(s[0].q3 == 2.5);
  CHECK(s[1].x == 200);
  CHECK(s[1].median == 3.0);
  CHECK(s[1].q1 == 2.0);
  CHECK(s[1].q3 == 4.0);
  CHECK_THROWS_AS(summarise_cells({1, 2}, {1}), std::invalid_argument);
}

TEST_CASE("convergence script: terminals, output, log axes, legend texts", "[plots]") {
  const ConvergenceFigure fig = example_figure();
  const std::string png = convergence_figure_script(fig, "pngcairo", "/tmp/out dir/fig.png");
  CHECK(png.rfind("set terminal pngcairo size 1000,700 enhanced font 'DejaVu Sans,11'\n", 0) == 0);
  CHECK(contains(png, "set output \"/tmp/out dir/fig.png\"\n"));
  CHECK(contains(png, "set logscale xy"));
  CHECK(contains(png, "title \"fit slope -0.664 (weierstrass:1)\""));
  CHECK(contains(png, "title \"theory -0.667\""));
  CHECK(contains(png, " dt "));  // the theory line is dashed
  CHECK(contains(png, "with yerrorbars"));
  CHECK(contains(png, "set title \"Pairwise LSE, weierstrass:1\""));
  CHECK(contains(png, "\"tolerance 0.05: consistent\""));
  CHECK(contains(png, "set xlabel \"M (samples)\""));
  CHECK(contains(png, "set ylabel \"composed L2(rho) error\""));
  CHECK(!contains(png, "'-'"));  // datablocks only: nothing is read after the plot command

  const std::string svg = convergence_figure_script(fig, "svg", "fig.svg");
  CHECK(svg.rfind("set terminal svg size 1000,700 dynamic enhanced", 0) == 0);
  CHECK(contains(svg, "set output \"fig.svg\"\n"));

  CHECK_THROWS_AS(convergence_figure_script(fig, "x11", "fig.png"), std::invalid_argument);
  CHECK_THROWS_AS(convergence_figure_script(fig, "pngcairo", ""), std::invalid_argument);

  ConvergenceFigure quoted = fig;
  quoted.title = "He said \"go\" `date`";
  quoted.series[0].label = "b_1 \"x\"";
  const std::string q = convergence_figure_script(quoted, "pngcairo", "f.png");
  CHECK(contains(q, "set title \"He said \\\"go\\\" \\`date\\`\""));
  CHECK(contains(q, "title \"fit slope -0.664 (b_1 \\\"x\\\")\""));
}

TEST_CASE("convergence script: inline data, medians, fitted line and theory anchor", "[plots]") {
  const ConvergenceFigure fig = example_figure();
  const ConvergenceSeries& s = fig.series[0];
  const std::string script = convergence_figure_script(fig, "pngcairo", "f.png");

  const Rows cells = datablock_rows(script, "cells0");
  REQUIRE(cells.size() == s.x.size());  // one data line per cell
  for (std::size_t k = 0; k < cells.size(); ++k) {
    REQUIRE(cells[k].size() == 2);
    CHECK(cells[k][0] == s.x[k]);  // %.17g round-trips exactly
    CHECK(cells[k][1] == s.y[k]);
  }

  // Medians: one line per distinct M; factors {0.8, 1.1, 0.95, 1.3} sorted 0.8 .95 1.1 1.3, so
  // median factor (0.95+1.1)/2, q1 = 0.8 + 0.75*0.15, q3 = 1.1 + 0.25*0.2 (type 7, h = 3p).
  const Rows med = datablock_rows(script, "median0");
  REQUIRE(med.size() == 5);
  const std::vector<double> ms = {50, 100, 200, 400, 800};
  for (std::size_t k = 0; k < med.size(); ++k) {
    const double base = 3.0 * std::pow(ms[k], -2.0 / 3.0);
    CHECK(med[k][0] == ms[k]);
    CHECK(med[k][1] == Approx(base * 1.025).epsilon(1e-13));
    CHECK(med[k][2] == Approx(base * 0.9125).epsilon(1e-13));
    CHECK(med[k][3] == Approx(base * 1.15).epsilon(1e-13));
  }

  // Fitted line at the extreme x: exp(a) x^b.
  const Rows fit = datablock_rows(script, "fit0");
  REQUIRE(fit.size() == 2);
  CHECK(fit[0][0] == 50.0);
  CHECK(fit[1][0] == 800.0);
  CHECK(fit[0][1] == Approx(std::exp(s.fit_intercept) * std::pow(50.0, s.fit_slope)).epsilon(1e-13));
  CHECK(fit[1][1] == Approx(std::exp(s.fit_intercept) * std::pow(800.0, s.fit_slope)).epsilon(1e-13));

  // Theory line: slope theory_slope on log-log axes, through the fitted line at the geometric
  // mean of the cells' x. Each M occurs 4 times, so g = (50*100*200*400*800)^(1/5) = 200.
  const Rows th = datablock_rows(script, "theory0");
  REQUIRE(th.size() == 2);
  const double g = std::pow(50.0 * 100.0 * 200.0 * 400.0 * 800.0, 0.2);
  CHECK(g == Approx(200.0).epsilon(1e-14));
  const double anchor = std::exp(s.fit_intercept) * std::pow(g, s.fit_slope);
  const double slope = std::log(th[1][1] / th[0][1]) / std::log(th[1][0] / th[0][0]);
  CHECK(slope == Approx(-2.0 / 3.0).epsilon(1e-12));
  const double at_g = th[0][1] * std::pow(g / th[0][0], slope);
  CHECK(at_g == Approx(anchor).epsilon(1e-12));

  ConvergenceFigure no_theory = fig;
  no_theory.series[0].draw_theory = false;
  const std::string nt = convergence_figure_script(no_theory, "svg", "f.svg");
  CHECK(!contains(nt, "$theory0"));
  CHECK(!contains(nt, "theory -0.667"));
}

TEST_CASE("convergence script: several series get distinct colours and own blocks", "[plots]") {
  ConvergenceFigure fig = example_figure();
  fig.series.push_back(example_series("d = 5", 2.0));
  fig.series.push_back(example_series("d = 9", 4.0));
  const std::string script = convergence_figure_script(fig, "pngcairo", "f.png");
  std::set<std::string> colours;
  const std::regex median_colour(R"(\$median(\d) using 1:2:3:4 with yerrorbars[^\n]*lc rgb "(#[0-9A-Fa-f]{6})\")");
  for (auto it = std::sregex_iterator(script.begin(), script.end(), median_colour);
       it != std::sregex_iterator(); ++it)
    colours.insert((*it)[2]);
  CHECK(colours.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(datablock_rows(script, "cells" + std::to_string(i)).size() == 20);
  CHECK(contains(script, "title \"theory -0.667 (d = 5)\""));  // labelled when ambiguous
}

TEST_CASE("convergence figure rejects empty or non-positive input", "[plots]") {
  ConvergenceFigure empty;
  empty.title = "nothing";
  CHECK_THROWS_AS(convergence_figure_script(empty, "pngcairo", "f.png"), std::invalid_argument);
  CHECK_THROWS_WITH(write_convergence_figure(empty, "/nonexistent/f"),
                    Catch::Contains("no series"));

  auto rejects = [](auto mutate, const std::string& fragment) {
    ConvergenceFigure f = example_figure();
    mutate(f.series[0]);
    CHECK_THROWS_AS(convergence_figure_script(f, "pngcairo", "f.png"), std::invalid_argument);
    CHECK_THROWS_WITH(convergence_figure_script(f, "pngcairo", "f.png"), Catch::Contains(fragment));
  };
  rejects([](ConvergenceSeries& s) { s.y[3] = 0.0; }, "cell 3");
  rejects([](ConvergenceSeries& s) { s.y[0] = -1e-3; }, "> 0");
  rejects([](ConvergenceSeries& s) { s.x[5] = -100.0; }, "cell 5");
  rejects([](ConvergenceSeries& s) { s.y[1] = std::nan(""); }, "finite");
  rejects([](ConvergenceSeries& s) { s.x[2] = HUGE_VAL; }, "finite");
  rejects([](ConvergenceSeries& s) { s.y.pop_back(); }, "pair up");
  rejects([](ConvergenceSeries& s) { s.x.clear(); s.y.clear(); }, "no cells");
  rejects([](ConvergenceSeries& s) { s.fit_slope = std::nan(""); }, "fit_slope");
  rejects([](ConvergenceSeries& s) { s.theory_slope = HUGE_VAL; }, "theory_slope");
  rejects([](ConvergenceSeries& s) { s.fit_intercept = 800.0; }, "fitted line");

  // Rejected before any file is written.
  TempDir dir("reject");
  ConvergenceFigure bad = example_figure();
  bad.series[0].y[0] = 0.0;
  CHECK_THROWS_AS(write_convergence_figure(bad, dir.dir / "fig"), std::invalid_argument);
  CHECK(fs::is_empty(dir.dir));
}

TEST_CASE("convergence figure: vertical marks inside the data range only, validated", "[plots]") {
  ConvergenceFigure f = example_figure();
  const auto [lo, hi] = std::minmax_element(f.series[0].x.begin(), f.series[0].x.end());
  const double inside = std::sqrt(*lo * *hi), outside = *hi * 10.0;
  f.marks_x = {inside, outside};
  const std::string script = convergence_figure_script(f, "pngcairo", "f.png");
  CHECK(script.find("set arrow from " + gnuplot_number(inside) + ", graph 0 to " + gnuplot_number(inside) +
                    ", graph 1 nohead") != std::string::npos);
  CHECK(script.find("set arrow from " + gnuplot_number(outside)) == std::string::npos);
  // Before the plot command, so gnuplot draws them.
  CHECK(script.find("set arrow") < script.find("\nplot "));
  f.marks_x = {0.0};
  CHECK_THROWS_WITH(convergence_figure_script(f, "pngcairo", "f.png"), Catch::Contains("marks_x"));
  f.marks_x = {std::nan("")};
  CHECK_THROWS_AS(convergence_figure_script(f, "pngcairo", "f.png"), std::invalid_argument);
}

TEST_CASE("convergence figure: horizontal marks, no fit line, a fit line over part of the cells", "[plots]") {
  ConvergenceFigure f = example_figure();
  f.marks_y = {0.01};
  const std::string marked = convergence_figure_script(f, "pngcairo", "f.png");
  CHECK(contains(marked, "set arrow from graph 0, first " + gnuplot_number(0.01) + " to graph 1, first " +
                             gnuplot_number(0.01) + " nohead"));
  CHECK(marked.find("set arrow") < marked.find("\nplot "));
  // The y range reaches down to the mark, far below every cell (about 0.3 and above).
  const std::size_t yr = marked.find("set yrange [");
  REQUIRE(yr != std::string::npos);
  CHECK(std::stod(marked.substr(yr + 12)) <= 0.01);
  f.marks_y = {-1.0};
  CHECK_THROWS_WITH(convergence_figure_script(f, "pngcairo", "f.png"), Catch::Contains("marks_y"));
  f.marks_y.clear();

  ConvergenceFigure no_fit = f;
  no_fit.series[0].draw_fit = false;
  const std::string nf = convergence_figure_script(no_fit, "pngcairo", "f.png");
  CHECK(!contains(nf, "$fit0"));
  CHECK(!contains(nf, "$theory0"));  // the theory line is anchored on the fit
  CHECK(contains(nf, "$median0"));
  CHECK(contains(nf, "median, interquartile range (" + no_fit.series[0].label + ")"));  // the series is named

  ConvergenceFigure part = f;
  part.series[0].fit_x_lo = 200.0;
  const ConvergenceSeries& s = part.series[0];
  const Rows fit = datablock_rows(convergence_figure_script(part, "pngcairo", "f.png"), "fit0");
  REQUIRE(fit.size() == 2);
  CHECK(fit[0][0] == 200.0);
  CHECK(fit[1][0] == 800.0);
  CHECK(fit[0][1] == Approx(std::exp(s.fit_intercept) * std::pow(200.0, s.fit_slope)).epsilon(1e-13));
  part.series[0].fit_x_hi = 100.0;  // lo > hi
  CHECK_THROWS_WITH(convergence_figure_script(part, "pngcairo", "f.png"), Catch::Contains("fit_x_lo"));
}

TEST_CASE("convergence figure: real PNG and SVG files", "[plots]") {
  if (!gnuplot_available()) {
    WARN("gnuplot is not on PATH: skipping the rendering checks");
    return;
  }
  TempDir dir("render");
  ConvergenceFigure fig = example_figure();
  fig.series.push_back(example_series("d = 5", 2.0));
  const fs::path stem = dir.dir / "sub" / "convergence";  // parent is created
  write_convergence_figure(fig, stem);
  REQUIRE(fs::exists(dir.dir / "sub" / "convergence.png"));
  CHECK(is_png(dir.dir / "sub" / "convergence.png"));
  const std::string svg = read_file(dir.dir / "sub" / "convergence.svg");
  CHECK(contains(svg, "<svg"));
  CHECK(contains(svg, "fit slope -0.664 (weierstrass:1)"));
  CHECK(contains(svg, "theory -0.667 (d = 5)"));
  // The mode of every other output (0644 less the umask), not the 0600 of a temporary file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  for (const char* ext : {".png", ".svg"}) {
    struct stat st {};
    REQUIRE(::stat((dir.dir / "sub" / (std::string("convergence") + ext)).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == (0644 & ~mask));
  }
}

TEST_CASE("gnuplot runner reports failures naming the file", "[plots]") {
  TempDir dir("runner");
  const fs::path out = dir.dir / "broken.png";
  if (gnuplot_available()) {
    // A gnuplot error in the script.
    const auto bad = [](const fs::path& file) {
      return gnuplot_terminal_lines("pngcairo", file) + "plot $missing using 1:2\n";
    };
    CHECK_THROWS_AS(run_gnuplot_script(bad, out), std::runtime_error);
    CHECK_THROWS_WITH(run_gnuplot_script(bad, out), Catch::Contains(out.string()));
    // No error, but nothing written to the file gnuplot was given: the previous output stays.
    std::ofstream(out) << "previous";
    const fs::path other = dir.dir / "other.png";
    const auto elsewhere = [&other](const fs::path&) { return gnuplot_terminal_lines("pngcairo", other) + "plot x\n"; };
    CHECK_THROWS_WITH(run_gnuplot_script(elsewhere, out), Catch::Contains(out.string()));
    CHECK(read_file(out) == "previous");
    // A figure cut short by a file size limit (as by a full disk) is refused, and the previous
    // output stays; gnuplot inherits the limit and the ignored SIGXFSZ, so its writes fail.
    const auto figure = [](const fs::path& file) { return gnuplot_terminal_lines("pngcairo", file) + "plot sin(x)\n"; };
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try {
      run_gnuplot_script(figure, out);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
    CHECK_THAT(message, Catch::Contains("incompletely") && Catch::Contains(out.string()));
    CHECK(read_file(out) == "previous");
    // Without the limit the same figure replaces it, complete; no temporary file is left.
    run_gnuplot_script(figure, out);
    CHECK(is_png(out));
    CHECK(figure_file_complete(out));
    for (const auto& e : fs::directory_iterator(dir.dir))
      CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
    // The check itself: a PNG or SVG cut anywhere before its end marker is incomplete.
    const std::string png = read_file(out);
    std::ofstream(dir.dir / "cut.png", std::ios::binary) << png.substr(0, png.size() - 1);
    CHECK_FALSE(figure_file_complete(dir.dir / "cut.png"));
    std::ofstream(dir.dir / "whole.svg") << "<svg>\n</svg>\n";
    std::ofstream(dir.dir / "cut.svg") << "<svg>\n</sv";
    CHECK(figure_file_complete(dir.dir / "whole.svg"));
    CHECK_FALSE(figure_file_complete(dir.dir / "cut.svg"));
  }
  // gnuplot missing from PATH.
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", dir.dir.c_str(), 1);
  const bool available = gnuplot_available();
  std::string message;
  try {
    write_convergence_figure(example_figure(), dir.dir / "nogp");
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  ::setenv("PATH", saved.c_str(), 1);
  CHECK(!available);
  CHECK(contains(message, (dir.dir / "nogp.png").string()));
  CHECK(contains(message, "gnuplot"));
}

TEST_CASE("slope figure: data, theory curve -2b/(2b+1), rejection, rendering", "[plots]") {
  SlopeFigure fig;
  fig.title = "Fitted exponent vs smoothness";
  fig.note = "95% t-intervals";
  SlopeSeries t{"t-interval", {}}, boot{"bootstrap", {}};
  for (double b : {0.5, 1.0, 1.5, 2.0, 3.0}) {
    const double th = -2.0 * b / (2.0 * b + 1.0);
    t.points.push_back({b, th + 0.01, th - 0.04, th + 0.06});
    boot.points.push_back({b, th - 0.01, th - 0.05, th + 0.03});
  }
  fig.series = {t, boot};
  const std::string script = slope_figure_script(fig, "pngcairo", "slopes.png");
  CHECK(script.rfind("set terminal pngcairo size 1000,700", 0) == 0);
  CHECK(!contains(script, "logscale"));
  const Rows rows = datablock_rows(script, "slopes0");
  REQUIRE(rows.size() == 5);
  CHECK(rows[1] == std::vector<double>{1.0, t.points[1].slope, t.points[1].ci_lo, t.points[1].ci_hi});
  CHECK(datablock_rows(script, "slopes1").size() == 5);

  const Rows theory = datablock_rows(script, "theory");
  REQUIRE(theory.size() == 201);
  CHECK(theory.front()[0] <= 0.5);
  CHECK(theory.back()[0] >= 3.0);
  for (const auto& r : theory) CHECK(r[1] == Approx(-2.0 * r[0] / (2.0 * r[0] + 1.0)).epsilon(1e-14));
  CHECK(contains(script, "title \"theory -2b/(2b+1)\""));
  CHECK(contains(script, "title \"fitted slope, CI (bootstrap)\""));
  CHECK(contains(script, "with yerrorbars"));
  {  // estimates of b against b: the identity reference and its own legend
    SlopeFigure bh = fig;
    bh.reference = SlopeReference::identity;
    bh.point_name = "b_hat";
    const std::string sb = slope_figure_script(bh, "svg", "b-hat.svg");
    const Rows id = datablock_rows(sb, "theory");
    REQUIRE(id.size() == 201);
    for (const auto& r : id) CHECK(r[1] == r[0]);
    CHECK(contains(sb, "title \"b_hat = b\""));
    CHECK(contains(sb, "title \"b_hat, CI (bootstrap)\""));
    CHECK(!contains(sb, "-2b/(2b+1)"));
  }
  CHECK(contains(script, series_colour(0)));
  CHECK(contains(script, series_colour(1)));
  CHECK(series_colour(0) != series_colour(1));

  SlopeFigure bad = fig;
  bad.series[0].points[2].ci_hi = bad.series[0].points[2].slope - 0.1;
  CHECK_THROWS_WITH(slope_figure_script(bad, "svg", "s.svg"), Catch::Contains("contain the slope"));
  bad = fig;
  bad.series[1].points[0].b = 0.0;
  CHECK_THROWS_AS(slope_figure_script(bad, "svg", "s.svg"), std::invalid_argument);
  CHECK_THROWS_AS(slope_figure_script(SlopeFigure{}, "svg", "s.svg"), std::invalid_argument);
  bad = fig;
  bad.series[0].points.clear();
  CHECK_THROWS_AS(slope_figure_script(bad, "svg", "s.svg"), std::invalid_argument);

  if (gnuplot_available()) {
    TempDir dir("slope");
    write_slope_figure(fig, dir.dir / "slopes");
    CHECK(is_png(dir.dir / "slopes.png"));
    CHECK(contains(read_file(dir.dir / "slopes.svg"), "<svg"));
  }
}

TEST_CASE("sample-complexity figure: curves, medians, rejection, rendering", "[plots]") {
  SampleComplexityFigure fig;
  fig.title = "RFA vs RF-MLP";
  SampleComplexityCurve rfa{"RFA, M = 64", {}, {}}, mlp{"RF-MLP", {}, {}};
  for (double n : {100.0, 300.0, 1000.0, 3000.0})
    for (double f : {1.0, 2.0, 4.0}) {
      rfa.n.push_back(n);
      rfa.error.push_back(f * 5.0 / n);
      mlp.n.push_back(n);
      mlp.error.push_back(f * 0.5 / std::sqrt(n));
    }
  fig.curves = {rfa, mlp};
  const std::string script = sample_complexity_figure_script(fig, "svg", "sc.svg");
  CHECK(script.rfind("set terminal svg size 1000,700 dynamic enhanced", 0) == 0);
  CHECK(contains(script, "set logscale xy"));
  CHECK(datablock_rows(script, "cells0").size() == 12);
  CHECK(datablock_rows(script, "cells1").size() == 12);
  const Rows med = datablock_rows(script, "median1");
  REQUIRE(med.size() == 4);
  // Factors {1, 2, 4}: median 2, q1 = 1.5, q3 = 3 (type 7).
  CHECK(med[2][0] == 1000.0);
  CHECK(med[2][1] == Approx(2.0 * 0.5 / std::sqrt(1000.0)).epsilon(1e-14));
  CHECK(med[2][2] == Approx(1.5 * 0.5 / std::sqrt(1000.0)).epsilon(1e-14));
  CHECK(med[2][3] == Approx(3.0 * 0.5 / std::sqrt(1000.0)).epsilon(1e-14));
  CHECK(contains(script, "title \"median, IQR: RF-MLP\""));
  CHECK(contains(script, series_colour(0)));
  CHECK(contains(script, series_colour(1)));

  // A threshold line (eps) below every cell is drawn, and the y range reaches it.
  SampleComplexityFigure marked = fig;
  marked.marks_y = {1e-4};
  const std::string with_mark = sample_complexity_figure_script(marked, "svg", "sc.svg");
  CHECK(contains(with_mark, "set arrow from graph 0, first 0.0001 to graph 1, first 0.0001 nohead dt 3"));
  CHECK_FALSE(contains(script, "set arrow"));
  marked.marks_y = {-1.0};
  CHECK_THROWS_WITH(sample_complexity_figure_script(marked, "svg", "s.svg"), Catch::Contains("marks_y"));

  // n_eps markers: one point per curve that has one, at (n_eps, eps); a censored one a triangle.
  SampleComplexityFigure with_neps = fig;
  with_neps.eps = 1e-2;
  with_neps.curves[0].n_eps = 500.0;
  with_neps.curves[1].n_eps = 2000.0;
  with_neps.curves[1].n_eps_censored = true;
  const std::string neps = sample_complexity_figure_script(with_neps, "svg", "sc.svg");
  CHECK(datablock_rows(neps, "neps0") == Rows{{500.0, 1e-2}});
  CHECK(datablock_rows(neps, "neps1") == Rows{{2000.0, 1e-2}});
  CHECK(contains(neps, "$neps0 using 1:2 with points pt 6"));
  CHECK(contains(neps, "$neps1 using 1:2 with points pt 8"));
  CHECK_FALSE(contains(script, "$neps"));
  with_neps.curves[0].n_eps = -1.0;
  CHECK_THROWS_WITH(sample_complexity_figure_script(with_neps, "svg", "s.svg"), Catch::Contains("n_eps must be"));
  with_neps.curves[0].n_eps = 500.0;
  with_neps.eps = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(sample_complexity_figure_script(with_neps, "svg", "s.svg"), Catch::Contains("eps finite"));

  SampleComplexityFigure bad = fig;
  bad.curves[1].error[4] = 0.0;
  CHECK_THROWS_WITH(sample_complexity_figure_script(bad, "svg", "s.svg"), Catch::Contains("cell 4"));
  CHECK_THROWS_AS(sample_complexity_figure_script(SampleComplexityFigure{}, "svg", "s.svg"),
                  std::invalid_argument);

  if (gnuplot_available()) {
    TempDir dir("samples");
    write_sample_complexity_figure(fig, dir.dir / "sc");
    CHECK(is_png(dir.dir / "sc.png"));
    CHECK(contains(read_file(dir.dir / "sc.svg"), "<svg"));
  }
}
