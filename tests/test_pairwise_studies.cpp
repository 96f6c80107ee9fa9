// The pairwise studies dimension-free, smoothness, coercivity and rank-condition, each against an
// independent truth: helpers against a closed form, LAPACK's generalised eigensolver or an
// identity; every measurement against the same quantity recomputed here from the study's
// cells.csv (OLS slope, ratio of medians, mean with its t interval) and the rank-condition knee against its
// formula; the option checks against invalid options, before any work.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/pairwise/coercivity.hpp"
#include "studies/pairwise/dimension_free.hpp"
#include "studies/pairwise/pairwise_series.hpp"
#include "studies/pairwise/rank_condition.hpp"
#include "studies/pairwise/smoothness.hpp"
#include "studies/registry.hpp"

#include "tests/lib/temp_dir.hpp"

using namespace attnrate;
using attnrate::test::TempDir;

namespace {


// One CSV line split into fields ("" quotes a field, "" inside it is a quote).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted && ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (ch == '"') {
      quoted = !quoted;
    } else if (ch == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  return out;
}

// cells.csv as rows of column -> text.
std::vector<std::map<std::string, std::string>> read_cells(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = csv_fields(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = csv_fields(line);
    REQUIRE(f.size() == header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

// Textbook OLS slope of y on x.
double ols_slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<nlohmann::json> quantities_named(const nlohmann::json& summary, const std::string& quantity) {
  std::vector<nlohmann::json> out;
  for (const auto& q : summary.at("quantities"))
    if (q.at("quantity") == quantity) out.push_back(q);
  return out;
}

// A study never judges: no claim, theory value, tolerance or verdict anywhere in its summary.
void check_no_verdicts(const nlohmann::json& summary) {
  const std::string text = summary.dump();
  CHECK_FALSE(summary.contains("claims"));
  for (const char* word : {"verdict", "theory_value", "tolerance", "max_ci_width", "consistent"})
    CHECK(text.find(word) == std::string::npos);
}

std::vector<std::string> registered_quantities(const std::string& study) {
  std::vector<std::string> out;
  for (const auto& q : find_study(study).quantities) out.push_back(q.name);
  return out;
}

}  // namespace

TEST_CASE("generalized_min_eigenvalue: closed form and LAPACK's generalised eigensolver", "[pairwise_study]") {
  const arma::mat Gamma = arma::diagmat(arma::vec{1.0, 2.0, 4.0});
  const arma::mat G = arma::diagmat(arma::vec{3.0, 2.0, 8.0});
  CHECK(generalized_min_eigenvalue(G, Gamma) == Approx(1.0).epsilon(1e-14));
  Rng rng(41);
  arma::mat B(6, 6), C(6, 6);
  for (auto& v : B) v = rng.normal();
  for (auto& v : C) v = rng.normal();
  const arma::mat G2 = B * B.t(), Gamma2 = C * C.t() + 0.1 * arma::eye(6, 6);
  arma::cx_vec ev;
  arma::eig_pair(ev, G2, Gamma2);
  const double truth = arma::min(arma::real(ev));
  CHECK(generalized_min_eigenvalue(G2, Gamma2) == Approx(truth).epsilon(1e-9));
  CHECK_THROWS_AS(generalized_min_eigenvalue(G2, arma::mat(6, 6, arma::fill::zeros)), InputError);
  CHECK_THROWS_AS(generalized_min_eigenvalue(G2, arma::eye(5, 5)), InputError);
}

TEST_CASE("basis_gram: partition of unity and the exact Gram matrix of a linear basis", "[pairwise_study]") {
  // Degree 1 on one piece of [0, 1]: B_0 = 1 - u, B_1 = u; under u ~ U(0, 1),
  // E[B_0^2] = E[B_1^2] = 1/3, E[B_0 B_1] = 1/6. Midpoint grid: error O(1/T^2).
  const std::size_t T = 20000;
  arma::vec u(T);
  for (std::size_t t = 0; t < T; ++t) u[t] = (t + 0.5) / T;
  const arma::mat G1 = basis_gram(BSplineBasis(0.0, 1.0, 1, 1), u);
  CHECK(G1(0, 0) == Approx(1.0 / 3.0).epsilon(1e-7));
  CHECK(G1(1, 1) == Approx(1.0 / 3.0).epsilon(1e-7));
  CHECK(G1(0, 1) == Approx(1.0 / 6.0).epsilon(1e-7));
  CHECK(G1(1, 0) == Approx(1.0 / 6.0).epsilon(1e-7));
  // Any degree: sum_kl B_k B_l = 1 pointwise, so the entries sum to 1 exactly (up to rounding).
  const arma::mat G3 = basis_gram(BSplineBasis(-1.0, 1.0, 7, 3), 2.0 * u - 1.0);
  CHECK(arma::accu(G3) == Approx(1.0).epsilon(1e-12));
  CHECK(arma::norm(G3 - G3.t(), "inf") == 0.0);
}

TEST_CASE("rank_knee and mean_and_se closed forms", "[pairwise_study]") {
  CHECK(rank_knee(4000.0, 2.0) == Approx(std::pow(4000.0 / std::log(4000.0), 0.2)).epsilon(1e-15));
  CHECK_THROWS_AS(rank_knee(2.0, 1.0), InputError);
  const auto [m, se] = mean_and_se({1.0, 2.0, 3.0, 4.0});
  CHECK(m == Approx(2.5).epsilon(1e-15));
  CHECK(se == Approx(std::sqrt(5.0 / 3.0 / 4.0)).epsilon(1e-14));  // sample variance 5/3
}

TEST_CASE("pairwise studies: invalid options are refused by check and by run, before any work", "[pairwise_study]") {
  TempDir dir("pairwise-checks");
  const auto out = dir.dir / "out";  // made by the study
  const StudyContext ctx{out, 1, false, false};
  struct Case {
    std::string study, key, value, message;
  };
  const std::vector<Case> cases = {
      {"dimension-free", "d-values", "1,5,1", "listed twice"},
      {"dimension-free", "r-values", "1,9", "r = 9 exceeds --d = 5 (A is d x d of rank r)"},
      {"dimension-free", "M", "1000", "at least two distinct sample sizes"},
      {"dimension-free", "activations", "bspline:3,bspline:3", "listed twice"},
      {"approximation", "activations", "kink:1.5,weierstrass:2,kink:1.5", "kink:1.5 is listed twice"},
      {"smoothness", "M-known", "1000", "at least two distinct sample sizes"},
      {"smoothness", "known-activations", "weierstrass:0", "weierstrass"},
      {"coercivity", "token-laws", "uniform,cauchy", "--token-laws"},
      {"coercivity", "seeds", "1", "--seeds"},
      {"rank-condition", "M", "1000,2000", "single sample size"},
      {"rank-condition", "activation", "weierstrass:0.5", "--activation"},
  };
  for (const auto& c : cases) {
    INFO(c.study << " --" << c.key << " " << c.value);
    const StudyDefinition& def = find_study(c.study);
    Settings s(def.keys());
    s.set(c.key, c.value, "--" + c.key);
    REQUIRE(def.check);
    CHECK_THROWS_WITH(def.check(s), Catch::Contains(c.message));
    CHECK_THROWS_WITH(def.run(s, ctx), Catch::Contains(c.message));
    CHECK_FALSE(std::filesystem::exists(out));
  }
  // The options that only fed verdicts are gone.
  for (const auto& [study, key] : std::vector<std::pair<std::string, std::string>>{{"dimension-free", "tolerance"},
                                                                                   {"dimension-free", "max-ci-width"},
                                                                                   {"dimension-free", "ratio-factor"},
                                                                                   {"smoothness", "tolerance"},
                                                                                   {"coercivity", "min-coercivity"},
                                                                                   {"rank-condition", "ratio-factor"}}) {
    INFO(study << " --" << key);
    Settings s(find_study(study).keys());
    CHECK_THROWS_AS(s.set(key, "1", "--" + key), InputError);
  }
}

TEST_CASE("dimension-free: slopes and spreads are those of the cells, with the rank condition of each series",
          "[pairwise_study]") {
  Settings s(dimension_free_study().keys());
  s.set("activations", "bspline:3", "test");
  // Knee at M = 100 and 400 (b = 2): 1.85 and 2.28. d = 1 is inside at every M, d = 2 only at the
  // largest (its fitted slope straddles the knee), d = 30 nowhere.
  s.set("d-values", "1,2,30", "test");
  s.set("N-values", "8", "test");
  s.set("r-values", "1", "test");
  s.set("M", "100,200,400", "test");
  s.set("seeds", "2", "test");
  s.set("restarts", "1", "test");
  s.set("test-pairs", "1000", "test");
  TempDir dir("dimfree-measurements");
  const auto out = dir.dir / "out";  // made by the study
  const nlohmann::json summary = dimension_free_study().run(s, StudyContext{out, 0, false, false});
  check_no_verdicts(summary);
  const auto cells = read_cells(out / "cells.csv");
  REQUIRE(cells.size() == 3 * 3 * 2);
  const double knee_min = std::pow(100.0 / std::log(100.0), 0.2), knee_max = std::pow(400.0 / std::log(400.0), 0.2);
  const auto quantities = registered_quantities("dimension-free");
  for (const auto& q : summary.at("quantities"))
    CHECK(std::find(quantities.begin(), quantities.end(), q.at("quantity").get<std::string>()) != quantities.end());

  std::map<int, double> median_at_largest;
  for (const std::string quantity : {"slope", "slope-erm"}) {
    const auto slopes = quantities_named(summary, quantity);
    REQUIRE(slopes.size() == 3);
    std::set<int> seen;
    for (const auto& q : slopes) {
      INFO(q.dump());
      const auto& sel = q.at("select");
      CHECK(sel.at("activation") == "bspline:3");
      CHECK(sel.at("series") == "d");
      CHECK(sel.at("N") == "8");
      CHECK(sel.at("r") == "1");
      const int d = std::stoi(sel.at("d").get<std::string>());
      seen.insert(d);
      std::vector<double> x, y, at_largest;
      for (const auto& c : cells)
        if (c.at("d") == std::to_string(d) && c.at("status") == "ok") {
          x.push_back(std::log(std::stod(c.at("M"))));
          y.push_back(std::log(std::stod(c.at(quantity == "slope" ? "error" : "error_erm"))));
          if (c.at("M") == "400") at_largest.push_back(std::stod(c.at("error")));
        }
      REQUIRE(x.size() >= 3);
      CHECK(q.at("value").get<double>() == Approx(ols_slope(x, y)).epsilon(1e-9));
      CHECK(q.at("ci_t")[0].get<double>() < q.at("value").get<double>());
      CHECK(q.at("ci_t")[1].get<double>() > q.at("value").get<double>());
      const auto& det = q.at("details");
      CHECK(det.at("figure") == "convergence-bspline-3-d.png");
      CHECK(det.at("reference_slope").get<double>() == Approx(-0.8).epsilon(1e-12));
      CHECK(det.at("cells_excluded") == 6 - x.size());
      const auto& rc = det.at("rank_condition");
      CHECK(rc.at("r_d") == d);
      CHECK(rc.at("knee_at_smallest_M").get<double>() == Approx(knee_min).epsilon(1e-14));
      CHECK(rc.at("knee_at_largest_M").get<double>() == Approx(knee_max).epsilon(1e-14));
      CHECK(rc.at("M_smallest") == 100);
      CHECK(rc.at("M_largest") == 400);
      CHECK(rc.at("holds_at_every_M") == (d <= knee_min));
      CHECK(rc.at("holds_at_largest_M") == (d <= knee_max));
      if (!at_largest.empty()) median_at_largest[d] = median(at_largest);
    }
    CHECK(seen == std::set<int>{1, 2, 30});
  }
  CHECK(std::filesystem::file_size(out / "convergence-bspline-3-d.png") > 1000);

  const auto spreads = quantities_named(summary, "spread");
  REQUIRE(spreads.size() == 1);
  const auto& q = spreads[0];
  INFO(q.dump());
  CHECK(q.at("select") == nlohmann::json{{"activation", "bspline:3"}, {"series", "d"}});
  REQUIRE(median_at_largest.size() == 3);
  double lo = INFINITY, hi = 0;
  for (const auto& [d, m] : median_at_largest) {
    lo = std::min(lo, m);
    hi = std::max(hi, m);
  }
  CHECK(q.at("value").get<double>() == Approx(hi / lo).epsilon(1e-12));
  CHECK(q.at("width_scale") == "log(hi/lo)");
  CHECK(q.at("ci_t") == q.at("ci_boot"));  // a ratio of medians has only its bootstrap interval
  CHECK(q.at("ci_boot")[0].get<double>() >= 1.0);
  CHECK(q.at("details").at("M") == 400);
  CHECK(q.at("details").at("members") == nlohmann::json::array({1, 2, 30}));
  CHECK(q.at("details").at("outside_rank_condition") == nlohmann::json::array({30}));

  // The same ratio over the members inside the rank condition at the largest M (d = 1, 2).
  const auto inner = quantities_named(summary, "below-knee-spread");
  REQUIRE(inner.size() == 1);
  const auto& qi = inner[0];
  INFO(qi.dump());
  CHECK(qi.at("select") == nlohmann::json{{"activation", "bspline:3"}, {"series", "d"}});
  const double m1 = median_at_largest.at(1), m2 = median_at_largest.at(2);
  CHECK(qi.at("value").get<double>() == Approx(std::max(m1, m2) / std::min(m1, m2)).epsilon(1e-12));
  CHECK(qi.at("ci_boot")[0].get<double>() >= 1.0);
  CHECK(qi.at("details").at("members") == nlohmann::json::array({1, 2}));
  CHECK(qi.at("details").at("inside_rank_condition") == nlohmann::json::array({1, 2}));
  CHECK(qi.at("details").at("knee_at_largest_M").get<double>() == Approx(knee_max).epsilon(1e-14));
}

TEST_CASE("smoothness: one slope per activation, that of its cells, with A in the select keys", "[pairwise_study]") {
  Settings s(smoothness_study().keys());
  s.set("erm-activations", "", "test");
  s.set("known-activations", "weierstrass:1,weierstrass:2", "test");
  s.set("M-known", "200,400,800", "test");
  s.set("seeds", "2", "test");
  s.set("test-pairs", "2000", "test");
  TempDir dir("smoothness-measurements");
  const auto out = dir.dir / "out";  // made by the study
  const nlohmann::json summary = smoothness_study().run(s, StudyContext{out, 0, false, false});
  check_no_verdicts(summary);
  const auto cells = read_cells(out / "cells.csv");
  const auto slopes = quantities_named(summary, "slope");
  REQUIRE(slopes.size() == 2);
  REQUIRE(summary.at("quantities").size() == 2);
  for (const auto& q : slopes) {
    INFO(q.dump());
    const std::string act = q.at("select").at("activation");
    CHECK(q.at("select").at("A") == "known");
    std::vector<double> x, y;
    for (const auto& c : cells)
      if (c.at("activation") == act && c.at("status") == "ok") {
        x.push_back(std::log(std::stod(c.at("M"))));
        y.push_back(std::log(std::stod(c.at("error"))));
      }
    REQUIRE(x.size() >= 3);
    CHECK(q.at("value").get<double>() == Approx(ols_slope(x, y)).epsilon(1e-9));
    const double b = act == "weierstrass:1" ? 1.0 : 2.0;
    CHECK(q.at("details").at("reference_slope").get<double>() == Approx(-2 * b / (2 * b + 1)).epsilon(1e-12));
    CHECK(q.at("details").at("smoothness").at("claimed").get<double>() == b);
    CHECK_FALSE(q.at("details").contains("rank_condition"));  // A known: no rank condition
  }
  CHECK(summary.at("figure") == "slopes.png");
  CHECK(std::filesystem::file_size(out / "slopes.png") > 1000);
}

TEST_CASE("smoothness --schedule adaptive: the oracle ratio is that of the cells", "[pairwise_study][adaptive]") {
  Settings s(smoothness_study().keys());
  s.set("erm-activations", "", "test");
  s.set("known-activations", "weierstrass:1", "test");
  s.set("M-known", "200,400,800", "test");
  s.set("seeds", "3", "test");
  s.set("test-pairs", "2000", "test");
  s.set("schedule", "adaptive", "test");
  TempDir dir("smoothness-adaptive");
  const auto out = dir.dir / "out";  // made by the study
  const nlohmann::json summary = smoothness_study().run(s, StudyContext{out, 0, false, false});
  const auto ratios = quantities_named(summary, "oracle-ratio");
  REQUIRE(ratios.size() == 1);
  CHECK(ratios[0].at("select").at("activation") == "weierstrass:1");
  CHECK(ratios[0].at("select").at("A") == "known");
  // The geometric mean over the seeds at M = 800 of error / oracle_error (a mixture, the default
  // rule, may beat every candidate: no bound below).
  double sum_log = 0;
  int n = 0;
  for (const auto& c : read_cells(out / "cells.csv"))
    if (c.at("M") == "800" && c.at("status") == "ok") {
      const double r = std::stod(c.at("error")) / std::stod(c.at("oracle_error"));
      CHECK(r > 0.0);
      sum_log += std::log(r);
      ++n;
    }
  REQUIRE(n == 3);
  CHECK(ratios[0].at("value").get<double>() == Approx(std::exp(sum_log / n)).epsilon(1e-9));
  const auto registered = registered_quantities("smoothness");
  CHECK(std::find(registered.begin(), registered.end(), "oracle-ratio") != registered.end());
}

TEST_CASE("coercivity: the mean of lambda_min at the largest M with its t and bootstrap intervals", "[pairwise_study]") {
  Settings s(coercivity_study().keys());
  s.set("token-laws", "uniform,exchangeable:0.3", "test");
  s.set("M", "250,1000", "test");
  s.set("seeds", "3", "test");
  s.set("gram-pairs", "20000", "test");
  TempDir dir("coercivity-measurements");
  const auto out = dir.dir / "out";  // made by the study
  const nlohmann::json summary = coercivity_study().run(s, StudyContext{out, 0, false, false});
  check_no_verdicts(summary);
  const auto cells = read_cells(out / "cells.csv");
  REQUIRE(cells.size() == 2 * 2 * 3);
  const auto qs = quantities_named(summary, "coercivity");
  REQUIRE(qs.size() == 2);
  for (const auto& q : qs) {
    INFO(q.dump());
    const std::string law = q.at("select").at("tokens");
    const std::string name = law == "uniform" ? "uniform" : "exchangeable:0.3";
    CHECK(q.at("details").at("token_law") == name);
    std::vector<double> v;
    for (const auto& c : cells)
      if (c.at("tokens") == name && c.at("M") == "1000") v.push_back(std::stod(c.at("lambda_min")));
    REQUIRE(v.size() == 3);
    const double mean = (v[0] + v[1] + v[2]) / 3;
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    const double se = std::sqrt(ss / 2 / 3);
    CHECK(q.at("value").get<double>() == Approx(mean).epsilon(1e-12));
    CHECK(q.at("details").at("se").get<double>() == Approx(se).epsilon(1e-9));
    // Student-t with 2 degrees of freedom, in closed form: t_{2, p} = (2p - 1) / sqrt(2 p (1 - p)).
    const double t2 = 0.95 / std::sqrt(2 * 0.975 * 0.025);
    CHECK(q.at("ci_t")[0].get<double>() == Approx(mean - t2 * se).epsilon(1e-9));
    CHECK(q.at("ci_t")[1].get<double>() == Approx(mean + t2 * se).epsilon(1e-9));
    // A bootstrap mean of the 3 values lies between their smallest and largest, up to the rounding
    // of a resample of three equal values: fl(fl(v + v) + v) / 3 can be v's neighbour.
    const auto [vmin, vmax] = std::minmax_element(v.begin(), v.end());
    CHECK(q.at("ci_boot")[0].get<double>() >= std::min(*vmin, (*vmin + *vmin + *vmin) / 3));
    CHECK(q.at("ci_boot")[1].get<double>() <= std::max(*vmax, (*vmax + *vmax + *vmax) / 3));
    CHECK(q.at("ci_boot")[0].get<double>() <= mean);
    CHECK(q.at("ci_boot")[1].get<double>() >= mean);
    CHECK(q.at("details").at("M") == 1000);
    // lambda_min(G, Gamma) of a positive semidefinite G relative to Gamma lies in [0, max eigenvalue].
    for (double x : v) CHECK(x >= -1e-12);
  }
}

TEST_CASE("rank-condition: the spread below the knee and the slope above it are those of the cells",
          "[pairwise_study]") {
  Settings s(rank_condition_study().keys());
  // Knee at M = 400 (bspline:3, b = 2): (400 / log 400)^(1/5) = 2.32; r d = d.
  s.set("d-values", "1,2,8,16", "test");
  s.set("M", "400", "test");
  s.set("seeds", "3", "test");
  s.set("restarts", "1", "test");
  s.set("test-pairs", "2000", "test");
  TempDir dir("rank-measurements");
  const auto out = dir.dir / "out";  // made by the study
  const nlohmann::json summary = rank_condition_study().run(s, StudyContext{out, 0, false, false});
  check_no_verdicts(summary);
  const double knee = std::pow(400.0 / std::log(400.0), 0.2);
  CHECK(summary.at("knee").get<double>() == Approx(knee).epsilon(1e-14));
  const auto cells = read_cells(out / "cells.csv");
  std::map<int, std::vector<double>> errors;
  std::vector<double> x, y;
  for (const auto& c : cells) {
    if (c.at("status") != "ok") continue;
    const int d = std::stoi(c.at("d"));
    errors[d].push_back(std::stod(c.at("error")));
    if (d > knee) {
      x.push_back(std::log(static_cast<double>(d)));
      y.push_back(std::log(std::stod(c.at("error"))));
    }
  }
  const auto below = quantities_named(summary, "below-knee-spread");
  REQUIRE(below.size() == 1);
  REQUIRE(errors.count(1));
  REQUIRE(errors.count(2));
  const double m1 = median(errors[1]), m2 = median(errors[2]);
  CHECK(below[0].at("value").get<double>() == Approx(std::max(m1, m2) / std::min(m1, m2)).epsilon(1e-12));
  CHECK(below[0].at("select").empty());
  CHECK(below[0].at("details").at("r_d_values") == nlohmann::json::array({1, 2}));
  const auto above = quantities_named(summary, "above-knee-slope");
  REQUIRE(above.size() == 1);
  REQUIRE(x.size() >= 3);
  CHECK(above[0].at("value").get<double>() == Approx(ols_slope(x, y)).epsilon(1e-9));
  CHECK(above[0].at("details").at("r_d_values") == nlohmann::json::array({8, 16}));
  CHECK(summary.at("figure") == "rank.png");
}
