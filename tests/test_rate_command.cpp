// `attnrate rate` as a library: a table with a known exponent is recovered within its interval,
// the per-size rows are exact on noiseless data, the judge is applied in the right direction,
// every bad table and option is refused with a message naming the place, and summary.json holds
// numbers.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/commands/rate.hpp"
#include "studies/commands/rate_table.hpp"
#include "studies/io/output.hpp"
#include "tests/lib/temp_dir.hpp"

using namespace attnrate;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

// error = c * size^b * exp(sigma * N(0, 1)) at sizes 100 * 2^k, `seeds` cells per size.
std::string power_law_table(double c, double b, double sigma, int sizes, int seeds, std::uint64_t seed) {
  Rng rng(seed);
  std::ostringstream t;
  t << "seed,size,error\n";
  for (int k = 0; k < sizes; ++k)
    for (int s = 0; s < seeds; ++s) {
      const double size = 100.0 * std::pow(2.0, k);
      t << s << "," << format_double(size) << "," << format_double(c * std::pow(size, b) * std::exp(sigma * rng.normal()))
        << "\n";
    }
  return t.str();
}

Settings rate_settings(const fs::path& data, std::initializer_list<std::pair<const char*, const char*>> options = {}) {
  Settings s(rate_keys());
  s.set("data", data.string(), "--data");
  for (const auto& [k, v] : options) s.set(k, v, std::string("--") + k);
  return s;
}

std::string refusal(const fs::path& table, const RateColumns& columns = {}) {
  try {
    read_rate_table(table, columns);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("rate recovers a known exponent within its intervals", "[rate]") {
  TempDir tmp("rate");
  const fs::path data = tmp.write("errors.csv", power_law_table(3.0, -0.8, 0.15, 8, 6, 20240501));
  const RateTable table = read_rate_table(data);
  REQUIRE(table.rows.size() == 48);
  CHECK(table.seed_column == "seed");
  const RateAnalysis a = analyse_rate(table, std::nullopt);
  CHECK(a.fit.n == 48);
  CHECK(a.fit.distinct_x == 8);
  CHECK(a.fit.ci_t_lo <= -0.8);
  CHECK(a.fit.ci_t_hi >= -0.8);
  CHECK(a.fit.ci_boot_lo <= -0.8);
  CHECK(a.fit.ci_boot_hi >= -0.8);
  CHECK(a.fit.slope == Approx(-0.8).margin(0.05));
  CHECK(std::exp(a.fit.intercept) == Approx(3.0).epsilon(0.3));
  CHECK(a.fit.ci_t_hi - a.fit.ci_t_lo < 0.1);
  REQUIRE(a.sizes.size() == 8);
  CHECK(!a.sizes[0].local_rate);
  for (std::size_t i = 1; i < a.sizes.size(); ++i) CHECK(a.sizes[i].local_rate.has_value());
  // The fit is exactly the studies' fit_slope on (log size, log error), bootstrap seed included.
  std::vector<double> x, y;
  for (const auto& r : table.rows) {
    x.push_back(std::log(r.size));
    y.push_back(std::log(r.error));
  }
  const SlopeFit direct = fit_slope(x, y);
  CHECK(direct.slope == a.fit.slope);
  CHECK(direct.ci_boot_lo == a.fit.ci_boot_lo);
  CHECK(direct.ci_boot_hi == a.fit.ci_boot_hi);
}

TEST_CASE("rate: medians and local rates per size are exact on a noiseless power law", "[rate]") {
  TempDir tmp("rate");
  // Two cells per size, 1.5x and 0.5x around 2 size^-1/2: the median is 2 size^-1/2 itself.
  std::string t = "n,mse\n";
  for (double n : {10.0, 40.0, 160.0, 2560.0}) {
    t += format_double(n) + "," + format_double(3.0 * std::pow(n, -0.5)) + "\n";
    t += format_double(n) + "," + format_double(1.0 * std::pow(n, -0.5)) + "\n";
  }
  const fs::path data = tmp.write("mse.csv", t);
  RateColumns columns;
  columns.size = "n";
  columns.error = "mse";
  const RateAnalysis a = analyse_rate(read_rate_table(data, columns), std::nullopt);
  REQUIRE(a.sizes.size() == 4);
  for (const auto& r : a.sizes) {
    CHECK(r.cells == 2);
    CHECK(r.median_error == Approx(2.0 * std::pow(r.size, -0.5)).epsilon(1e-12));
  }
  for (std::size_t i = 1; i < 4; ++i) CHECK(*a.sizes[i].local_rate == Approx(-0.5).epsilon(1e-12));
  CHECK(a.fit.slope == Approx(-0.5).epsilon(1e-12));
}

TEST_CASE("rate judges the slope in the direction of the bound", "[rate]") {
  TempDir tmp("rate");
  const fs::path data = tmp.write("errors.csv", power_law_table(3.0, -0.8, 0.15, 8, 6, 7));
  const auto verdict = [&](std::initializer_list<std::pair<const char*, const char*>> options) {
    const RateOutcome o = rate(rate_settings(data, options), {});
    REQUIRE(o.analysis.judgement.has_value());
    CHECK(o.exit_code == (o.analysis.judgement->verdict == Verdict::consistent ? 0 : 1));
    return o.analysis.judgement->verdict;
  };
  CHECK(verdict({{"theory", "-0.8"}}) == Verdict::consistent);
  CHECK(verdict({{"theory", "-0.4"}}) == Verdict::inconsistent);
  CHECK(verdict({{"theory", "-1.2"}}) == Verdict::inconsistent);
  // An error falling like size^-0.8 falls at least as fast as size^-0.5: slope at most -0.5.
  CHECK(verdict({{"theory", "-0.5"}, {"bound", "at-most"}}) == Verdict::consistent);
  CHECK(verdict({{"theory", "-0.5"}, {"bound", "at-least"}}) == Verdict::inconsistent);
  CHECK(verdict({{"theory", "-1"}, {"bound", "at-least"}}) == Verdict::consistent);
  CHECK(verdict({{"theory", "-1"}, {"bound", "at-most"}}) == Verdict::inconsistent);
  CHECK(verdict({{"theory", "-0.9,-0.7"}, {"bound", "within"}}) == Verdict::consistent);
  CHECK(verdict({{"theory", "-0.5,-0.3"}, {"bound", "within"}}) == Verdict::inconsistent);
  // The tolerance widens the judged interval; a width limit makes a wide interval inconclusive.
  CHECK(verdict({{"theory", "-0.4"}, {"tolerance", "0.5"}}) == Verdict::consistent);
  CHECK(verdict({{"theory", "-0.8"}, {"max-ci-width", "0.001"}}) == Verdict::inconclusive);
  // Without --theory: no verdict, exit 0.
  const RateOutcome plain = rate(rate_settings(data), {});
  CHECK(!plain.analysis.judgement);
  CHECK(plain.exit_code == 0);
}

TEST_CASE("rate writes summary.json with numbers, only inside --out", "[rate]") {
  TempDir tmp("rate");
  const fs::path data = tmp.write("errors.csv", power_law_table(3.0, -0.8, 0.15, 5, 4, 11));
  const fs::path out = tmp.dir / "out";
  const RateOutcome o = rate(rate_settings(data, {{"theory", "-0.8"}, {"tolerance", "0.05"}}), out);
  CHECK(o.exit_code == 0);
  std::ifstream in(out / "summary.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j.at("fit").at("slope").is_number_float());
  CHECK(j.at("fit").at("slope").get<double>() == o.analysis.fit.slope);
  CHECK(j.at("fit").at("ci_t").at(0).is_number());
  CHECK(j.at("rows").get<int>() == 20);
  CHECK(j.at("sizes").size() == 5);
  CHECK(j.at("sizes").at(0).at("local_rate").is_null());
  CHECK(j.at("sizes").at(1).at("local_rate").is_number());
  CHECK(j.at("claim").at("verdict") == "consistent");
  CHECK(j.at("claim").at("theory").get<double>() == -0.8);
  CHECK(j.at("quantities").at(0).at("quantity") == "slope");
  CHECK(j.at("columns").at("seed") == "seed");
  CHECK(j.contains("build"));
  for (const auto& e : fs::directory_iterator(tmp.dir))
    CHECK((e.path().filename() == "errors.csv" || e.path().filename() == "out"));
}

TEST_CASE("rate refuses bad tables naming the file, line and column", "[rate]") {
  TempDir tmp("rate");
  const std::string ok = "size,error\n100,0.5\n200,0.3\n";
  CHECK_THAT(refusal(tmp.write("a.csv", ok + "400,abc\n")),
             Catch::Contains("a.csv:4:2: error is not a number, got 'abc'"));
  CHECK_THAT(refusal(tmp.write("b.csv", ok + "0,0.1\n")), Catch::Contains("b.csv:4:1: size must be > 0"));
  CHECK_THAT(refusal(tmp.write("c.csv", ok + "400,-0.1\n")), Catch::Contains("c.csv:4:2: error must be > 0"));
  CHECK_THAT(refusal(tmp.write("d.csv", ok + "400,0\n")), Catch::Contains("d.csv:4:2: error must be > 0"));
  CHECK_THAT(refusal(tmp.write("e.csv", ok + "400,nan\n")), Catch::Contains("e.csv:4:2: error must be finite"));
  CHECK_THAT(refusal(tmp.write("f.csv", "size,error\n100,0.5\n100,0.4\n100,0.3\n")),
             Catch::Contains("f.csv: need at least 2 distinct values of size for a rate, got 1 (100)"));
  CHECK_THAT(refusal(tmp.write("g.csv", "size,err\n100,0.5\n200,0.3\n400,0.2\n")),
             Catch::Contains("g.csv:1: no column 'error' in the header 'size,err'; did you mean 'err'?"));
  CHECK_THAT(refusal(tmp.write("g2.csv", "n,loss\n100,0.5\n200,0.3\n400,0.2\n")),
             Catch::Contains("no column 'size' in the header 'n,loss'; name the column with --size-col"));
  CHECK_THAT(refusal(tmp.write("h.csv", ok + "400\n")), Catch::Contains("h.csv:4:1: expected 2 fields as in the header, found 1"));
  CHECK_THAT(refusal(tmp.write("i.csv", ok + "\n400,0.2\n")), Catch::Contains("i.csv:4:1: blank line"));
  CHECK_THAT(refusal(tmp.write("j.csv", "size,error\n100,0.5\n200,0.3\n")),
             Catch::Contains("j.csv: need at least 3 rows for a slope with a confidence interval, got 2"));
  CHECK_THAT(refusal(tmp.write("k.csv", "")), Catch::Contains("k.csv: empty table"));
  CHECK_THAT(refusal(tmp.write("l.csv", "size,error,seed\n100,0.5,1\n200,0.3,1\n100,0.4,1\n")),
             Catch::Contains("l.csv:4:3: the same size and seed as line 2 (one row per cell"));
  CHECK_THAT(refusal(tmp.write("l2.csv", "size,error,seed,rep\n100,0.5,1,0\n200,0.3,1,0\n100,0.4,1,1\n")),
             Catch::Contains("l2.csv:4:3: the same size and seed as line 2") && Catch::Contains(": --seed-col rep"));
  CHECK_THAT(refusal(tmp.write("m.csv", "size,error,size\n100,0.5,1\n")), Catch::Contains("names column 'size' twice"));
  RateColumns seeds;
  seeds.seed = "run";
  CHECK_THAT(refusal(tmp.write("n.csv", ok + "400,0.2\n"), seeds), Catch::Contains("no column 'run'"));
  CHECK_THAT(refusal(tmp.dir / "missing.csv"), Catch::Contains("missing.csv: cannot open"));
  // CRLF, a byte order mark, spaces around fields and extra columns are fine.
  const RateTable t = read_rate_table(tmp.write("ok.csv", "\xEF\xBB\xBFnote, size ,error\r\nx, 100 , 0.5\r\ny,200,0.3\r\nz,400,0.2\r\n"));
  CHECK(t.rows.size() == 3);
  CHECK(t.rows[2].line == 4);
  CHECK(t.seed_column.empty());
}

TEST_CASE("rate refuses bad options before reading anything", "[rate]") {
  TempDir tmp("rate");
  const fs::path data = tmp.write("errors.csv", "size,error\n100,0.5\n200,0.3\n400,0.2\n");
  const auto message = [&](std::initializer_list<std::pair<const char*, const char*>> options) {
    try {
      rate(rate_settings(data, options), tmp.dir / "never");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK_THAT(message({{"theory", "-0.5"}, {"tolerance", "-1"}}), Catch::Contains("--tolerance must be >= 0, got -1"));
  CHECK_THAT(message({{"tolerance", "0.1"}}), Catch::Contains("--tolerance needs --theory"));
  CHECK_THAT(message({{"bound", "at-most"}}), Catch::Contains("--bound needs --theory"));
  CHECK_THAT(message({{"theory", "-0.5"}, {"bound", "below"}}), Catch::Contains("--bound must be equal, at-most, at-least or within"));
  CHECK_THAT(message({{"theory", "fast"}}), Catch::Contains("--theory must be a finite number"));
  CHECK_THAT(message({{"theory", "-1,-0.5"}}), Catch::Contains("needs --bound within"));
  CHECK_THAT(message({{"theory", "-0.5,-1"}, {"bound", "within"}}), Catch::Contains("low <= high"));
  CHECK_THAT(message({{"theory", "-0.5"}, {"max-ci-width", "0"}}), Catch::Contains("--max-ci-width must be > 0"));
  CHECK_THAT(message({{"resamples", "0"}}), Catch::Contains("--resamples must be"));
  CHECK(!fs::exists(tmp.dir / "never"));
}
