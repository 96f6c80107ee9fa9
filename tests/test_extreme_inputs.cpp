// Numerical honesty on extreme inputs: sigma = 0, the smallest sizes (d = 1,
// N = 2), more spline pieces than the data can support, activations and data with a huge range,
// and the condition estimate every solve reports. Each property is checked against an
// independent truth (dense design matrix, pseudo-inverse, explicit inverse, a symmetry of the
// problem, linearity in Y) or against the output contract: cells.csv and summary.json never hold
// NaN or infinity, unusable cells are marked and counted, bad input throws InputError.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/random.hpp"
#include "estimators/common/parallel_errors.hpp"
#include "estimators/random_features/feature_ridge.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "estimators/ridge/ridge.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/registry.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "tests/lib/temp_dir.hpp"

using namespace attnrate;

namespace {

arma::mat uniform_tokens(int d, std::size_t n, std::uint64_t seed, double scale = 1.0) {
  arma::mat X(d, n);
  Rng rng(seed);
  for (auto& v : X) v = scale * rng.uniform(-1.0, 1.0);
  return X;
}

// Dense design matrix Psi (MN x p), Psi(mN+i, k) = 1/(N-1) sum_{j != i} B_k(X_i^T A X_j), built
// naively from BSplineBasis::value on unit coefficient vectors.
arma::mat dense_design(const BSplineBasis& basis, const arma::mat& A, const arma::mat& X, int N) {
  const std::size_t M = X.n_cols / N;
  arma::mat Psi(M * N, basis.size(), arma::fill::zeros);
  arma::vec e(basis.size());
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        if (j == i) continue;
        const double u = arma::as_scalar(X.col(m * N + i).t() * A * X.col(m * N + j));
        for (int k = 0; k < basis.size(); ++k) {
          e.zeros();
          e[k] = 1.0;
          Psi(m * N + i, k) += basis.value(e, u) / (N - 1);
        }
      }
  return Psi;
}

// Exact reciprocal condition number in the 1-norm, from the explicit inverse.
double rcond_1norm_exact(const arma::mat& G) { return 1.0 / (arma::norm(G, 1) * arma::norm(arma::inv(G), 1)); }

// ---- reading study outputs ----

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 4180 subset: fields separated by ',', optionally quoted with "" as an escaped quote.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t t = 0; t < text.size(); ++t) {
    const char ch = text[t];
    if (quoted) {
      if (ch == '"' && t + 1 < text.size() && text[t + 1] == '"') field += '"', ++t;
      else if (ch == '"') quoted = false;
      else field += ch;
    } else if (ch == '"') {
      quoted = true;
      any = true;
    } else if (ch == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (ch == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      any = false;
    } else if (ch != '\r') {
      field += ch;
      any = true;
    }
  }
  if (any) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A CSV field that must be a finite number (or empty: the contract's marker for "not finite").
bool finite_or_empty(const std::string& f) {
  if (f.empty()) return true;
  char* end = nullptr;
  const double v = std::strtod(f.c_str(), &end);
  return end == f.c_str() + f.size() && std::isfinite(v);
}

double number(const std::string& f) {
  char* end = nullptr;
  const double v = std::strtod(f.c_str(), &end);
  REQUIRE(end == f.c_str() + f.size());
  return v;
}

// Every number in a JSON document is finite and no value is null (NaN/inf are dumped as null).
void check_json_finite(const nlohmann::json& j, const std::string& where, std::vector<std::string>& bad) {
  if (j.is_null()) bad.push_back(where + " is null");
  else if (j.is_number_float() && !std::isfinite(j.get<double>())) bad.push_back(where + " is not finite");
  else if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) check_json_finite(it.value(), where + "." + it.key(), bad);
  else if (j.is_array())
    for (std::size_t t = 0; t < j.size(); ++t) check_json_finite(j[t], where + "[" + std::to_string(t) + "]", bad);
}

struct StudyOutput {
  nlohmann::json summary;       // returned by the runner
  nlohmann::json summary_file;  // summary.json as written
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> cells;  // cells.csv rows by column name
  std::string csv_text, summary_text;
};

StudyOutput run_study(const std::string& name, const std::vector<std::pair<std::string, std::string>>& set,
                      const std::string& tag) {
  const StudyDefinition& def = find_study(name);
  Settings s(def.keys());
  for (const auto& [k, v] : set) s.set(k, v, "test");
  const test::TempDir tmp("extreme-" + tag);  // removed also when the study throws
  const auto dir = tmp.dir / "out";
  StudyContext ctx;
  ctx.out = dir;
  ctx.threads = 2;
  ctx.resume = false;
  ctx.progress = false;
  StudyOutput o;
  o.summary = def.run(s, ctx);
  o.summary_text = slurp(dir / "summary.json");
  o.csv_text = slurp(dir / "cells.csv");
  o.summary_file = nlohmann::json::parse(o.summary_text);
  const auto rows = parse_csv(o.csv_text);
  REQUIRE(rows.size() >= 2);
  o.header = rows[0];
  for (std::size_t r = 1; r < rows.size(); ++r) {
    REQUIRE(rows[r].size() == o.header.size());
    std::map<std::string, std::string> m;
    for (std::size_t c = 0; c < o.header.size(); ++c) m[o.header[c]] = rows[r][c];
    o.cells.push_back(std::move(m));
  }
  return o;
}

// The output contract of a rate study: no NaN/inf anywhere, every numeric column finite or
// empty, the status column explains every excluded cell and the counts agree.
void check_output_contract(const StudyOutput& o) {
  // No "nan"/"inf" token in cells.csv (activation and token law names are checked to not contain them).
  for (const auto& row : o.cells)
    for (const auto& [col, val] : row) {
      INFO("cells.csv column " << col << " = '" << val << "'");
      const std::string v = lower(val);
      CHECK(v != "nan");
      CHECK(v.find("nan") == std::string::npos);
      CHECK(v.find("inf") == std::string::npos);
    }
  for (const char* col : {"error", "error_se", "train_mse", "rcond", "seconds", "M", "K"})
    for (const auto& row : o.cells) {
      INFO("column " << col << " = '" << row.at(col) << "'");
      CHECK(finite_or_empty(row.at(col)));
    }
  const std::string st = lower(o.summary_text);
  CHECK(st.find("nan") == std::string::npos);
  std::vector<std::string> bad;
  check_json_finite(o.summary_file, "summary", bad);
  std::string joined;
  for (const auto& b : bad) joined += b + "; ";
  INFO("summary.json problems: " << joined);
  CHECK(bad.empty());

  std::size_t not_ok = 0;
  for (const auto& row : o.cells) {
    const std::string& status = row.at("status");
    CHECK((status == "ok" || status == "rank-deficient" || status == "non-finite"));
    not_ok += status != "ok";
    if (status == "ok") {
      INFO("ok cell M = " << row.at("M") << " rep " << row.at("rep"));
      REQUIRE(!row.at("error").empty());
      CHECK(number(row.at("error")) >= 0.0);
      REQUIRE(!row.at("rcond").empty());
      CHECK(number(row.at("rcond")) >= 0.0);
      CHECK(number(row.at("rcond")) <= 1.0);
    }
  }
  CHECK(o.summary_file.at("cells_total").get<std::size_t>() == o.cells.size());
  CHECK(o.summary_file.at("cells_excluded").get<std::size_t>() == not_ok);
  for (const auto& q : o.summary_file.at("quantities")) {
    CHECK(q.at("details").at("cells_excluded").get<std::size_t>() == not_ok);
    CHECK(q.at("details").at("cells_used").get<std::size_t>() == o.cells.size() - not_ok);
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Smallest sizes: d = 1, N = 2.

TEST_CASE("d = 1, N = 2: the model draws Y_i = phi(X_i A X_j) exactly when sigma = 0", "[extreme]") {
  PairwiseModelSpec spec;
  spec.N = 2;
  spec.d = 1;
  spec.r = 1;
  spec.sigma = 0.0;
  spec.activation = "tanh";
  const PairwiseModel model(spec, 5);
  REQUIRE(model.A().n_rows == 1);
  REQUIRE(model.A().n_cols == 1);
  CHECK(std::isfinite(model.A()(0, 0)));
  CHECK(model.A()(0, 0) != 0.0);
  const std::size_t M = 50;
  arma::mat X(1, M * 2);
  arma::vec Y(M * 2);
  model.draw_samples(7, 0, M, X.memptr(), Y.memptr());
  for (std::size_t m = 0; m < M; ++m) {
    const double x0 = X(0, 2 * m), x1 = X(0, 2 * m + 1), a = model.A()(0, 0);
    // 1/(N-1) = 1 and one partner: the output is the interaction itself, for both tokens.
    CHECK(Y[2 * m] == Approx(std::tanh(x0 * a * x1)).epsilon(1e-15).margin(1e-300));
    CHECK(Y[2 * m + 1] == Approx(std::tanh(x1 * a * x0)).epsilon(1e-15).margin(1e-300));
  }
}

TEST_CASE("d = 1, N = 2: the streamed normal equations equal the dense design matrix's", "[extreme]") {
  const int N = 2, d = 1;
  const std::size_t M = 7;  // fewer samples than one block
  const arma::mat A(1, 1, arma::fill::value(0.7));
  const arma::mat X = uniform_tokens(d, M * N, 3);
  Rng rng(4);
  arma::vec Y(M * N);
  for (auto& v : Y) v = rng.normal();
  for (int degree : {0, 1, 3}) {
    const BSplineBasis basis(-0.7, 0.7, 3, degree);
    LseOptions opt;
    opt.threads = 1;
    const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(X, Y, N), opt);
    const arma::mat Psi = dense_design(basis, A, X, N);
    const double MN = static_cast<double>(M * N);
    const arma::mat G = Psi.t() * Psi / MN;
    const arma::vec h = Psi.t() * Y / MN;
    INFO("degree " << degree);
    CHECK(arma::abs(fit.normal_equations.G - G).max() <= 1e-14 * arma::abs(G).max());
    CHECK(arma::abs(fit.normal_equations.h - h).max() <= 1e-14 * arma::abs(h).max());
    CHECK(fit.normal_equations.yy == Approx(arma::dot(Y, Y) / MN).epsilon(1e-14));
    CHECK(fit.normal_equations.interactions == M * N * (N - 1));
    CHECK(fit.normal_equations.tokens == M * N);
    // The fit is the least-squares solution of the dense problem (Psi has full column rank here),
    // up to the forward error of a normal-equations solve, eps * cond(G): with 7 distinct
    // interactions near 0 the outer cubic pieces are barely observed and cond(G) reaches ~1e12.
    REQUIRE(arma::rank(Psi) == static_cast<arma::uword>(basis.size()));
    const arma::vec ref = arma::pinv(Psi) * Y;
    const double cond = 1.0 / rcond_1norm_exact(G);
    INFO("cond_1(G) = " << cond << ", solver " << fit.solution.solver);
    CHECK(arma::norm(fit.solution.coef - ref) <= 10.0 * cond * 2.2e-16 * arma::norm(ref));
    CHECK(fit.solution.rcond >= 0.0);
    CHECK(fit.solution.rcond <= 1.0);
    // The reported condition decides the solver: min-norm exactly when it is below the floor.
    CHECK(fit.solution.fallback == (fit.solution.rcond < 1e-12));
    if (!fit.solution.fallback) CHECK(fit.solution.rcond >= (1.0 / cond) * (1.0 - 1e-10));
  }
}

TEST_CASE("d = 1, N = 2: the joint fit equals the A-known least squares (the reduced risk is constant in A)",
          "[extreme]") {
  // For d = 1, u = a x y: R(c a) = R(a) for c > 0 (the knots follow the range of u) and
  // R(-a) = R(a) (uniform knots are symmetric under u -> -u). So every A != 0 gives the same
  // reduced risk, and the ERM must return the A-known LSE on [min u, max u], g_hat included.
  const int N = 2, d = 1;
  const std::size_t M = 300;
  const arma::mat X = uniform_tokens(d, M * N, 11);
  Rng rng(12);
  arma::vec Y(M * N);
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i) {
      const double u = X(0, m * N + i) * X(0, m * N + 1 - i);
      Y[m * N + i] = std::tanh(3.0 * u) + 0.1 * rng.normal();
    }
  ErmOptions opt;
  opt.rank = 1;
  opt.pieces = 5;
  opt.degree = 3;
  opt.restarts = 2;
  opt.max_iterations = 10;
  opt.screen_iterations = 3;
  opt.threads = 1;
  const PairwiseErmFit erm = fit_pairwise_erm(X, Y, N, opt);
  REQUIRE(erm.A.n_rows == 1);
  REQUIRE(erm.A.is_finite());
  CHECK(erm.A(0, 0) != 0.0);
  CHECK(erm.coef.is_finite());
  CHECK_FALSE(erm.diagnostics.phi_step.fallback);
  CHECK(std::isfinite(erm.diagnostics.phi_step.rcond));
  CHECK(erm.diagnostics.phi_step.rcond >= opt.rcond_floor);
  CHECK(erm.diagnostics.phi_step.rcond <= 1.0);

  const arma::mat A1(1, 1, arma::fill::ones);
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t m = 0; m < M; ++m) {
    const double u = X(0, m * N) * X(0, m * N + 1);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  const BSplineBasis basis(lo, hi, opt.pieces, opt.degree);
  LseOptions lopt;
  lopt.threads = 1;
  const PairwiseLseFit lse = fit_pairwise_lse(basis, A1, N, d, M, in_memory_source(X, Y, N), lopt);
  REQUIRE_FALSE(lse.solution.fallback);
  const double yy = lse.normal_equations.yy;
  CHECK(std::abs(erm.train_risk - lse.solution.train_mse) <= 1e-9 * yy);
  for (double x : {-1.0, -0.4, 0.1, 0.8})
    for (double y : {-0.9, 0.3, 1.0}) {
      INFO("x = " << x << ", y = " << y);
      CHECK(erm.g_hat(&x, &y) == Approx(lse.phi_hat(x * y)).epsilon(1e-7).margin(1e-7));
    }
}

TEST_CASE("d = 1, N = 1 and 2: random-feature attention features have their closed forms", "[extreme]") {
  const int d = 1;
  const std::size_t n = 6;
  Rng rng(21);
  for (int N : {1, 2}) {
    AttentionInputs in;
    in.d = d;
    in.N = N;
    in.query.set_size(d, n);
    in.keys.set_size(d, n * N);
    for (auto& v : in.query) v = rng.uniform(-1.0, 1.0);
    for (auto& v : in.keys) v = rng.uniform(-1.0, 1.0);
    for (RfaActivation act : {RfaActivation::relu, RfaActivation::exp, RfaActivation::softmax}) {
      RfaOptions o;
      o.heads = 3;
      o.activation = act;
      o.seed = 22;
      o.threads = 1;
      const RandomFeatureAttention rfa(d, o);
      const arma::mat Phi = rfa.features(in);
      REQUIRE(Phi.n_rows == n);
      REQUIRE(Phi.n_cols == 3 * (d + 1));
      for (std::size_t s = 0; s < n; ++s)
        for (int m = 0; m < 3; ++m) {
          const arma::mat& W = rfa.weights().slice(m);
          const arma::vec q{in.query(0, s), 1.0};
          arma::vec score(N), a(N);
          for (int i = 0; i < N; ++i) score[i] = arma::dot(q, W * arma::vec{in.keys(0, s * N + i), 1.0});
          double denom = 0.0;
          for (int i = 0; i < N; ++i) denom += std::exp(score[i]);
          for (int i = 0; i < N; ++i)
            a[i] = act == RfaActivation::relu  ? std::max(score[i], 0.0) / N
                   : act == RfaActivation::exp ? std::exp(score[i]) / N
                                               : std::exp(score[i]) / denom;
          double f0 = 0.0, f1 = 0.0;
          for (int i = 0; i < N; ++i) {
            f0 += a[i] * in.keys(0, s * N + i);
            f1 += a[i];
          }
          INFO("N = " << N << ", activation " << to_string(act) << ", sample " << s << ", head " << m);
          CHECK(Phi(s, m * 2) == Approx(f0).epsilon(1e-13).margin(1e-15));
          CHECK(Phi(s, m * 2 + 1) == Approx(f1).epsilon(1e-13).margin(1e-15));
          if (N == 1 && act == RfaActivation::softmax) {  // one key: weight exactly 1, phi_m = [x_1; 1]
            CHECK(Phi(s, m * 2) == in.keys(0, s));
            CHECK(Phi(s, m * 2 + 1) == 1.0);
          }
        }
      // Ridge on n = 6 samples and 6 features: finite coefficients and a condition estimate in [0, 1].
      RandomFeatureAttention model(d, o);
      RidgeFitOptions ro;
      ro.lambda = 1e-3;
      const RidgeFit fit = model.fit(in, arma::linspace(-1.0, 1.0, n), ro);
      CHECK(fit.solution.w.is_finite());
      CHECK(fit.solution.rcond >= 0.0);
      CHECK(fit.solution.rcond <= 1.0);
      CHECK(model.predict(in).is_finite());
    }
  }
}

// ------------------------------------------------------------------------------------------
// Condition estimates: reported, in [0, 1], honest on well-posed and singular problems.

TEST_CASE("LSE reports the 1-norm condition estimate of G, and falls back below the floor", "[extreme]") {
  const int N = 3, d = 2;
  const std::size_t M = 400;
  const arma::mat A{{0.8, -0.3}, {0.2, 0.5}};
  const arma::mat X = uniform_tokens(d, M * N, 31);
  Rng rng(32);
  arma::vec Y(M * N);
  for (auto& v : Y) v = rng.normal();
  SECTION("well posed: LAPACK's estimate bounds the exact reciprocal condition from above, within 3x") {
    const BSplineBasis basis(-1.0, 1.0, 4, 2);
    const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(X, Y, N));
    REQUIRE_FALSE(fit.solution.fallback);
    REQUIRE(fit.solution.unobserved == 0);
    const double exact = rcond_1norm_exact(fit.normal_equations.G);
    CHECK(std::isfinite(fit.solution.rcond));
    CHECK(fit.solution.rcond >= 1e-12);
    CHECK(fit.solution.rcond <= 1.0);
    // The estimator underestimates ||G^-1||_1, so the reported rcond is >= the exact one.
    CHECK(fit.solution.rcond >= exact * (1.0 - 1e-10));
    CHECK(fit.solution.rcond <= 3.0 * exact);
  }
  SECTION("duplicate basis directions: rank-deficient G, min-norm solve, rcond below the floor") {
    // G = B^T B with two identical columns of B: exactly singular.
    arma::mat B(50, 5);
    Rng r2(33);
    for (auto& v : B) v = r2.normal();
    B.col(4) = B.col(1);
    NormalEquations ne;
    ne.G = B.t() * B / 50.0;
    const arma::vec y = arma::linspace(-1.0, 2.0, 50);
    ne.h = B.t() * y / 50.0;
    ne.yy = arma::dot(y, y) / 50.0;
    const LseSolution sol = solve_normal_equations(ne, 0.0, 1e-12);
    CHECK(sol.fallback);
    CHECK(sol.solver.rfind("min-norm (rank 4 of 5)", 0) == 0);
    CHECK(sol.rank == 4);
    CHECK(std::isfinite(sol.rcond));
    CHECK(sol.rcond >= 0.0);
    CHECK(sol.rcond < 1e-12);
    REQUIRE(sol.coef.is_finite());
    const arma::vec ref = arma::pinv(B) * y;  // minimum-norm least squares of the design
    CHECK(arma::norm(sol.coef - ref) <= 1e-10 * arma::norm(ref));
    CHECK(sol.coef[1] == Approx(sol.coef[4]).epsilon(1e-10));  // min-norm splits a duplicate evenly
    CHECK(sol.train_mse == Approx(arma::accu(arma::square(y - B * ref)) / 50.0).epsilon(1e-8));
  }
}

TEST_CASE("ridge reports an honest condition estimate on well-posed and singular designs", "[extreme]") {
  Rng rng(41);
  arma::mat Phi(40, 6);
  for (auto& v : Phi) v = rng.normal();
  arma::vec y(40);
  for (auto& v : y) v = rng.normal();
  SECTION("well posed, primal Cholesky") {
    const RidgeSolution sol = ridge_solve(Phi, y, 1e-3);
    REQUIRE(sol.solver == "cholesky");
    CHECK_FALSE(sol.fallback);
    const arma::mat S = Phi.t() * Phi + 40.0 * 1e-3 * arma::eye(6, 6);
    const double exact = rcond_1norm_exact(S);
    CHECK(sol.rcond >= exact * (1.0 - 1e-10));
    CHECK(sol.rcond <= 3.0 * exact);
    CHECK(sol.rcond <= 1.0);
  }
  SECTION("duplicate columns, lambda = 0: fallback, rcond below the floor, the pseudo-inverse solution") {
    Phi.col(5) = Phi.col(2);
    RidgeOptions o;
    o.form = RidgeForm::primal;
    const RidgeSolution sol = ridge_solve(Phi, y, 0.0, o);
    CHECK(sol.fallback);
    CHECK(sol.solver.rfind("min-norm (rank 5 of 6)", 0) == 0);
    CHECK(std::isfinite(sol.rcond));
    CHECK(sol.rcond >= 0.0);
    CHECK(sol.rcond < o.rcond_floor);
    REQUIRE(sol.w.is_finite());
    const arma::vec ref = arma::pinv(Phi) * y;
    CHECK(arma::norm(sol.w - ref) <= 1e-10 * arma::norm(ref));
  }
  SECTION("all-zero design: rcond 0, w = 0, no NaN") {
    const arma::mat Z(10, 3, arma::fill::zeros);
    const RidgeSolution sol = ridge_solve(Z, y.head(10), 0.0);
    CHECK(sol.fallback);
    CHECK(sol.rcond == 0.0);
    CHECK(arma::all(sol.w == 0.0));
    CHECK(sol.train_mse == Approx(arma::dot(y.head(10), y.head(10)) / 10.0).epsilon(1e-14));
  }
}

TEST_CASE("ERM phi-step reports rcond in [0, 1], below the floor when K exceeds the data", "[extreme]") {
  const int d = 2, N = 3;
  const arma::mat X = uniform_tokens(d, 60 * N, 51);
  Rng rng(52);
  arma::vec Y(60 * N);
  for (std::size_t t = 0; t < Y.n_elem; ++t) Y[t] = std::sin(X(0, t)) + 0.1 * rng.normal();
  ErmOptions opt;
  opt.rank = 1;
  opt.restarts = 1;
  opt.max_iterations = 5;
  opt.screen_iterations = 5;
  opt.threads = 1;
  SECTION("K = 4 on 180 outputs: Cholesky, rcond above the floor") {
    opt.pieces = 4;
    const PairwiseErmFit fit = fit_pairwise_erm(X, Y, N, opt);
    const LseSolution& ps = fit.diagnostics.phi_step;
    CHECK_FALSE(ps.fallback);
    CHECK(std::isfinite(ps.rcond));
    CHECK(ps.rcond >= opt.rcond_floor);
    CHECK(ps.rcond <= 1.0);
  }
  SECTION("K = 64 on 6 outputs (M = 2): min-norm, rcond below the floor, finite fit") {
    opt.pieces = 64;
    const arma::mat X2 = X.cols(0, 2 * N - 1);
    const arma::vec Y2 = Y.head(2 * N);
    const PairwiseErmFit fit = fit_pairwise_erm(X2, Y2, N, opt);
    const LseSolution& ps = fit.diagnostics.phi_step;
    CHECK(ps.fallback);
    CHECK(ps.rank <= 2u * N);
    CHECK(std::isfinite(ps.rcond));
    CHECK(ps.rcond >= 0.0);
    CHECK(ps.rcond < opt.rcond_floor);
    CHECK(fit.coef.is_finite());
    CHECK(fit.A.is_finite());
    CHECK(std::isfinite(fit.train_risk));
  }
}

// ------------------------------------------------------------------------------------------
// K larger than the data can support.

TEST_CASE("LSE with K = 64 on M = 2 samples: min-norm interpolation, finite, reported", "[extreme]") {
  const int N = 3, d = 2;
  const std::size_t M = 2;
  const arma::mat A{{0.9, 0.1}, {-0.4, 0.6}};
  const arma::mat X = uniform_tokens(d, M * N, 61);
  const arma::vec Y{0.3, -1.2, 0.8, 2.0, -0.1, 0.5};
  const BSplineBasis basis(-1.5, 1.5, 64, 3);
  const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(X, Y, N));
  const LseSolution& s = fit.solution;
  const arma::mat Psi = dense_design(basis, A, X, N);
  const arma::uvec seen = arma::find(arma::sum(arma::abs(Psi), 0).t() > 0.0);
  REQUIRE(seen.n_elem > M * N);  // more observed functions than outputs
  CHECK(s.unobserved == basis.size() - seen.n_elem);
  CHECK(s.fallback);
  CHECK(s.solver.rfind("min-norm", 0) == 0);
  CHECK(s.rank <= M * N);
  CHECK(std::isfinite(s.rcond));
  CHECK(s.rcond >= 0.0);
  CHECK(s.rcond < 1e-12);
  REQUIRE(s.coef.is_finite());
  const arma::vec ref = arma::pinv(Psi) * Y;
  CHECK(arma::norm(s.coef - ref) <= 1e-8 * arma::norm(ref));
  // Underdetermined with full row rank: the fit interpolates.
  CHECK(arma::norm(Psi * s.coef - Y) <= 1e-8 * arma::norm(Y));
  CHECK(std::isfinite(s.train_mse));
  CHECK(s.train_mse >= 0.0);
  CHECK(s.train_mse <= 1e-12 * fit.normal_equations.yy);
}

TEST_CASE("minimax-rate with K = 64 on tiny M: cells marked rank-deficient, excluded and counted", "[extreme]") {
  SECTION("every cell unsupported: no slope, the reason and the counts are in summary.json") {
    const StudyOutput o = run_study("minimax-rate",
                                    {{"N", "3"}, {"d", "2"}, {"r", "1"}, {"sigma", "0.5"}, {"activation", "tanh"},
                                     {"knots", "64"}, {"M", "2,3,4"}, {"seeds", "2"}, {"test-pairs", "1000"},
                                     {"bootstrap", "100"}},
                                    "k64");
    check_output_contract(o);
    REQUIRE(o.cells.size() == 6);
    for (const auto& row : o.cells) {
      INFO("M = " << row.at("M") << ", solver " << row.at("solver"));
      CHECK(row.at("status") == "rank-deficient");
      CHECK(row.at("solver").rfind("min-norm", 0) == 0);
      REQUIRE(!row.at("rcond").empty());
      CHECK(number(row.at("rcond")) >= 0.0);
      CHECK(number(row.at("rcond")) < 1e-12);
      CHECK(finite_or_empty(row.at("error")));
    }
    CHECK(o.summary_file.at("cells_excluded") == 6);
    CHECK(o.summary_file.at("quantities").empty());
    REQUIRE(o.summary_file.contains("error"));
    CHECK(o.summary_file.at("error").get<std::string>().find("usable") != std::string::npos);
  }
  SECTION("mixed: tiny M excluded, large M fitted, the measurement says how many were excluded") {
    const StudyOutput o = run_study("minimax-rate",
                                    {{"N", "3"}, {"d", "2"}, {"r", "1"}, {"sigma", "0.5"}, {"activation", "tanh"},
                                     {"knots", "12"}, {"M", "2,400,800,1600"}, {"seeds", "1"},
                                     {"test-pairs", "1000"}, {"bootstrap", "100"}},
                                    "mixed");
    check_output_contract(o);
    REQUIRE(o.cells.size() == 4);
    CHECK(o.cells[0].at("M") == "2");
    CHECK(o.cells[0].at("status") == "rank-deficient");
    for (std::size_t t = 1; t < 4; ++t) CHECK(o.cells[t].at("status") == "ok");
    CHECK(o.summary_file.at("cells_excluded") == 1);
    REQUIRE(o.summary_file.at("quantities").size() == 1);
    CHECK(o.summary_file.at("quantities")[0].at("details").at("cells_excluded") == 1);
    CHECK(o.summary_file.at("quantities")[0].at("details").at("cells_used") == 3);
  }
}

// ------------------------------------------------------------------------------------------
// sigma = 0 at the study level (exact recovery of phi in the spline space is tested in [lse]).

TEST_CASE("minimax-rate with sigma = 0, d = 1, N = 2: phi in the spline space is recovered to rounding",
          "[extreme]") {
  // phi = bspline:1 has knots -3 + k/2; the estimator's knots on [-1.5, 1.5] with K = 6 are a subset
  // of them, and |u| <= |A| = 1/q99|X_1 X_2| ~ 1.16 < 1.5 never leaves the interval: phi restricted
  // to the data lies in the space, noiseless least squares reproduces it, the error is rounding.
  const StudyOutput o = run_study("minimax-rate",
                                  {{"N", "2"}, {"d", "1"}, {"r", "1"}, {"sigma", "0"}, {"activation", "bspline:1"},
                                   {"degree", "1"}, {"knots", "6"}, {"range", "-1.5,1.5"}, {"M", "2000,4000,8000"},
                                   {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}},
                                  "sigma0");
  check_output_contract(o);
  REQUIRE(o.cells.size() == 6);
  for (const auto& row : o.cells) {
    INFO("M = " << row.at("M") << " rep " << row.at("rep") << " status " << row.at("status") << " error '"
                << row.at("error") << "' clamped " << row.at("clamped") << " test_clamped " << row.at("test_clamped"));
    CHECK(row.at("sigma") == "0");
    CHECK(row.at("clamped") == "0");
    CHECK(row.at("test_clamped") == "0");
    REQUIRE(!row.at("error").empty());
    CHECK(number(row.at("error")) >= 0.0);
    CHECK(number(row.at("error")) <= 1e-20);
    // train_mse comes from c^T G c - 2 c^T h + yy, which cancels: rounding is ~eps * yy, yy <= 9 here.
    CHECK(number(row.at("train_mse")) <= 1e-12);
    // A perfect fit is a usable cell: an error of exactly 0 is not "non-finite".
    CHECK(row.at("status") == "ok");
  }
}

// ------------------------------------------------------------------------------------------
// Activations and data with a huge range.

TEST_CASE("RFA exp scores that overflow are named in a streaming fit and in predict", "[extreme][rfa]") {
  // One key per sample, d = 1: the score is q^T W k of the augmented tokens, read back by scores().
  const auto inputs = [](double scale) {
    AttentionInputs in;
    in.d = 1;
    in.N = 2;
    in.query = arma::mat{{scale, -scale, 0.5}};
    in.keys = arma::mat{{scale, -scale, -scale, scale, 0.1, 0.2}};
    return in;
  };
  RfaOptions o;
  o.heads = 2;
  o.activation = RfaActivation::exp;
  o.seed = 4;
  o.threads = 1;
  RandomFeatureAttention rfa(1, o);
  const AttentionInputs big = inputs(100.0), small = inputs(1.0);
  double largest = -1e300, largest_small = -1e300;
  for (std::size_t s = 0; s < 3; ++s) {
    largest = std::max(largest, rfa.scores(big, s).max());
    largest_small = std::max(largest_small, rfa.scores(small, s).max());
  }
  REQUIRE(largest > 710.0);        // the premise: exp of some score is infinite
  REQUIRE(largest_small < 700.0);  // and of none at scale 1
  RidgeFitOptions ro;
  ro.rule = LambdaRule::fixed;
  ro.lambda = 1e-3;
  const RandomFeatureAttention::SampleSource stream = [&big](std::size_t first, std::size_t count,
                                                            AttentionInputs& block, arma::vec& y) {
    block.d = big.d;
    block.N = big.N;
    block.query = big.query.cols(first, first + count - 1);
    block.keys = big.keys.cols(first * 2, (first + count) * 2 - 1);
    y = arma::vec(count, arma::fill::ones);
  };
  CHECK_THROWS_WITH(rfa.fit_streaming(3, stream, ro, StreamingRidgeOptions{}),
                    Catch::Contains("exp scores overflow"));
  rfa.fit(small, arma::vec{1.0, 2.0, 3.0}, ro);
  CHECK(rfa.predict(small).is_finite());
  CHECK_THROWS_WITH(rfa.predict(big), Catch::Contains("exp scores overflow"));
}

TEST_CASE("exp activation with a huge A: outputs overflow; the LSE must not return NaN silently",
          "[extreme]") {
  // u = x A y with |A| = 1e3 reaches ~1e3: exp(u) overflows to inf in the generated outputs.
  PairwiseModelSpec spec;
  spec.N = 3;
  spec.d = 1;
  spec.r = 1;
  spec.sigma = 0.0;
  spec.activation = "exp";
  const PairwiseModel model(spec, 1, arma::mat(1, 1, arma::fill::value(1e3)));
  const std::size_t M = 50;
  arma::mat X(1, M * 3);
  arma::vec Y(M * 3);
  model.draw_samples(2, 0, M, X.memptr(), Y.memptr());
  REQUIRE_FALSE(Y.is_finite());  // the premise: the generator itself overflows
  const BSplineBasis basis(-1e3, 1e3, 4, 3);
  // Refused where the cause can be named, never NaN coefficients with a clean "cholesky" report.
  CHECK_THROWS_WITH(fit_pairwise_lse(basis, model.A(), 3, 1, M, in_memory_source(X, Y, 3)),
                    Catch::Contains("outputs Y are not finite"));
}

// The A-known problem of the two scaled-output tests below: Gaussian outputs on uniform tokens and
// its ordinary fit `base`, against which c * Y is compared.
struct ScaledOutputsProblem {
  static constexpr int N = 3, d = 2;
  static constexpr std::size_t M = 100;
  const arma::mat A{{0.6, 0.2}, {-0.1, 0.7}};
  const arma::mat X = uniform_tokens(d, M * N, 71);
  const arma::vec Y = [] {
    Rng rng(72);
    arma::vec y(M * N);
    for (auto& v : y) v = rng.normal();
    return y;
  }();
  const BSplineBasis basis{-1.0, 1.0, 3, 2};
  const PairwiseLseFit base = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(X, Y, N));
};

TEST_CASE("huge finite outputs (1e200): LSE refuses them instead of reporting train_mse 0", "[extreme]") {
  // Its training risk c^2 mse overflows for c = 1e200; the honest outcome is a named refusal
  // (before this was fixed, train_mse came back as 0).
  const ScaledOutputsProblem p;
  const auto& [A, X, Y, basis, base] = p;
  constexpr int N = ScaledOutputsProblem::N, d = ScaledOutputsProblem::d;
  constexpr std::size_t M = ScaledOutputsProblem::M;
  REQUIRE(base.solution.train_mse > 0.0);
  const double c = 1e200;
  const arma::vec Yc = c * Y;
  // 1/(MN) sum Y^2 overflows: refused with the reason (train_mse could not be reported).
  CHECK_THROWS_WITH(fit_pairwise_lse(basis, A, N, d, M, in_memory_source(X, Yc, N)),
                    Catch::Contains("squares overflow"));
}

TEST_CASE("huge but representable outputs (1e150): LSE train_mse scales by 1e300", "[extreme]") {
  const ScaledOutputsProblem p;
  const auto& [A, X, Y, basis, base] = p;
  constexpr int N = ScaledOutputsProblem::N, d = ScaledOutputsProblem::d;
  constexpr std::size_t M = ScaledOutputsProblem::M;
  const double c = 1e150;
  const arma::vec Yc = c * Y;
  const PairwiseLseFit big = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(X, Yc, N));
  REQUIRE(big.solution.coef.is_finite());
  CHECK(arma::norm(big.solution.coef - c * base.solution.coef) <= 1e-12 * c * arma::norm(base.solution.coef));
  CHECK(big.solution.rcond == base.solution.rcond);  // G does not depend on Y
  CHECK(big.solution.train_mse == Approx(c * c * base.solution.train_mse).epsilon(1e-8));
}

TEST_CASE("joint fit with outputs near the overflow threshold (1e300) is finite and scale-covariant", "[extreme]") {
  const int d = 2, N = 3;
  const std::size_t M = 60;
  const arma::mat X = uniform_tokens(d, M * N, 81);
  Rng rng(82);
  arma::vec Y(M * N);
  for (std::size_t t = 0; t < Y.n_elem; ++t) Y[t] = std::cos(2.0 * X(1, t)) + 0.1 * rng.normal();
  ErmOptions opt;
  opt.rank = 1;
  opt.pieces = 4;
  opt.restarts = 2;
  opt.max_iterations = 15;
  opt.screen_iterations = 4;
  opt.threads = 1;
  const PairwiseErmFit base = fit_pairwise_erm(X, Y, N, opt);
  const double c = 1e300;
  const PairwiseErmFit big = fit_pairwise_erm(X, arma::vec(c * Y), N, opt);
  REQUIRE(big.coef.is_finite());
  REQUIRE(big.A.is_finite());
  CHECK(std::isfinite(big.diagnostics.relative_gradient));
  CHECK(std::isfinite(big.diagnostics.phi_step.rcond));
  // The ERM works on Y / RMS(Y): the path is the same up to rounding, coefficients scale by c,
  // the risk by c^2 (1e600 overflows: +inf is the honest report, never NaN or 0).
  CHECK(arma::norm(big.coef / c - base.coef) <= 1e-6 * arma::norm(base.coef));
  CHECK_FALSE(std::isnan(big.train_risk));
  CHECK(big.train_risk != 0.0);
}

TEST_CASE("RFA exp scores overflowing: fit throws InputError naming the overflow", "[extreme]") {
  const int d = 2, N = 3;
  const std::size_t n = 20;
  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query = uniform_tokens(d, n, 91, 1e3);
  in.keys = uniform_tokens(d, n * N, 92, 1e3);
  RfaOptions o;
  o.heads = 4;
  o.activation = RfaActivation::exp;
  o.seed = 3;
  o.threads = 1;
  RandomFeatureAttention rfa(d, o);
  double largest = -1e300;
  for (std::size_t s = 0; s < n; ++s) largest = std::max(largest, rfa.scores(in, s).max());
  REQUIRE(largest > 710.0);  // premise: scores ~1e6, exp overflows
  CHECK_THROWS_WITH(rfa.features(in), Catch::Contains("exp scores overflow") && Catch::Contains("lower tau"));
  const arma::vec y = arma::linspace(-1.0, 1.0, n);
  for (LambdaRule rule : {LambdaRule::fixed, LambdaRule::gcv, LambdaRule::kfold}) {
    RidgeFitOptions ro;
    ro.rule = rule;
    ro.folds = 4;
    INFO("rule " << to_string(rule));
    CHECK_THROWS_AS(rfa.fit(in, y, ro), InputError);
    CHECK_THROWS_WITH(rfa.fit(in, y, ro), Catch::Contains("exp scores overflow"));
  }
  CHECK_FALSE(rfa.fitted());
  SECTION("softmax on the same inputs is scale-safe: finite features, weights sum to one") {
    RfaOptions os = o;
    os.activation = RfaActivation::softmax;
    const RandomFeatureAttention soft(d, os);
    const arma::mat Ps = soft.features(in);
    CHECK(Ps.is_finite());
    for (int m = 0; m < 4; ++m)
      for (std::size_t s = 0; s < n; ++s) CHECK(Ps(s, m * (d + 1) + d) == Approx(1.0).epsilon(1e-14));
  }
}

TEST_CASE("ridge on a design whose Gram matrix overflows: InputError naming it", "[extreme]") {
  // Phi ~ 1e200: Phi^T Phi ~ 1e400 overflows. Least squares satisfies w(c Phi) = w(Phi) / c.
  Rng rng(101);
  arma::mat Phi(30, 4);
  for (auto& v : Phi) v = rng.normal();
  arma::vec y(30);
  for (auto& v : y) v = rng.normal();
  const RidgeSolution base = ridge_solve(Phi, y, 0.0);
  REQUIRE(base.solver == "cholesky");
  const double c = 1e200;
  CHECK_THROWS_AS(ridge_solve(arma::mat(c * Phi), y, 0.0), InputError);
  CHECK_THROWS_WITH(ridge_solve(arma::mat(c * Phi), y, 0.0), Catch::Contains("Gram matrix of the features overflows"));
}

TEST_CASE("a spline range whose width overflows or whose knots collapse is rejected", "[extreme]") {
  // a = -1e308, b = 1e308: both finite, but b - a = inf (the basis would evaluate to NaN).
  CHECK_THROWS_WITH(BSplineBasis(-1e308, 1e308, 4, 3), Catch::Contains("cannot be cut into 4 pieces"));
  // b = a + 1 ulp with 8 pieces: the interior knots round to a or b.
  CHECK_THROWS_WITH(BSplineBasis(1.0, std::nextafter(1.0, 2.0), 8, 3), Catch::Contains("too narrow"));
  // Wide and narrow but representable: accepted, partition of unity holds.
  for (const auto& [a, b] : {std::pair{-1e300, 1e300}, std::pair{1.0, 1.0 + 1e-12}}) {
    const BSplineBasis basis(a, b, 8, 3);
    double v[BSplineBasis::max_degree + 1];
    for (double t : {0.0, 0.3, 0.77, 1.0}) {
      basis.evaluate(a + t * (b - a), v);
      double sum = 0.0;
      for (int q = 0; q <= 3; ++q) sum += v[q];
      CHECK(sum == Approx(1.0).epsilon(1e-12));
    }
  }
}

TEST_CASE("minimax-rate with a spline range whose width overflows is rejected", "[extreme]") {
  // --range -1e308,1e308 passes the settings check (two finite numbers, a < b) but b - a = inf.
  CHECK_THROWS_WITH(run_study("minimax-rate",
                              {{"N", "3"}, {"d", "2"}, {"r", "1"}, {"activation", "tanh"}, {"knots", "4"},
                               {"range", "-1e308,1e308"}, {"M", "50,100,200"}, {"seeds", "1"}, {"test-pairs", "1000"},
                               {"bootstrap", "100"}},
                              "widerange"),
                    Catch::Contains("cannot be cut into 4 pieces"));
}

TEST_CASE("random features: finite inputs whose scores overflow are named, on two threads too", "[extreme]") {
  // Tokens near 1e200: relu scores x_0^T W_m x_i ~ 1e400 overflow, so the features are infinite
  // although every input is finite. Each path names the overflow; the streaming fit checks each
  // block inside its parallel region (an exception thrown there used to end the program).
  const int d = 2, N = 3;
  const std::size_t n = 600;  // several blocks of 256 samples
  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query = uniform_tokens(d, n, 93, 1e200);
  in.keys = uniform_tokens(d, n * N, 94, 1e200);
  AttentionInputs small = in;
  small.query /= 1e200;
  small.keys /= 1e200;
  for (const int threads : {1, 2}) {
    RfaOptions o;
    o.heads = 4;
    o.seed = 3;
    o.threads = threads;
    RandomFeatureAttention rfa(d, o);
    INFO("threads " << threads);
    CHECK_THROWS_WITH(rfa.features(in), Catch::Contains("the features are not finite") &&
                                            Catch::Contains("scale the inputs down"));
    RidgeFitOptions ro;
    ro.rule = LambdaRule::fixed;
    ro.lambda = 1e-3;
    rfa.fit(small, arma::linspace(-1.0, 1.0, n), ro);
    CHECK_THROWS_WITH(rfa.predict(in), Catch::Contains("the features are not finite"));
    const RandomFeatureAttention::SampleSource stream = [&in](std::size_t first, std::size_t count,
                                                              AttentionInputs& block, arma::vec& y) {
      block = in.samples(first, first + count);
      y = arma::vec(count, arma::fill::ones);
    };
    StreamingRidgeOptions so;
    so.threads = threads;
    so.block_samples = 64;  // several blocks, spread over the threads
    CHECK_THROWS_WITH(rfa.fit_streaming(n, stream, ro, so), Catch::Contains("the features are not finite"));
    // Outputs whose squares overflow: refused by the ridge, named.
    CHECK_THROWS_WITH(rfa.fit(small, arma::vec(n, arma::fill::value(1e200)), ro),
                      Catch::Contains("y is so large that its squares overflow (largest |y| = 1e+200)"));
  }
}

TEST_CASE("random features name the first sample whose features overflow, in every layout", "[extreme]") {
  // Only sample 300 of 600 is huge (several blocks of 256 and of 64 samples): features() (n x P),
  // predict() (one value per sample) and the streaming fit's blocks (P x count, offset by the
  // block's first sample) each name sample 300.
  const int d = 2, N = 3;
  const std::size_t n = 600, bad = 300;
  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query = uniform_tokens(d, n, 95);
  in.keys = uniform_tokens(d, n * N, 96);
  AttentionInputs huge = in;
  huge.query.col(bad) *= 1e200;
  huge.keys.cols(bad * N, bad * N + N - 1) *= 1e200;
  // (Catch's combined matchers hold references to their parts: built afresh in each check.)
  const auto names_bad = [] { return Catch::Contains("sample 300 (0-based): the features are not finite"); };
  RfaOptions o;
  o.heads = 4;
  o.seed = 3;
  o.threads = 2;
  RandomFeatureAttention rfa(d, o);
  CHECK_THROWS_WITH(rfa.features(huge), names_bad());
  RidgeFitOptions ro;
  ro.rule = LambdaRule::fixed;
  ro.lambda = 1e-3;
  rfa.fit(in, arma::linspace(-1.0, 1.0, n), ro);
  CHECK_THROWS_WITH(rfa.predict(huge), names_bad());
  const RandomFeatureAttention::SampleSource stream = [&huge](std::size_t first, std::size_t count,
                                                              AttentionInputs& block, arma::vec& y) {
    block = huge.samples(first, first + count);
    y = arma::vec(count, arma::fill::ones);
  };
  StreamingRidgeOptions so;
  so.threads = 2;
  so.block_samples = 64;
  // The source hands each block as its own inputs; the sample is still named in all n.
  CHECK_THROWS_WITH(rfa.fit_streaming(n, stream, ro, so), names_bad());
  RfMlpOptions mo;
  mo.width = 16;
  mo.seed = 4;
  mo.threads = 2;
  const RandomFeatureMlp mlp(d, N, mo);
  // <w_k, z> of finite inputs overflows only near the top of the range.
  AttentionInputs top = in;
  top.query.col(bad).fill(1.7e308);
  top.keys.cols(bad * N, bad * N + N - 1).fill(1.7e308);
  CHECK_THROWS_WITH(mlp.features(top), names_bad());
  // A block of the data, samples [256, 320), names the sample in the whole data.
  CHECK_THROWS_WITH(mlp.features(top.samples(256, 320), 256), names_bad());
  // The lowest sample, not the first value met in storage order (an n x P matrix is stored column
  // by column): samples 0..3 x 2 features, sample 3 non-finite in feature 0, sample 1 in feature 1.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> v = {0.0, 1.0, 2.0, inf, 4.0, -inf, 6.0, 7.0};
  CHECK(first_non_finite_sample(v.data(), v.size(), [](std::size_t t) { return t % 4; }) == 1);
  CHECK(first_non_finite_sample(v.data(), 4, [](std::size_t t) { return t; }) == 3);
  CHECK(first_non_finite_sample(v.data(), 3, [](std::size_t t) { return t; }) == std::numeric_limits<std::size_t>::max());
}

TEST_CASE("ParallelErrors carries the lowest-index exception out of a parallel region", "[extreme]") {
  for (const int threads : {1, 2, 4}) {
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int b = 0; b < 40; ++b)
      errors.run(static_cast<std::size_t>(b), [b] {
        // Block 3 fails last in time (after block 38 on more than one thread): the lowest index
        // is reported all the same, not the first failure.
        if (b == 3) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (b == 3 || b == 38) throw InputError("block " + std::to_string(b));
      });
    INFO("threads " << threads);
    CHECK_THROWS_WITH(errors.rethrow(), "block 3");
  }
  ParallelErrors none;
  none.run(0, [] {});
  CHECK_NOTHROW(none.rethrow());
}
