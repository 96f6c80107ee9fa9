// `minimax-rate --schedule adaptive`: every measurement recomputed from the study's cells.csv
// (OLS slope of log error on log M, geometric-mean oracle ratio at the largest M, b-hat from the
// slopes' formulas), the oracle never worse than the selection in any cell, resumed checkpoints
// giving the same result, and the option checks naming the option.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "tests/lib/temp_dir.hpp"
#include "studies/registry.hpp"
#include "studies/sweep/sweep.hpp"

using namespace attnrate;

namespace {

std::vector<std::map<std::string, std::string>> read_cells(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) header.push_back(f);
  }
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f;
    std::map<std::string, std::string> row;
    for (const auto& h : header) {
      std::getline(ss, f, ',');
      row[h] = f;
    }
    rows.push_back(row);
  }
  return rows;
}

nlohmann::json run(const std::vector<std::pair<std::string, std::string>>& set, const std::filesystem::path& out,
                   bool resume = false) {
  const StudyDefinition& def = find_study("minimax-rate");
  Settings s(def.keys());
  for (const auto& [k, v] : set) s.set(k, v, "--" + k);
  StudyContext ctx;
  ctx.out = out;
  ctx.threads = 2;
  ctx.resume = resume;
  ctx.progress = false;
  return def.run(s, ctx);
}

const nlohmann::json& quantity(const nlohmann::json& summary, const std::string& name, const std::string& from = "") {
  for (const auto& q : summary.at("quantities"))
    if (q.at("quantity") == name && (from.empty() || q.at("select").at("from") == from)) return q;
  FAIL("no quantity " << name << " " << from);
  return summary;
}

double ols_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= x.size();
  my /= y.size();
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxy / sxx;
}

const std::vector<std::pair<std::string, std::string>> kSmall = {
    {"activation", "weierstrass:1.5"}, {"schedule", "adaptive"}, {"M", "200,400,800"}, {"seeds", "2"},
    {"test-pairs", "2000"},            {"bootstrap", "100"},     {"N", "4"},           {"d", "3"}};

}  // namespace

TEST_CASE("minimax-rate adaptive: measurements are those of the cells", "[minimax][adaptive]") {
  test::TempDir tmp("adaptive-study");
  const nlohmann::json summary = run(kSmall, tmp.dir / "out");
  const auto cells = read_cells(tmp.dir / "out" / "cells.csv");
  REQUIRE(cells.size() == 6);
  std::vector<double> x, y, ly, lr, xk, yk;
  std::map<std::string, std::vector<double>> ratio;
  for (const auto& r : cells) {
    INFO("M " << r.at("M") << " rep " << r.at("rep"));
    CHECK(r.at("schedule") == "adaptive");
    CHECK(r.at("select") == "mixture");
    REQUIRE(r.at("status") == "ok");
    const double e = std::stod(r.at("error")), o = std::stod(r.at("oracle_error"));
    CHECK(o > 0);
    CHECK(e > 0);  // a mixture may be better than every candidate: no order with o
    CHECK(std::stoi(r.at("degree")) >= 0);
    CHECK(std::stoi(r.at("degree")) <= 3);
    const int K = std::stoi(r.at("K"));
    CHECK((K & (K - 1)) == 0);  // dyadic grid from 1
    CHECK(!r.at("known_error").empty());
    CHECK(r.at("known_degree") == "1");  // floor(1.5)
    x.push_back(std::log(std::stod(r.at("M"))));
    y.push_back(std::log(e));
    ly.push_back(std::log(o));
    yk.push_back(std::log(static_cast<double>(K)));
    ratio[r.at("M")].push_back(std::log(e / o));
    lr.push_back(std::log(e / o));
  }
  const double slope = ols_slope(x, y);
  CHECK(quantity(summary, "slope").at("value").get<double>() == Approx(slope).epsilon(1e-9));
  CHECK(quantity(summary, "oracle-slope").at("value").get<double>() == Approx(ols_slope(x, ly)).epsilon(1e-9));
  // Each cell's own ratio, not the ratio of the two fitted lines: the same OLS slope only because
  // both fits use the same cells.
  const nlohmann::json ratio_slope = quantity(summary, "oracle-ratio-slope");
  CHECK(ratio_slope.at("value").get<double>() == Approx(ols_slope(x, lr)).epsilon(1e-9));
  CHECK(ratio_slope.at("value").get<double>() == Approx(slope - ols_slope(x, ly)).epsilon(1e-9));
  {  // t interval: slope +- t_{0.975, n-2} sqrt(RSS / (n - 2) / Sxx), from the cells' own ratios
    REQUIRE(lr.size() == 6);
    const double b = ols_slope(x, lr);
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / 6, my += lr[i] / 6;
    double rss = 0, sxx = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double res = lr[i] - my - b * (x[i] - mx);
      rss += res * res;
      sxx += (x[i] - mx) * (x[i] - mx);
    }
    const double t4 = 2.7764451051977987;  // Student t quantile 0.975 at 4 degrees of freedom (tables)
    const double half = t4 * std::sqrt(rss / 4 / sxx);
    CHECK(ratio_slope.at("ci_t").at(0).get<double>() == Approx(b - half).epsilon(1e-9));
    CHECK(ratio_slope.at("ci_t").at(1).get<double>() == Approx(b + half).epsilon(1e-9));
    CHECK(ratio_slope.at("details").at("cells_excluded") == 0);
  }
  double mean_log = 0;
  for (double v : ratio.at("800")) mean_log += v;
  mean_log /= ratio.at("800").size();
  CHECK(quantity(summary, "oracle-ratio").at("value").get<double>() == Approx(std::exp(mean_log)).epsilon(1e-9));
  const double be = slope < 0 && slope > -1 ? -slope / (2 * (1 + slope)) : (slope >= 0 ? 0.0 : 100.0);
  CHECK(quantity(summary, "b-hat", "error-slope").at("value").get<double>() == Approx(be).epsilon(1e-9));
  // K may not change over so small a range: b-hat from pieces is then clipped at 100.
  bool k_varies = false;
  for (double v : yk) k_varies = k_varies || v != yk[0];
  if (k_varies) {
    const double sk = ols_slope(x, yk);
    const double bk = sk > 0 ? std::clamp((1 / sk - 1) / 2, 0.0, 100.0) : 100.0;
    CHECK(quantity(summary, "b-hat", "pieces").at("value").get<double>() == Approx(bk).epsilon(1e-9));
  }
  // The cells whose selected K is the top of their grid (1, 2, ..., <= M / (ln M)^2) are counted.
  std::size_t at_top = 0;
  for (const auto& r : cells) {
    const auto M = static_cast<std::size_t>(std::stoul(r.at("M")));
    at_top += std::stoi(r.at("K")) == adaptive_pieces_grid(1, adaptive_max_pieces(M)).back();
  }
  CHECK(quantity(summary, "b-hat", "pieces").at("details").at("cells_at_grid_top") == at_top);
  CHECK((at_top > 0) == (summary.contains("notes") && summary.at("notes").dump().find("largest of the candidate grid") !=
                                                            std::string::npos));
  CHECK(std::filesystem::exists(tmp.dir / "out" / "convergence.png"));
  {  // the figure states what the claims judge: the ratio's slope beside the error's
    std::ostringstream svg;
    svg << std::ifstream(tmp.dir / "out" / "convergence.svg").rdbuf();
    CHECK(svg.str().find("error/oracle: slope") != std::string::npos);
    CHECK(svg.str().find("rate -2b/(2b+1), not judged: -0.750") != std::string::npos);  // b = 1.5
    CHECK(svg.str().find("theory -") == std::string::npos);
  }

  // fixed-oracle-ratio from the checkpoints' candidate errors at M = 800: the candidate with the
  // smallest mean log error over the seeds, then the geometric mean of error / its error.
  std::vector<nlohmann::json> top;
  for (const auto& entry : std::filesystem::directory_iterator(tmp.dir / "out" / "cells")) {
    const nlohmann::json v = nlohmann::json::parse(std::ifstream(entry.path())).at("value");
    if (v.at("M") != 800) continue;
    const auto errs = v.at("candidate_errors").get<std::vector<double>>();
    REQUIRE(errs.size() == v.at("candidates").get<std::size_t>());
    CHECK(*std::min_element(errs.begin(), errs.end()) == v.at("oracle_error").get<double>());
    // The mixture's squared error is at most the weighted mean of its candidates' (Jensen, on the
    // same test pairs), so at most the largest candidate error.
    CHECK(v.at("error").get<double>() <= *std::max_element(errs.begin(), errs.end()) * (1 + 1e-12));
    top.push_back(v);
  }
  REQUIRE(top.size() == 2);
  CHECK(top[0].at("candidate_K") == top[1].at("candidate_K"));
  std::size_t best = 0;
  double best_mean = 0;
  for (std::size_t k = 0; k < top[0].at("candidate_errors").size(); ++k) {
    double m = 0;
    for (const auto& v : top) m += std::log(v.at("candidate_errors")[k].get<double>()) / 2;
    if (k == 0 || m < best_mean) best = k, best_mean = m;
  }
  double fixed_log = 0;
  for (const auto& v : top)
    fixed_log += std::log(v.at("error").get<double>() / v.at("candidate_errors")[best].get<double>()) / 2;
  const nlohmann::json fixed = quantity(summary, "fixed-oracle-ratio");
  CHECK(fixed.at("value").get<double>() == Approx(std::exp(fixed_log)).epsilon(1e-9));
  CHECK(fixed.at("details").at("K") == top[0].at("candidate_K")[best]);
  CHECK(fixed.at("details").at("degree") == top[0].at("candidate_degrees")[best]);
  // The best fixed space is no better, seed by seed, than each seed's own best.
  CHECK(fixed.at("value").get<double>() <= quantity(summary, "oracle-ratio").at("value").get<double>() * (1 + 1e-12));

  // Resuming from the checkpoints reproduces the summary's measurements exactly.
  const nlohmann::json again = run(kSmall, tmp.dir / "out", true);
  CHECK(again.at("quantities") == summary.at("quantities"));

  // A checkpoint forged with a valid checksum but impossible adaptive fields is rejected by the
  // study's own checks and recomputed: the resumed run equals the first, and the file is rewritten.
  const auto forge = [&](const std::string& field, const nlohmann::json& value) {
    for (const auto& entry : std::filesystem::directory_iterator(tmp.dir / "out" / "cells")) {
      nlohmann::json j = nlohmann::json::parse(std::ifstream(entry.path()));
      nlohmann::json original = j.at("value");
      original.erase("seconds");  // wall time: the one field a recomputation changes
      j["value"][field] = value;
      j["checksum"] = checkpoint_checksum(j.at("value"));
      std::ofstream(entry.path()) << j.dump();
      const nlohmann::json resumed = run(kSmall, tmp.dir / "out", true);
      CHECK(resumed.at("quantities") == summary.at("quantities"));
      nlohmann::json rewritten = nlohmann::json::parse(std::ifstream(entry.path())).at("value");
      rewritten.erase("seconds");
      CHECK(rewritten == original);
      return;
    }
    FAIL("no checkpoint");
  };
  forge("degree", 9);            // beyond --max-degree 3
  forge("oracle_error", 1e9);    // the oracle is one of the candidate errors
  forge("error", 1e9);           // above every candidate error: no mixture (convexity) nor selection
  forge("oracle_K", 0);
  forge("known_K", 0);           // weierstrass:1.5 has a smoothness: the known-b fit must be there
  forge("candidate_errors", nlohmann::json::array({0.1}));  // one error per candidate
  forge("candidate_K", "4");     // not an array
}

TEST_CASE("minimax-rate adaptive: options are checked and named", "[minimax][adaptive]") {
  test::TempDir tmp("adaptive-options");
  const auto with = [](std::vector<std::pair<std::string, std::string>> base, const std::string& k,
                       const std::string& v) {
    base.emplace_back(k, v);
    return base;
  };
  const auto message = [&](const std::vector<std::pair<std::string, std::string>>& set) {
    try {
      run(set, tmp.dir / "o");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(message(with(kSmall, "degree", "2")), Contains("--degree 2") && Contains("--schedule adaptive"));
  CHECK_THAT(message(with(kSmall, "knots", "8")), Contains("--knots 8") && Contains("auto"));
  CHECK_THAT(message(with(kSmall, "select", "aic")), Contains("--select must be mixture, cv, cv-refit or penalty, got 'aic'"));
  CHECK_THAT(message(with(kSmall, "folds", "1")), Contains("--folds"));
  CHECK_THAT(message(with(kSmall, "max-degree", "11")), Contains("--max-degree"));
  CHECK_THAT(message(with(kSmall, "max-knots", "0")), Contains("--max-knots"));
  CHECK_THAT(message(with(kSmall, "penalty", "0")), Contains("--penalty"));
  CHECK_THAT(message(with(with(kSmall, "folds", "10"), "M", "8,400")), Contains("smaller than --folds 10"));
  CHECK_THAT(message(with(kSmall, "schedule", "fast")), Contains("plain, paper or adaptive"));
  // The adaptive fit needs no smoothness: bspline:1 (claimed b = P - 1 = 0, refused by the plain
  // schedule) runs, without a known-b fit.
  CHECK_THAT(message(with(with(kSmall, "activation", "bspline:1"), "schedule", "plain")), Contains("no rate to measure"));
  run(with(kSmall, "activation", "bspline:1"), tmp.dir / "b1");
  const auto cells = read_cells(tmp.dir / "b1" / "cells.csv");
  REQUIRE(cells.size() == 6);
  for (const auto& r : cells) {
    CHECK(r.at("known_error").empty());
    CHECK(r.at("known_K").empty());
  }
}

TEST_CASE("minimax-rate adaptive: the penalty rule runs and says so", "[minimax][adaptive]") {
  test::TempDir tmp("adaptive-penalty");
  auto set = kSmall;
  set.emplace_back("select", "penalty");
  run(set, tmp.dir / "out");
  for (const auto& r : read_cells(tmp.dir / "out" / "cells.csv")) {
    CHECK(r.at("select") == "penalty");
    CHECK(std::stod(r.at("sigma2_hat")) > 0);
  }
}

TEST_CASE("minimax-rate with M = 2 and 4: log(M / log M) is the same for both, the run still completes",
          "[minimax][adaptive]") {
  // 2 / ln 2 = 4 / ln 4, so the slope against log(M / log M) has a single abscissa and is left
  // out; the slope against log M is measured.
  for (const std::string schedule : {"plain", "adaptive"}) {
    test::TempDir tmp("adaptive-m2-" + schedule);
    std::vector<std::pair<std::string, std::string>> set = {
        {"schedule", schedule}, {"M", "2,4"}, {"seeds", "2"}, {"test-pairs", "10000"}, {"bootstrap", "100"}};
    if (schedule == "adaptive") set.emplace_back("folds", "2");  // refused on the plain schedule
    const nlohmann::json summary = run(set, tmp.dir / "out");
    const nlohmann::json& slope = quantity(summary, "slope");
    CHECK(std::isfinite(slope.at("value").get<double>()));
    CHECK_FALSE(slope.at("details").contains("slope_vs_log_M_over_log_M"));
    CHECK(std::filesystem::exists(tmp.dir / "out" / "cells.csv"));
  }
}
