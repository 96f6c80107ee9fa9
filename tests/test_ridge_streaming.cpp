// Streaming primal ridge: normal equations against Phi^T Phi on the materialised matrix, fixed
// lambda and GCV (score curve, chosen lambda, solution, training error) against ridge_solve /
// ridge_fit on the materialised Phi, thread-count bit identity, block-size independence up to
// rounding, the minimum-norm fallback, the RFA streaming fit against RandomFeatureAttention::fit,
// and input validation (including errors thrown inside the parallel region).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "estimators/ridge/ridge_streaming.hpp"

using namespace attnrate;

namespace {

arma::mat gaussian(arma::uword r, arma::uword c, std::uint64_t seed) {
  Rng rng(seed);
  arma::mat A(r, c);
  for (double& v : A) v = rng.normal();
  return A;
}

double rel(const arma::mat& a, const arma::mat& b) { return arma::norm(a - b, "fro") / std::max(arma::norm(b, "fro"), 1e-300); }
double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

bool same_bits(const arma::mat& a, const arma::mat& b) {
  return a.n_rows == b.n_rows && a.n_cols == b.n_cols &&
         (a.n_elem == 0 || std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(double)) == 0);  // no null to memcmp
}

// Rows of an in-memory Phi served as feature blocks (columns of PhiT).
FeatureBlockSource matrix_source(const arma::mat& Phi, const arma::vec& y) {
  return [&Phi, &y](std::size_t first, std::size_t count, double* PhiT, double* yb) {
    arma::mat F(PhiT, Phi.n_cols, count, false, true);
    F = Phi.rows(first, first + count - 1).t();
    for (std::size_t s = 0; s < count; ++s) yb[s] = y[first + s];
  };
}

struct Problem {
  arma::mat Phi;
  arma::vec y;
};

// y = Phi w* + noise; noise = 0.5 keeps ||y - Phi w_ls||^2 a sizeable part of ||y||^2.
Problem linear_problem(arma::uword n, arma::uword p, double noise, std::uint64_t seed) {
  Problem P;
  P.Phi = gaussian(n, p, seed);
  P.y = P.Phi * gaussian(p, 1, seed + 1) + noise * gaussian(n, 1, seed + 2);
  return P;
}

StreamingRidgeOptions stream_options(std::size_t block, int threads, bool residual_pass = true) {
  StreamingRidgeOptions o;
  o.block_samples = block;
  o.threads = threads;
  o.residual_pass = residual_pass;
  return o;
}

}  // namespace

TEST_CASE("streamed normal equations equal Phi^T Phi, Phi^T y, y^T y", "[ridge][streaming]") {
  const Problem P = linear_problem(523, 37, 0.5, 1);
  for (std::size_t block : {1, 16, 100, 523, 4000}) {
    const RidgeNormalEquations ne =
        accumulate_ridge_normal_equations(523, 37, matrix_source(P.Phi, P.y), stream_options(block, 2));
    INFO("block " << block);
    CHECK(ne.n == 523);
    CHECK(rel(ne.G, arma::mat(P.Phi.t() * P.Phi)) < 1e-14);
    CHECK(rel(ne.b, arma::vec(P.Phi.t() * P.y)) < 1e-14);
    CHECK(rel(ne.yy, arma::dot(P.y, P.y)) < 1e-14);
    CHECK(same_bits(ne.G, ne.G.t()));  // exactly symmetric
  }
}

TEST_CASE("streaming fixed-lambda ridge equals ridge_solve on the materialised Phi", "[ridge][streaming]") {
  struct Shape {
    arma::uword n, p;
  };
  std::uint64_t seed = 10;
  for (const Shape sh : {Shape{400, 30}, Shape{97, 60}, Shape{1000, 5}})
    for (double lambda : {1e-6, 1e-3, 1.0})
      for (bool pass : {true, false}) {
        const Problem P = linear_problem(sh.n, sh.p, 0.5, seed);
        seed += 3;
        const RidgeSolution ref = ridge_solve(P.Phi, P.y, lambda, {RidgeForm::primal});
        RidgeFitOptions fo;
        fo.lambda = lambda;
        const RidgeFit fit = ridge_fit_streaming(sh.n, sh.p, matrix_source(P.Phi, P.y), fo, stream_options(32, 2, pass));
        INFO("n " << sh.n << " p " << sh.p << " lambda " << lambda << " residual pass " << pass << " rcond "
                  << ref.rcond);
        REQUIRE(ref.solver == "cholesky");
        CHECK(fit.solution.solver == "cholesky");
        CHECK_FALSE(fit.solution.fallback);
        CHECK(fit.solution.form == RidgeForm::primal);
        CHECK(fit.solution.lambda == lambda);
        CHECK(fit.solution.rank == sh.p);
        CHECK(rel(fit.solution.w, ref.w) < 1e-10);
        CHECK(rel(fit.solution.train_mse, ref.train_mse) < 1e-10);
        CHECK(rel(fit.solution.rcond, ref.rcond) < 1e-10);
        CHECK(fit.selection.rule == LambdaRule::fixed);
        CHECK(fit.selection.lambda == lambda);
        CHECK(fit.selection.scores.is_empty());
      }
}

TEST_CASE("streaming GCV equals ridge_fit's GCV on the materialised Phi", "[ridge][streaming]") {
  // Rank-deficient designs (thin factors) exercise r_perp and the null directions.
  struct Case {
    arma::uword n, p, rank;
    double noise;
  };
  const Case cases[] = {{300, 20, 20, 0.5}, {200, 40, 12, 0.3}, {80, 60, 60, 1.0}};
  const arma::vec grid = log_lambda_grid(1e-6, 10.0, 15);
  std::uint64_t seed = 100;
  for (const Case& cs : cases)
    for (bool pass : {true, false}) {
      const arma::mat Phi = gaussian(cs.n, cs.rank, seed) * gaussian(cs.rank, cs.p, seed + 1);
      const arma::vec y = Phi * gaussian(cs.p, 1, seed + 2) + cs.noise * gaussian(cs.n, 1, seed + 3);
      seed += 4;
      RidgeFitOptions fo;
      fo.rule = LambdaRule::gcv;
      fo.grid = grid;
      fo.solve.form = RidgeForm::primal;
      const RidgeFit ref = ridge_fit(Phi, y, fo);
      const RidgeFit fit = ridge_fit_streaming(cs.n, cs.p, matrix_source(Phi, y), fo, stream_options(16, 2, pass));
      INFO("n " << cs.n << " p " << cs.p << " rank " << cs.rank << " residual pass " << pass);
      REQUIRE(fit.selection.scores.n_elem == grid.n_elem);
      CHECK(fit.selection.rule == LambdaRule::gcv);
      CHECK(rel(fit.selection.scores, ref.selection.scores) < 1e-10);
      for (arma::uword t = 0; t < grid.n_elem; ++t) CHECK(rel(fit.selection.scores[t], ref.selection.scores[t]) < 1e-10);
      CHECK(fit.selection.best == ref.selection.best);
      CHECK(fit.selection.lambda == ref.selection.lambda);
      CHECK(fit.solution.solver == "spectral");
      CHECK(fit.solution.rank == ref.solution.rank);
      CHECK(rel(fit.solution.w, ref.solution.w) < 1e-10);
      CHECK(rel(fit.solution.train_mse, ref.solution.train_mse) < 1e-10);
      // The stand-alone selection from the normal equations gives the same curve.
      const RidgeNormalEquations ne = accumulate_ridge_normal_equations(cs.n, cs.p, matrix_source(Phi, y));
      const LambdaSelection sel = select_lambda_gcv(ne, grid);
      CHECK(rel(sel.scores, ref.selection.scores) < 1e-10);
      CHECK(sel.best == ref.selection.best);
    }
}

TEST_CASE("streaming GCV with the residual pass stays accurate when y is almost in the range", "[ridge][streaming]") {
  // ||y - Phi w_ls||^2 / ||y||^2 ~ 1e-12: the subtraction yy - sum c_j^2 would lose every digit
  // of r_perp, the second pass computes it directly.
  const arma::uword n = 400, p = 25;
  const Problem P = linear_problem(n, p, 1e-6, 200);
  const arma::vec grid = log_lambda_grid(1e-9, 1e-3, 9);
  RidgeFitOptions fo;
  fo.rule = LambdaRule::gcv;
  fo.grid = grid;
  fo.solve.form = RidgeForm::primal;
  const RidgeFit ref = ridge_fit(P.Phi, P.y, fo);
  const RidgeFit fit = ridge_fit_streaming(n, p, matrix_source(P.Phi, P.y), fo, stream_options(64, 2, true));
  CHECK(rel(fit.selection.scores, ref.selection.scores) < 1e-10);
  CHECK(fit.selection.best == ref.selection.best);
  CHECK(rel(fit.solution.w, ref.solution.w) < 1e-10);
}

TEST_CASE("streaming ridge is bit-identical for any thread count", "[ridge][streaming]") {
  const Problem P = linear_problem(2000, 48, 0.5, 300);
  for (bool gcv : {false, true}) {
    RidgeFitOptions fo;
    fo.rule = gcv ? LambdaRule::gcv : LambdaRule::fixed;
    const RidgeNormalEquations ne1 =
        accumulate_ridge_normal_equations(2000, 48, matrix_source(P.Phi, P.y), stream_options(16, 1));
    const RidgeFit f1 = ridge_fit_streaming(2000, 48, matrix_source(P.Phi, P.y), fo, stream_options(16, 1));
    for (int threads : {2, 3, 5}) {
      const RidgeNormalEquations ne =
          accumulate_ridge_normal_equations(2000, 48, matrix_source(P.Phi, P.y), stream_options(16, threads));
      const RidgeFit f = ridge_fit_streaming(2000, 48, matrix_source(P.Phi, P.y), fo, stream_options(16, threads));
      INFO("threads " << threads << " gcv " << gcv);
      CHECK(same_bits(ne.G, ne1.G));
      CHECK(same_bits(ne.b, ne1.b));
      CHECK(std::memcmp(&ne.yy, &ne1.yy, sizeof(double)) == 0);
      CHECK(same_bits(f.solution.w, f1.solution.w));
      CHECK(std::memcmp(&f.solution.train_mse, &f1.solution.train_mse, sizeof(double)) == 0);
      CHECK(same_bits(f.selection.scores, f1.selection.scores));
    }
  }
}

TEST_CASE("streaming ridge does not depend on the block size beyond rounding", "[ridge][streaming]") {
  const Problem P = linear_problem(777, 33, 0.5, 400);
  RidgeFitOptions fo;
  fo.rule = LambdaRule::gcv;
  const RidgeFit ref = ridge_fit_streaming(777, 33, matrix_source(P.Phi, P.y), fo, stream_options(1, 2));
  for (std::size_t block : {3, 64, 256, 777, 10000}) {
    const RidgeFit f = ridge_fit_streaming(777, 33, matrix_source(P.Phi, P.y), fo, stream_options(block, 2));
    INFO("block " << block);
    CHECK(rel(f.selection.scores, ref.selection.scores) < 1e-12);
    CHECK(f.selection.best == ref.selection.best);
    CHECK(rel(f.solution.w, ref.solution.w) < 1e-12);
  }
}

TEST_CASE("streaming ridge falls back to the minimum-norm solution like ridge_solve", "[ridge][streaming]") {
  const arma::mat Phi = gaussian(60, 3, 500) * gaussian(3, 8, 501);  // rank 3 of 8
  const arma::vec y = gaussian(60, 1, 502);
  const RidgeSolution ref = ridge_solve(Phi, y, 0.0, {RidgeForm::primal});
  RidgeFitOptions fo;
  fo.lambda = 0.0;
  const RidgeFit fit = ridge_fit_streaming(60, 8, matrix_source(Phi, y), fo, stream_options(7, 2));
  REQUIRE(ref.fallback);
  CHECK(fit.solution.fallback);
  CHECK(fit.solution.rank == 3);
  CHECK(fit.solution.solver == "min-norm (rank 3 of 8)");
  CHECK(rel(fit.solution.w, arma::vec(arma::pinv(Phi) * y)) < 1e-8);
  CHECK(rel(fit.solution.w, ref.w) < 1e-8);
  CHECK(rel(fit.solution.train_mse, ref.train_mse) < 1e-10);
}

TEST_CASE("RFA streaming fit equals the fit on the materialised features", "[rfa][streaming]") {
  const int d = 4, N = 5;
  const std::size_t n = 600;
  RfaOptions ro;
  ro.heads = 7;  // p = 35
  ro.seed = 9;
  ro.threads = 2;
  const AttentionInputs in = [&] {
    AttentionInputs a;
    a.d = d;
    a.N = N;
    a.query = gaussian(d, n, 600) / std::sqrt(double(d));
    a.keys = gaussian(d, n * N, 601) / std::sqrt(double(d));
    return a;
  }();
  RandomFeatureAttention reference(d, ro), streamed(d, ro);
  const arma::mat Phi = reference.features(in);
  const arma::vec y = Phi * gaussian(Phi.n_cols, 1, 602) + 0.3 * gaussian(n, 1, 603);
  const RandomFeatureAttention::SampleSource source = [&](std::size_t first, std::size_t count, AttentionInputs& blk,
                                                          arma::vec& yb) {
    blk = in.samples(first, first + count);
    yb = y.subvec(first, first + count - 1);
  };

  SECTION("feature blocks are the rows of features()") {
    arma::mat F(streamed.feature_count(), 32);
    streamed.feature_block(in, 64, 32, F.memptr());  // aligned with features()' blocks of 32: same operations
    CHECK(same_bits(arma::mat(F.t()), arma::mat(Phi.rows(64, 95))));
    arma::mat F7(streamed.feature_count(), 7);
    streamed.feature_block(in, 13, 7, F7.memptr());
    CHECK(rel(arma::mat(F7.t()), arma::mat(Phi.rows(13, 19))) < 1e-14);
  }
  SECTION("fixed lambda and GCV") {
    for (bool gcv : {false, true}) {
      RidgeFitOptions fo;
      fo.rule = gcv ? LambdaRule::gcv : LambdaRule::fixed;
      fo.lambda = 1e-4;
      fo.solve.form = RidgeForm::primal;
      const RidgeFit a = reference.fit(in, y, fo);
      const RidgeFit b = streamed.fit_streaming(n, source, fo, stream_options(50, 0));
      INFO("gcv " << gcv);
      CHECK(b.solution.solver == a.solution.solver);
      CHECK(b.selection.lambda == a.selection.lambda);
      if (gcv) CHECK(rel(b.selection.scores, a.selection.scores) < 1e-10);
      CHECK(rel(b.solution.w, a.solution.w) < 1e-10);
      CHECK(rel(streamed.coefficients(), reference.coefficients()) < 1e-10);
      CHECK(rel(b.solution.train_mse, a.solution.train_mse) < 1e-10);
      CHECK(rel(streamed.predict(in), reference.predict(in)) < 1e-10);
    }
  }
  SECTION("thread count: bit-identical") {
    RidgeFitOptions fo;
    const RidgeFit one = streamed.fit_streaming(n, source, fo, stream_options(50, 1));
    const RidgeFit two = streamed.fit_streaming(n, source, fo, stream_options(50, 2));
    const RidgeFit four = streamed.fit_streaming(n, source, fo, stream_options(50, 4));
    CHECK(same_bits(one.solution.w, two.solution.w));
    CHECK(same_bits(one.solution.w, four.solution.w));
  }
  SECTION("bad sources") {
    const RandomFeatureAttention::SampleSource short_block = [&](std::size_t first, std::size_t count,
                                                                 AttentionInputs& blk, arma::vec& yb) {
      source(first, count, blk, yb);
      yb.resize(count - 1);
    };
    CHECK_THROWS_AS(streamed.fit_streaming(n, short_block), InputError);
    const RandomFeatureAttention::SampleSource wrong_d = [&](std::size_t first, std::size_t count,
                                                             AttentionInputs& blk, arma::vec& yb) {
      source(first, count, blk, yb);
      blk.d = d + 1;
    };
    CHECK_THROWS_AS(streamed.fit_streaming(n, wrong_d), InputError);
    const RandomFeatureAttention::SampleSource nan_key = [&](std::size_t first, std::size_t count,
                                                             AttentionInputs& blk, arma::vec& yb) {
      source(first, count, blk, yb);
      if (first > 300) blk.keys(0, 0) = std::numeric_limits<double>::quiet_NaN();
    };
    CHECK_THROWS_AS(streamed.fit_streaming(n, nan_key), InputError);
    CHECK_THROWS_AS(streamed.fit_streaming(n, RandomFeatureAttention::SampleSource{}), InputError);
  }
}

TEST_CASE("streaming ridge rejects bad input", "[ridge][streaming]") {
  const Problem P = linear_problem(50, 4, 0.5, 700);
  const FeatureBlockSource src = matrix_source(P.Phi, P.y);
  CHECK_THROWS_AS(accumulate_ridge_normal_equations(0, 4, src), InputError);
  CHECK_THROWS_AS(accumulate_ridge_normal_equations(50, 0, src), InputError);
  CHECK_THROWS_AS(accumulate_ridge_normal_equations(50, 4, src, stream_options(0, 1)), InputError);
  CHECK_THROWS_AS(accumulate_ridge_normal_equations(50, 4, src, stream_options(8, -1)), InputError);
  CHECK_THROWS_AS(accumulate_ridge_normal_equations(50, 4, FeatureBlockSource{}), InputError);

  RidgeFitOptions fo;
  fo.lambda = -1.0;
  CHECK_THROWS_AS(ridge_fit_streaming(50, 4, src, fo), InputError);
  fo.lambda = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ridge_fit_streaming(50, 4, src, fo), InputError);
  fo.lambda = 0.1;
  fo.rule = LambdaRule::kfold;
  CHECK_THROWS_AS(ridge_fit_streaming(50, 4, src, fo), InputError);
  fo.rule = LambdaRule::gcv;
  fo.grid = arma::vec{0.0, 1.0};
  CHECK_THROWS_AS(ridge_fit_streaming(50, 4, src, fo), InputError);
  fo.rule = LambdaRule::fixed;
  fo.grid.reset();
  fo.solve.form = RidgeForm::dual;
  CHECK_THROWS_AS(ridge_fit_streaming(50, 4, src, fo), InputError);

  // Errors inside the parallel region reach the caller: non-finite data and the source's own.
  const FeatureBlockSource nan_source = [&](std::size_t first, std::size_t count, double* PhiT, double* yb) {
    src(first, count, PhiT, yb);
    if (first >= 40) yb[0] = std::numeric_limits<double>::infinity();
  };
  CHECK_THROWS_AS(accumulate_ridge_normal_equations(50, 4, nan_source, stream_options(8, 2)), InputError);
  const FeatureBlockSource throwing = [](std::size_t, std::size_t, double*, double*) {
    throw std::runtime_error("source failed");
  };
  CHECK_THROWS_WITH(accumulate_ridge_normal_equations(50, 4, throwing, stream_options(8, 2)), "source failed");

  RidgeNormalEquations ne = accumulate_ridge_normal_equations(50, 4, src);
  CHECK_THROWS_AS(ridge_solve_normal_equations(ne, -1.0), InputError);
  CHECK_THROWS_AS(ridge_solve_normal_equations(ne, 0.1, {RidgeForm::dual}), InputError);
  CHECK_THROWS_AS(select_lambda_gcv(ne, arma::vec()), InputError);
  ne.b.resize(3);
  CHECK_THROWS_AS(ridge_solve_normal_equations(ne, 0.1), InputError);
}
