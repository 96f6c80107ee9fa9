#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_erm/erm_block_kernels.hpp"
#include "estimators/piecewise_basis.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>

#include "estimators/common/blas.hpp"
#include "estimators/common/extreme_values.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"

namespace attnrate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Same rule as the A-known accumulation: a function of p and the block count only, never of
// the thread count, so the reduction tree (and every bit of the sums) is fixed.
std::size_t chunk_count(int p, std::size_t blocks) {
  const std::size_t per = static_cast<std::size_t>(p) * p * sizeof(double);
  const std::size_t c = std::clamp<std::size_t>((std::size_t{64} << 20) / std::max<std::size_t>(per, 1), 2, 64);
  return std::max<std::size_t>(1, std::min(c, blocks));
}

// All interactions (nearly) equal: widen [a, b] about its centre (then treated as fixed).
bool widen_if_degenerate(double& a, double& b) {
  const double width = b - a, scale = std::max(std::abs(a), std::abs(b));
  if (width > 1e-10 * scale && width != 0.0) return false;
  const double c = 0.5 * (a + b);
  double hw = std::max(0.5 * width, 1e-6 * std::abs(c));
  if (!(hw > 0.0)) hw = 1.0;
  a = c - hw;
  b = c + hw;
  return true;
}

// One evaluation in internal units (Y divided by its RMS).
struct Eval {
  bool finite = false;
  double risk = kInf;
  arma::mat gU, gV;
  double a = 0.0, b = 0.0;
  bool degenerate = false;
  arma::vec coef;
  LseSolution sol;
};

class Evaluator {
 public:
  // `pieces` rather than o.pieces: the continuation in K builds one evaluator per stage.
  Evaluator(const arma::mat& X, const arma::vec& Y, int N, const ErmOptions& o, int pieces, double inv_ys)
      : X_(X), Y_(Y), N_(N), d_(static_cast<int>(X.n_rows)), r_(o.rank), M_(X.n_cols / N), K_(pieces),
        s_(o.degree), p_(pieces + o.degree), B_(o.block_samples), inv_ys_(inv_ys), rcond_floor_(o.rcond_floor),
        kernels_(select_erm_block_kernels(o.allow_avx2)) {
    blocks_ = (M_ + B_ - 1) / B_;
    chunks_ = chunk_count(p_, blocks_);
    threads_ = o.threads > 0 ? o.threads : omp_get_max_threads();
    PQ_.set_size(2 * r_, X.n_cols);
  }

  Eval evaluate(const arma::mat& U, const arma::mat& V) {
    Eval ev;
    pin_blas_to_one_thread();
    if (!U.is_finite() || !V.is_finite()) return ev;
    std::size_t imin = 0, jmin = 0, imax = 0, jmax = 0;
    double umin = kInf, umax = -kInf;
    if (!range_pass(U, V, umin, umax, imin, jmin, imax, jmax)) return ev;
    double a = umin, b = umax;
    ev.degenerate = widen_if_degenerate(a, b);
    if (!std::isfinite(a) || !std::isfinite(b) || !(a < b)) return ev;
    const BSplineBasis basis(a, b, K_, s_);
    NormalEquations ne = normal_equations_pass(basis);
    if (!ne.G.is_finite() || !ne.h.is_finite()) return ev;
    ev.sol = solve_normal_equations(ne, 0.0, rcond_floor_);
    if (!ev.sol.coef.is_finite()) return ev;
    double ga = 0.0, gb = 0.0, rs = 0.0;
    gradient_pass(basis, ev.sol.coef, rs, ev.gU, ev.gV, ga, gb);
    const double MN = static_cast<double>(M_) * N_;
    const double scale_g = -2.0 / (MN * (N_ - 1));
    ev.gU *= scale_g;
    ev.gV *= scale_g;
    if (!ev.degenerate) {
      // Derivative through the knot interval: a = u(imin, jmin), b = u(imax, jmax).
      const double dLda = 2.0 / (MN * (N_ - 1)) * ga, dLdb = 2.0 / (MN * (N_ - 1)) * gb;
      const arma::span Ps(0, r_ - 1), Qs(r_, 2 * r_ - 1);
      ev.gU += dLda * X_.col(imin) * PQ_(Qs, jmin).t() + dLdb * X_.col(imax) * PQ_(Qs, jmax).t();
      ev.gV += dLda * X_.col(jmin) * PQ_(Ps, imin).t() + dLdb * X_.col(jmax) * PQ_(Ps, imax).t();
    }
    ev.risk = rs / MN;
    ev.a = a;
    ev.b = b;
    ev.coef = ev.sol.coef;
    ev.finite = std::isfinite(ev.risk) && ev.gU.is_finite() && ev.gV.is_finite();
    return ev;
  }

  // The phi-step alone at (U, V) on a given knot interval [a, b] (interactions outside are
  // clamped, counted in `clamped`): coefficients and the training risk from the residuals.
  Eval evaluate_on(const arma::mat& U, const arma::mat& V, double a, double b, std::size_t& clamped) {
    Eval ev;
    pin_blas_to_one_thread();
    std::size_t imin = 0, jmin = 0, imax = 0, jmax = 0;
    double umin = kInf, umax = -kInf;
    if (!U.is_finite() || !V.is_finite() || !range_pass(U, V, umin, umax, imin, jmin, imax, jmax)) return ev;
    ev.degenerate = widen_if_degenerate(a, b);
    if (!std::isfinite(a) || !std::isfinite(b) || !(a < b)) return ev;
    const BSplineBasis basis(a, b, K_, s_);
    NormalEquations ne = normal_equations_pass(basis);
    if (!ne.G.is_finite() || !ne.h.is_finite()) return ev;
    clamped = ne.clamped;
    ev.sol = solve_normal_equations(ne, 0.0, rcond_floor_);
    if (!ev.sol.coef.is_finite()) return ev;
    double ga = 0.0, gb = 0.0, rs = 0.0;
    gradient_pass(basis, ev.sol.coef, rs, ev.gU, ev.gV, ga, gb);  // only the residual sum is used
    ev.risk = rs / (static_cast<double>(M_) * N_);
    ev.a = a;
    ev.b = b;
    ev.coef = ev.sol.coef;
    ev.finite = std::isfinite(ev.risk);
    return ev;
  }

 private:
  struct Span {
    std::size_t first, count, c0, cols;
  };
  Span block(std::size_t b) const {
    const std::size_t first = b * B_, count = std::min(B_, M_ - first);
    return {first, count, first * N_, count * N_};
  }
  std::pair<std::size_t, std::size_t> chunk_blocks(std::size_t c) const {
    return {c * blocks_ / chunks_, (c + 1) * blocks_ / chunks_};
  }

  // Pass 1: P = U^T X, Q = V^T X (stored for passes 2 and 3) and the arg-min/arg-max pairs of u.
  bool range_pass(const arma::mat& U, const arma::mat& V, double& umin, double& umax, std::size_t& imin,
                  std::size_t& jmin, std::size_t& imax, std::size_t& jmax) {
    struct R {
      double lo = kInf, hi = -kInf;
      std::size_t ilo = 0, jlo = 0, ihi = 0, jhi = 0;
      bool finite = true;
    };
    std::vector<R> parts(chunks_);
    const arma::mat UVt = arma::join_rows(U, V).t();  // one GEMM gives P and Q
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks_; ++c) {
      R& part = parts[c];
      const auto [b0, b1] = chunk_blocks(c);
      for (std::size_t bl = b0; bl < b1; ++bl) {
        const Span sp = block(bl);
        const arma::mat Xb(const_cast<double*>(X_.colptr(sp.c0)), d_, sp.cols, false, true);
        arma::mat PQb(PQ_.colptr(sp.c0), 2 * r_, sp.cols, false, true);
        PQb = UVt * Xb;
        for (std::size_t s = 0; s < sp.count; ++s) {
          const std::size_t base = sp.c0 + s * N_;
          if (!sample_may_extend(base, part.lo, part.hi)) continue;
          for (int i = 0; i < N_; ++i)
            for (int j = 0; j < N_; ++j) {
              if (j == i) continue;
              const double u = projected_interaction(P(base + i), Q(base + j), r_);
              if (!std::isfinite(u)) part.finite = false;
              if (u < part.lo) {
                part.lo = u;
                part.ilo = base + i;
                part.jlo = base + j;
              }
              if (u > part.hi) {
                part.hi = u;
                part.ihi = base + i;
                part.jhi = base + j;
              }
            }
        }
      }
    }
    for (const R& part : parts) {  // chunk order; strict comparisons keep the first pair on ties
      if (!part.finite) return false;
      if (part.lo < umin) umin = part.lo, imin = part.ilo, jmin = part.jlo;
      if (part.hi > umax) umax = part.hi, imax = part.ihi, jmax = part.jhi;
    }
    return std::isfinite(umin) && std::isfinite(umax);
  }

  // Whether the sample at token `base` has an interaction below lo, above hi or not finite: the
  // only samples in which the range pass's sequential scan changes anything. Branch-free (the
  // scan's compares and index updates cost more than the products); the running minimum and
  // maximum rarely move after the first samples, so the scan runs on few of them.
  bool sample_may_extend(std::size_t base, double lo, double hi) const noexcept {
    double slo = kInf, shi = -kInf, nonfinite = 0.0;
    for (int i = 0; i < N_; ++i)
      for (int j = 0; j < N_; ++j) {
        const double u = projected_interaction(P(base + i), Q(base + j), r_);
        const bool off = j != i;
        slo = off && u < slo ? u : slo;
        shi = off && u > shi ? u : shi;
        nonfinite += off ? u * 0.0 : 0.0;  // NaN for an infinite or NaN u, else 0
      }
    return slo < lo || shi > hi || nonfinite != 0.0;
  }

  // Pass 2: normal equations of the phi-step on the current basis (as estimators/pairwise_lse).
  NormalEquations normal_equations_pass(const BSplineBasis& basis) {
    std::vector<PartialNormalEquations> parts(chunks_);
    const bool sparse = uses_sparse_accumulation(p_, N_, s_);
    const PiecewiseBasis pb(basis);
#pragma omp parallel num_threads(threads_)
    {
      // Column t of PsiY is (psi_t, y_t): one Gram matrix per block gives G, h and sum y^2.
      const std::size_t q = static_cast<std::size_t>(p_) + 1;
      std::vector<double> PsiY(B_ * N_ * q);
      std::vector<int> touched;
#pragma omp for schedule(dynamic, 1)
      for (std::size_t c = 0; c < chunks_; ++c) {
        PartialNormalEquations& part = parts[c];
        part.Z.zeros(q, q);
        const auto [b0, b1] = chunk_blocks(c);
        for (std::size_t bl = b0; bl < b1; ++bl) {
          const Span sp = block(bl);
          part.clamped += kernels_.features(pb, projected_block(sp), static_cast<int>(q), PsiY.data());
          for (std::size_t t = 0; t < sp.cols; ++t) PsiY[t * q + p_] = Y_[sp.c0 + t] * inv_ys_;
          add_block_normal_equations(PsiY.data(), p_, sp.cols, sparse, part, touched);
        }
      }
    }
    return reduce_normal_equations(parts, p_, M_, N_);
  }

  // Pass 3: residuals r = y - yhat, sum r^2 and the unscaled gradient sums
  // sum_i r_i sum_j phi'(u_ij) X_i Q_j^T (into gU), ... X_j P_i^T (into gV), and the interval sums.
  void gradient_pass(const BSplineBasis& basis, const arma::vec& coef, double& rs, arma::mat& gU, arma::mat& gV,
                     double& ga, double& gb) {
    struct S {
      arma::mat gUV;  // [dU | dV] sums, d x 2r
      ResidualSums sums;
    };
    std::vector<S> parts(chunks_);
    const PiecewiseBasis pb(basis);
    const std::vector<double> phi_table = pb.spline_table(coef);
#pragma omp parallel num_threads(threads_)
    {
      // Z (2r x cols): rows 0..r-1 sum_j w_ij Q_j for token i, rows r..2r-1 sum_i w_ij P_i for token j.
      const std::size_t r2 = 2 * static_cast<std::size_t>(r_);
      std::vector<double> Z(B_ * N_ * r2), scratch(2 * static_cast<std::size_t>(N_));
#pragma omp for schedule(dynamic, 1)
      for (std::size_t c = 0; c < chunks_; ++c) {
        S& part = parts[c];
        part.gUV.zeros(d_, 2 * r_);
        const auto [b0, b1] = chunk_blocks(c);
        for (std::size_t bl = b0; bl < b1; ++bl) {
          const Span sp = block(bl);
          std::fill(Z.begin(), Z.begin() + sp.cols * r2, 0.0);
          kernels_.residuals(pb, phi_table.data(), projected_block(sp), Y_.memptr() + sp.c0, inv_ys_, Z.data(),
                             scratch.data(), part.sums);
          const arma::mat Xb(const_cast<double*>(X_.colptr(sp.c0)), d_, sp.cols, false, true);
          const arma::mat Zb(Z.data(), r2, sp.cols, false, true);
          part.gUV += Xb * Zb.t();
        }
      }
    }
    arma::mat gUV(d_, 2 * r_, arma::fill::zeros);
    rs = ga = gb = 0.0;
    for (const S& part : parts) {
      gUV += part.gUV;
      rs += part.sums.squared;
      ga += part.sums.at_lower;
      gb += part.sums.at_upper;
    }
    gU = gUV.cols(0, r_ - 1);
    gV = gUV.cols(r_, 2 * r_ - 1);
  }

  ProjectedBlock projected_block(const Span& sp) const { return {PQ_.colptr(sp.c0), r_, N_, sp.count}; }

  const arma::mat& X_;
  const arma::vec& Y_;
  int N_, d_, r_;
  std::size_t M_;
  int K_, s_, p_;
  std::size_t B_, blocks_ = 0, chunks_ = 0;
  int threads_ = 1;
  double inv_ys_, rcond_floor_;
  ErmBlockKernels kernels_;
  arma::mat PQ_;  // 2r x MN: P = U^T X (rows 0..r-1), Q = V^T X (rows r..2r-1)
  const double* P(std::size_t t) const noexcept { return PQ_.colptr(t); }
  const double* Q(std::size_t t) const noexcept { return PQ_.colptr(t) + r_; }
};

// ---------------------------------------------------------------------------------------------
// Validation and small helpers.

void validate(const arma::mat& X, const arma::vec& Y, int N, const ErmOptions& o) {
  auto fail = [](const std::string& what) { throw InputError("pairwise ERM: " + what); };
  if (N < 2) fail("tokens per sample N must be >= 2, got " + std::to_string(N));
  if (X.n_rows < 1) fail("token dimension d must be >= 1, got 0 (X has no rows)");
  if (X.n_cols == 0 || X.n_cols % static_cast<arma::uword>(N) != 0)
    fail("X must have M*N columns with M >= 1 and N = " + std::to_string(N) + ", got " + std::to_string(X.n_cols));
  if (Y.n_elem != X.n_cols)
    fail("Y must have one output per token (" + std::to_string(X.n_cols) + "), got " + std::to_string(Y.n_elem));
  const int d = static_cast<int>(X.n_rows);
  if (o.rank < 1 || o.rank > d)
    fail("rank r (--rank) must satisfy 1 <= r <= d = " + std::to_string(d) + ", got " + std::to_string(o.rank));
  if (o.pieces < 1) fail("number of spline pieces K (--knots) must be >= 1, got " + std::to_string(o.pieces));
  if (o.degree < 1 || o.degree > BSplineBasis::max_degree)
    fail("spline degree s (--degree) must be in 1.." + std::to_string(BSplineBasis::max_degree) +
         " (the A-step needs phi'), got " + std::to_string(o.degree));
  if (o.restarts < 1) fail("restarts must be >= 1, got " + std::to_string(o.restarts));
  if (o.max_iterations < 0) fail("max_iterations must be >= 0, got " + std::to_string(o.max_iterations));
  if (o.coarse_pieces < 0)
    fail("coarse_pieces (--coarse-pieces) must be >= 0 (0 = no continuation in K), got " +
         std::to_string(o.coarse_pieces));
  if (o.screen_iterations < -1)
    fail("screen_iterations must be >= 0 (or -1: automatic), got " + std::to_string(o.screen_iterations));
  if (!(o.rel_tol >= 0.0) || !std::isfinite(o.rel_tol))
    fail("rel_tol must be finite and >= 0, got " + std::to_string(o.rel_tol));
  if (o.lbfgs_memory < 1) fail("lbfgs_memory must be >= 1, got " + std::to_string(o.lbfgs_memory));
  if (o.max_backtracks < 1) fail("max_backtracks must be >= 1, got " + std::to_string(o.max_backtracks));
  if (o.block_samples < 1) fail("block_samples must be >= 1, got 0");
  if (o.threads < 0) fail("threads must be >= 0 (0 = all), got " + std::to_string(o.threads));
  if (!(o.rcond_floor >= 0.0) || !std::isfinite(o.rcond_floor))
    fail("rcond_floor must be finite and >= 0, got " + std::to_string(o.rcond_floor));
  if (o.start != ErmStart::random && o.start != ErmStart::moment) fail("start must be ErmStart::random or ::moment");
  {
    const std::size_t n = X.n_cols * static_cast<std::size_t>(N - 1);  // M N (N-1) interactions
    if (o.refit_trim > (n - 1) / 2)
      fail("refit_trim (interactions cut at each end for the final phi-step) must satisfy 2 refit_trim < M N (N-1) = " +
           std::to_string(n) + " so that some remain, got " + std::to_string(o.refit_trim) +
           "; use at most " + std::to_string((n - 1) / 2) + " (0 = no trimmed refit)");
  }
  if (!X.is_finite()) fail("X contains non-finite values");
  if (!Y.is_finite()) fail("Y contains non-finite values");
  const bool has_u = !o.init_U.is_empty(), has_v = !o.init_V.is_empty();
  if (has_u != has_v) fail("init_U and init_V must be given together");
  if (has_u) {
    for (const arma::mat* W : {&o.init_U, &o.init_V})
      if (W->n_rows != X.n_rows || W->n_cols != static_cast<arma::uword>(o.rank))
        fail("init_U and init_V must be d x r = " + std::to_string(d) + " x " + std::to_string(o.rank) + ", got " +
             std::to_string(W->n_rows) + " x " + std::to_string(W->n_cols));
    if (!o.init_U.is_finite() || !o.init_V.is_finite()) fail("init_U or init_V contains non-finite values");
  }
}

// Canonical gauge: U = Q_u W S^{1/2}, V = Q_v Z S^{1/2} with A = U V^T = Q_u (W S Z^T) Q_v^T and
// ||S||_2 = tau. Returns false (U, V unchanged) if A is zero or not finite.
bool balance(arma::mat& U, arma::mat& V, double tau) {
  arma::mat Qu, Ru, Qv, Rv, W, Z;
  arma::vec s;
  if (!arma::qr_econ(Qu, Ru, U) || !arma::qr_econ(Qv, Rv, V)) return false;
  if (!arma::svd(W, s, Z, Ru * Rv.t())) return false;
  const double ns = arma::norm(s);
  if (!(ns > 0.0) || !std::isfinite(ns)) return false;
  const arma::vec root = arma::sqrt(s * (tau / ns));
  U = Qu * W * arma::diagmat(root);
  V = Qv * Z * arma::diagmat(root);
  return U.is_finite() && V.is_finite();
}

arma::vec pack(const arma::mat& U, const arma::mat& V) { return arma::join_cols(arma::vectorise(U), arma::vectorise(V)); }

void unpack(const arma::vec& theta, arma::mat& U, arma::mat& V) {
  const arma::uword n = U.n_elem;
  std::copy(theta.begin(), theta.begin() + n, U.begin());
  std::copy(theta.begin() + n, theta.end(), V.begin());
}

// One restart's optimiser state (resumable, for screening).
struct Run {
  int restart = 0;
  std::string start;
  arma::mat U, V;
  Eval ev;
  int iterations = 0;
  bool stopped = false;
  std::string stop_reason;
  std::deque<std::pair<arma::vec, arma::vec>> memory;  // (s, y)
  double balanced_product = 0.0;                      // ||U||_F ||V||_F at the last balance
};

class Optimiser {
 public:
  Optimiser(Evaluator& f, const ErmOptions& o, double tau, ErmDiagnostics& diag)
      : f_(&f), o_(o), tau_(tau), diag_(diag) {}

  // Next stage of the continuation in K: a new reduced risk, so the run restarts its step count
  // and L-BFGS memory at its current (U, V).
  void restage(Run& run, Evaluator& f) {
    f_ = &f;
    run.memory.clear();
    run.iterations = 0;
    run.stopped = false;
    run.stop_reason.clear();
    run.ev = evaluate(run.U, run.V);
    if (!run.ev.finite) {
      ++diag_.rejected_nonfinite;
      stop(run, "non-finite risk at the warm start of a continuation stage");
    }
  }

  void start(Run& run) {
    if (!balance(run.U, run.V, tau_)) {
      run.stopped = true;
      run.stop_reason = "start: A = U V^T is zero or not finite";
      return;
    }
    run.balanced_product = arma::norm(run.U, "fro") * arma::norm(run.V, "fro");
    run.ev = evaluate(run.U, run.V);
    if (!run.ev.finite) {
      ++diag_.rejected_nonfinite;
      run.stopped = true;
      run.stop_reason = "start: non-finite risk";
    }
  }

  // Accepted steps until run.iterations == limit or a stop rule fires.
  void advance(Run& run, int limit) {
    while (!run.stopped && run.iterations < limit) {
      if (run.ev.risk == 0.0) {
        stop(run, "zero risk");
        break;
      }
      const arma::vec theta = pack(run.U, run.V);
      const arma::vec g = pack(run.ev.gU, run.ev.gV);
      const double gn = arma::norm(g);
      if (!(gn > 0.0)) {
        stop(run, "zero gradient");
        break;
      }
      arma::vec dir = direction(run, g);
      double gd = arma::dot(g, dir);
      if (!(gd < 0.0)) {  // not a descent direction: forget the curvature pairs
        run.memory.clear();
        dir = direction(run, g);
        gd = arma::dot(g, dir);
      }
      arma::mat U1 = run.U, V1 = run.V;
      Eval ev1;
      bool accepted = false;
      double t = 1.0;
      for (int k = 0; k < o_.max_backtracks; ++k) {
        unpack(theta + t * dir, U1, V1);
        ev1 = evaluate(U1, V1);
        if (!ev1.finite) {
          ++diag_.rejected_nonfinite;
          ++diag_.rejected_steps;
          t *= 0.25;
          continue;
        }
        if (ev1.sol.fallback && !run.ev.sol.fallback) {
          ++diag_.rejected_fallback;
          ++diag_.rejected_steps;
          t *= 0.5;
          continue;
        }
        if (ev1.risk <= run.ev.risk + 1e-4 * t * gd) {
          accepted = true;
          break;
        }
        ++diag_.backtracks;
        // Minimiser of the quadratic through f(0), f'(0) and f(t), kept in [0.1 t, 0.5 t].
        const double denom = 2.0 * (ev1.risk - run.ev.risk - gd * t);
        const double tq = denom > 0.0 ? -gd * t * t / denom : 0.5 * t;
        t = std::clamp(tq, 0.1 * t, 0.5 * t);
      }
      if (!accepted) {
        ++diag_.line_search_failures;
        if (!run.memory.empty()) {  // retry once along the scaled steepest descent
          run.memory.clear();
          continue;
        }
        stop(run, "line search found no acceptable point along steepest descent");
        break;
      }
      const arma::vec s = pack(U1, V1) - theta;
      const arma::vec y = pack(ev1.gU, ev1.gV) - g;
      const double sy = arma::dot(s, y);
      if (sy > 1e-12 * arma::norm(s) * arma::norm(y)) {
        run.memory.emplace_back(s, y);
        if (static_cast<int>(run.memory.size()) > o_.lbfgs_memory) run.memory.pop_front();
      }
      const double rel = (run.ev.risk - ev1.risk) / run.ev.risk;
      run.U = std::move(U1);
      run.V = std::move(V1);
      run.ev = std::move(ev1);
      ++run.iterations;
      ++diag_.iterations;
      if (rel < o_.rel_tol) {
        stop(run, "relative risk decrease below rel_tol");
        break;
      }
      maybe_rebalance(run);
    }
    if (!run.stopped && run.iterations >= o_.max_iterations) stop(run, "step cap (max_iterations) reached");
  }

 private:
  Eval evaluate(const arma::mat& U, const arma::mat& V) {
    ++diag_.evaluations;
    return f_->evaluate(U, V);
  }

  static void stop(Run& run, const std::string& why) {
    run.stopped = true;
    run.stop_reason = why;
  }

  // L-BFGS two-loop recursion; without pairs, steepest descent scaled to move (U, V) by 10%.
  arma::vec direction(const Run& run, const arma::vec& g) const {
    if (run.memory.empty()) {
      const double tn = arma::norm(pack(run.U, run.V));
      return -g * (0.1 * tn / arma::norm(g));
    }
    arma::vec q = g;
    const std::size_t m = run.memory.size();
    std::vector<double> alpha(m), rho(m);
    for (std::size_t k = m; k-- > 0;) {
      const auto& [s, y] = run.memory[k];
      rho[k] = 1.0 / arma::dot(y, s);
      alpha[k] = rho[k] * arma::dot(s, q);
      q -= alpha[k] * y;
    }
    const auto& [s_last, y_last] = run.memory.back();
    q *= arma::dot(s_last, y_last) / arma::dot(y_last, y_last);
    for (std::size_t k = 0; k < m; ++k) {
      const auto& [s, y] = run.memory[k];
      const double beta = rho[k] * arma::dot(y, q);
      q += (alpha[k] - beta) * s;
    }
    return -q;
  }

  // R is invariant under U -> cU, V -> V/c' and U -> U G, V -> V G^{-T}; steps drift along these
  // flat directions. Re-normalise when the drift exceeds a factor 2 (memory reset, re-evaluate).
  void maybe_rebalance(Run& run) {
    const double nu = arma::norm(run.U, "fro"), nv = arma::norm(run.V, "fro");
    const double ratio = nu / nv, prod = nu * nv / run.balanced_product;
    if (ratio <= 2.0 && ratio >= 0.5 && prod <= 2.0 && prod >= 0.5) return;
    arma::mat U = run.U, V = run.V;
    if (!balance(U, V, tau_)) return;
    Eval ev = evaluate(U, V);
    if (!ev.finite) return;
    ++diag_.rebalances;
    run.U = std::move(U);
    run.V = std::move(V);
    run.ev = std::move(ev);
    run.memory.clear();
    run.balanced_product = arma::norm(run.U, "fro") * arma::norm(run.V, "fro");
  }

  Evaluator* f_;
  const ErmOptions& o_;
  double tau_;
  ErmDiagnostics& diag_;
};

void check_moment_input(const char* who, const arma::mat& X, const arma::vec& Y, int N, int r) {
  const std::string w = std::string(who) + ": ";
  if (N < 2) throw InputError(w + "tokens per sample N must be >= 2, got " + std::to_string(N));
  if (X.n_rows < 1 || X.n_cols == 0 || X.n_cols % static_cast<arma::uword>(N) != 0)
    throw InputError(w + "X must be d x (M N) with d, M >= 1 and N = " + std::to_string(N) + ", got " +
                     std::to_string(X.n_rows) + " x " + std::to_string(X.n_cols));
  if (Y.n_elem != X.n_cols)
    throw InputError(w + "Y must have one output per token (" + std::to_string(X.n_cols) + "), got " +
                     std::to_string(Y.n_elem));
  if (r < 1 || static_cast<arma::uword>(r) > X.n_rows)
    throw InputError(w + "rank r must satisfy 1 <= r <= d = " + std::to_string(X.n_rows) + ", got " + std::to_string(r));
  if (!X.is_finite()) throw InputError(w + "X contains non-finite values");
  if (!Y.is_finite()) throw InputError(w + "Y contains non-finite values");
}

// The cross moment C of moment_init_A computed on X / xs and Y / ys (xs = max|X|, ys = max|Y|,
// 1 if zero), i.e. C / (xs^2 ys): entries bounded by (N-1), no overflow. Blocks of samples: for
// a block, C += (X diag y) (S - X)^T with column t of S the sum of its sample's tokens (one GEMM).
arma::mat scaled_cross_moment(const arma::mat& X, const arma::vec& Y, int N, double& xs, double& ys) {
  const arma::uword d = X.n_rows, M = X.n_cols / N;
  xs = arma::abs(X).max();
  ys = arma::abs(Y).max();
  if (!(xs > 0.0)) xs = 1.0;
  if (!(ys > 0.0)) ys = 1.0;
  constexpr arma::uword B = 256;
  arma::mat C(d, d, arma::fill::zeros);
  for (arma::uword first = 0; first < M; first += B) {
    const arma::uword count = std::min(B, M - first), c0 = first * N, cols = count * N;
    const arma::mat Xb = X.cols(c0, c0 + cols - 1) / xs;
    const arma::rowvec yb = (Y.subvec(c0, c0 + cols - 1) / ys).t();
    arma::mat Pb(d, cols);  // partners' sum: S_m - X_mi
    for (arma::uword m = 0; m < count; ++m) {
      const arma::span cs(m * N, m * N + N - 1);
      const arma::vec S = arma::sum(Xb.cols(cs), 1);
      Pb.cols(cs) = -Xb.cols(cs);
      Pb.cols(cs).each_col() += S;
    }
    C += (Xb.each_row() % yb) * Pb.t();
  }
  return C / static_cast<double>(M * N);
}

// Rank-r factors (W_r S_r^{1/2}, Z_r S_r^{1/2}) of C, times `scale` >= 0.
std::pair<arma::mat, arma::mat> truncated_factors(const arma::mat& C, int r, double scale) {
  arma::mat W, Z;
  arma::vec sv;
  if (!arma::svd(W, sv, Z, C)) throw InputError("moment_init_A: SVD of the cross moment failed");
  const arma::vec root = arma::sqrt(sv.head(r)) * scale;
  return {W.head_cols(r) * arma::diagmat(root), Z.head_cols(r) * arma::diagmat(root)};
}

// K of each stage: coarse_pieces, 2 coarse_pieces, ... (while below pieces), then pieces.
std::vector<int> continuation_pieces(const ErmOptions& o) {
  std::vector<int> ladder;
  if (o.coarse_pieces > 0)
    for (long k = o.coarse_pieces; k < o.pieces; k *= 2) ladder.push_back(static_cast<int>(k));
  ladder.push_back(o.pieces);
  return ladder;
}

double rms(const arma::vec& Y) {
  const double m = arma::norm(Y) / std::sqrt(static_cast<double>(Y.n_elem));
  return (m > 0.0 && std::isfinite(m)) ? m : 1.0;
}

double rms_scale_robust(const arma::vec& Y) {
  // norm() of huge values can overflow; scale by the max first.
  const double mx = arma::abs(Y).max();
  if (!(mx > 0.0)) return 1.0;
  return mx * rms(Y / mx);
}

}  // namespace

double PairwiseErmFit::g_hat(const double* x, const double* y) const noexcept {
  const arma::uword d = A.n_rows;
  double u = 0.0;
  for (arma::uword j = 0; j < d; ++j) {
    double ay = 0.0;
    for (arma::uword i = 0; i < d; ++i) ay += A(j, i) * y[i];
    u += x[j] * ay;
  }
  return basis.value(coef, u);
}

ReducedRisk reduced_risk(const arma::mat& X, const arma::vec& Y, int N, const arma::mat& U, const arma::mat& V,
                         const ErmOptions& options) {
  validate(X, Y, N, options);
  if (U.n_rows != X.n_rows || V.n_rows != X.n_rows || U.n_cols != static_cast<arma::uword>(options.rank) ||
      V.n_cols != U.n_cols)
    throw InputError("pairwise ERM: U and V must be d x r = " + std::to_string(X.n_rows) + " x " +
                     std::to_string(options.rank));
  const double ys = rms_scale_robust(Y);
  Evaluator f(X, Y, N, options, options.pieces, 1.0 / ys);
  const Eval ev = f.evaluate(U, V);
  ReducedRisk out;
  out.finite = ev.finite;
  if (!ev.finite) return out;
  out.risk = ev.risk * ys * ys;
  out.grad_U = ev.gU * (ys * ys);
  out.grad_V = ev.gV * (ys * ys);
  out.a = ev.a;
  out.b = ev.b;
  out.degenerate_range = ev.degenerate;
  out.coef = ev.coef * ys;
  out.phi_step = ev.sol;
  out.phi_step.coef *= ys;
  out.phi_step.train_mse *= ys * ys;
  return out;
}

std::size_t restart_sample_count(const ErmOptions& options, std::size_t M) noexcept {
  return options.restarts > 1 && options.restart_samples > 0 && options.restart_samples < M ? options.restart_samples
                                                                                              : M;
}

PairwiseErmFit fit_pairwise_erm(const arma::mat& X, const arma::vec& Y, int N, const ErmOptions& options) {
  validate(X, Y, N, options);
  const int d = static_cast<int>(X.n_rows), r = options.rank;
  const double ys = rms_scale_robust(Y);
  // ||A||_F = 1 / mean ||X_t||^2 puts |u| at order 1 whatever the token scale.
  double mean_sq = 0.0;
  const double mx = arma::abs(X).max();
  if (mx > 0.0) {
    const arma::mat Xs = X / mx;  // overflow-safe (copy only for this one reduction)
    mean_sq = arma::accu(arma::square(Xs)) / static_cast<double>(X.n_cols) * mx * mx;
  }
  // Past that every interaction of the scaled A may overflow: no restart could reach a finite risk.
  if (!std::isfinite(mean_sq)) {
    std::ostringstream m;
    m << "pairwise ERM: the tokens are so large that their mean squared norm overflows (largest |x| = " << mx
      << "); scale the tokens down";
    throw InputError(m.str());
  }
  const double tau = mean_sq > 0.0 ? 1.0 / mean_sq : 1.0;

  const std::vector<int> ladder = continuation_pieces(options);
  auto f = std::make_unique<Evaluator>(X, Y, N, options, ladder.front(), 1.0 / ys);
  // Restarts on the first restart_samples samples (header comment); views, no copies.
  const std::size_t M = X.n_cols / static_cast<std::size_t>(N);
  const std::size_t sub_cols = restart_sample_count(options, M) * static_cast<std::size_t>(N);
  const bool subsample = sub_cols < X.n_cols;
  const arma::mat X_sub(const_cast<double*>(X.memptr()), X.n_rows, sub_cols, false, true);
  const arma::vec Y_sub(const_cast<double*>(Y.memptr()), sub_cols, false, true);
  std::unique_ptr<Evaluator> f_sub;
  if (subsample) f_sub = std::make_unique<Evaluator>(X_sub, Y_sub, N, options, ladder.front(), 1.0 / ys);
  ErmDiagnostics diag;
  Optimiser opt(subsample ? *f_sub : *f, options, tau, diag);
  std::vector<Run> runs(options.restarts);
  for (int k = 0; k < options.restarts; ++k) {
    Run& run = runs[k];
    run.restart = k;
    if (k == 0 && !options.init_U.is_empty()) {
      run.U = options.init_U;
      run.V = options.init_V;
      run.start = "init_U/init_V";
    } else if (k == 0 && options.start == ErmStart::moment) {
      // Scale is irrelevant (R(cU, V) = R(U, V)); singular values below 1e-2 s_1 are raised to
      // it: a zero column of U and V is a stationary direction of R, the start must not sit on it.
      double xs = 1.0, ysc = 1.0;
      const arma::mat C = scaled_cross_moment(X, Y, N, xs, ysc);
      arma::mat W, Z;
      arma::vec sv;
      if (C.is_finite() && arma::svd(W, sv, Z, C) && sv[0] > 0.0 && std::isfinite(sv[0])) {
        const arma::vec root = arma::sqrt(arma::clamp(sv.head(r), 1e-2 * sv[0], sv[0]));
        run.U = W.head_cols(r) * arma::diagmat(root);
        run.V = Z.head_cols(r) * arma::diagmat(root);
        run.start = "moment";
      } else {
        run.start = "random (moment estimate zero or not finite)";
      }
    } else {
      run.start = "random";
    }
    if (run.U.is_empty()) {
      Rng rng(derive_seed(options.seed, {static_cast<std::uint64_t>(k)}));
      run.U.set_size(d, r);
      run.V.set_size(d, r);
      for (auto& v : run.U) v = rng.normal();
      for (auto& v : run.V) v = rng.normal();
    }
    opt.start(run);
  }
  // Screening (screen_iterations < 0: automatic). With the continuation every restart runs its
  // cheap coarse first stage to its own stop, so the restart continued has the lowest converged
  // risk and each reported risk is that of the local minimum the restart reached
  // (restart_basins.hpp groups them): screening after a fixed number of steps compares unfinished
  // runs, and a restart still descending into the best basin can lose to one already settled in
  // a worse one. Without the continuation the first stage runs at K = pieces, where full runs of
  // every restart are costly, so 30 screening steps are the default there.
  const bool continuation = ladder.size() > 1;
  const int screen = options.screen_iterations >= 0 ? options.screen_iterations
                                                    : (continuation ? options.max_iterations : 30);
  const bool screening = options.restarts > 1 && screen < options.max_iterations;
  const int first_limit = screening ? screen : options.max_iterations;
  for (Run& run : runs) opt.advance(run, first_limit);
  int best = -1;
  for (int k = 0; k < options.restarts; ++k)
    if (runs[k].ev.finite && (best < 0 || runs[k].ev.risk < runs[best].ev.risk)) best = k;
  if (best >= 0 && screening && !subsample) opt.advance(runs[best], options.max_iterations);
  diag.restarts = options.restarts;
  diag.restart_samples = sub_cols / static_cast<std::size_t>(N);
  for (const Run& run : runs) {
    ErmRestartReport rep;
    rep.restart = run.restart;
    rep.start = run.start;
    rep.iterations = run.iterations;
    rep.risk = run.ev.finite ? run.ev.risk * ys * ys : kInf;
    rep.stop_reason = run.stopped ? run.stop_reason : "screened (another restart was continued)";
    diag.per_restart.push_back(rep);
  }
  if (best >= 0) {
    Run& run = runs[best];
    const auto record_stage = [&](int pieces) {
      diag.stages.push_back({pieces, run.iterations, run.ev.finite ? run.ev.risk * ys * ys : kInf, run.stop_reason});
    };
    if (subsample) {  // the chosen run's first stage again, on all M samples
      opt.restage(run, *f);
      opt.advance(run, options.max_iterations);
    }
    record_stage(ladder.front());
    for (std::size_t k = 1; k < ladder.size() && run.ev.finite; ++k) {
      f = std::make_unique<Evaluator>(X, Y, N, options, ladder[k], 1.0 / ys);
      opt.restage(run, *f);
      opt.advance(run, options.max_iterations);
      record_stage(ladder[k]);
    }
    if (!run.ev.finite) best = -1;
  }

  if (best < 0) {
    // No restart had a finite risk: return phi = 0 on a unit interval, never NaN.
    arma::mat U(d, r, arma::fill::zeros), V(d, r, arma::fill::zeros);
    PairwiseErmFit fit{U * V.t(), U, V, BSplineBasis(-1.0, 1.0, options.pieces, options.degree),
                       arma::zeros(options.pieces + options.degree), arma::mean(arma::square(Y / ys)) * ys * ys,
                       std::move(diag)};
    fit.diagnostics.best_restart = -1;
    fit.diagnostics.stop_reason = fit.diagnostics.stages.empty()
                                      ? "no restart had a finite risk"
                                      : "no restart had a finite risk (" + fit.diagnostics.stages.back().stop_reason + ")";
    fit.diagnostics.phi_step.solver = "none";
    return fit;
  }
  const Run& run = runs[best];
  diag.best_restart = best;
  diag.stop_reason = run.stop_reason;
  if (run.ev.risk > 0.0)
    diag.relative_gradient = arma::norm(pack(run.U, run.V)) * arma::norm(pack(run.ev.gU, run.ev.gV)) / run.ev.risk;
  diag.degenerate_range = run.ev.degenerate;
  diag.train_risk_untrimmed = run.ev.risk * ys * ys;
  diag.untrimmed_a = run.ev.a;
  diag.untrimmed_b = run.ev.b;
  diag.coef_untrimmed = run.ev.coef * ys;
  const Eval* final_ev = &run.ev;
  Eval refit;
  if (options.refit_trim > 0) {
    // Final phi-step on the trimmed training range at the returned (U, V).
    const auto [ta, tb] = trimmed_interaction_range(X, N, run.U, run.V, options.refit_trim);
    std::size_t clamped = 0;
    refit = f->evaluate_on(run.U, run.V, ta, tb, clamped);
    if (refit.finite) {
      final_ev = &refit;
      diag.refit_trim = options.refit_trim;
      diag.refit_clamped = clamped;
    } else {
      diag.stop_reason += "; trimmed refit not finite, the ERM's own phi-step is returned";
    }
  }
  const Eval& ev = *final_ev;
  diag.degenerate_range = ev.degenerate;
  diag.phi_step = ev.sol;
  diag.phi_step.coef *= ys;
  diag.phi_step.train_mse *= ys * ys;
  return PairwiseErmFit{run.U * run.V.t(),
                        run.U,
                        run.V,
                        BSplineBasis(ev.a, ev.b, options.pieces, options.degree),
                        ev.coef * ys,
                        ev.risk * ys * ys,
                        std::move(diag)};
}

std::pair<arma::mat, arma::mat> moment_init_A(const arma::mat& X, const arma::vec& Y, int N, int r) {
  check_moment_input("moment_init_A", X, Y, N, r);
  double xs = 1.0, ys = 1.0;
  const arma::mat C = scaled_cross_moment(X, Y, N, xs, ys);
  return truncated_factors(C, r, xs * std::sqrt(ys));  // U V^T = C_r (xs^2 ys)
}

std::pair<double, double> trimmed_interaction_range(const arma::mat& X, int N, const arma::mat& U,
                                                    const arma::mat& V, std::size_t trim) {
  const std::string w = "trimmed_interaction_range: ";
  if (N < 2) throw InputError(w + "tokens per sample N must be >= 2, got " + std::to_string(N));
  if (X.n_rows < 1 || X.n_cols == 0 || X.n_cols % static_cast<arma::uword>(N) != 0)
    throw InputError(w + "X must be d x (M N) with d, M >= 1 and N = " + std::to_string(N) + ", got " +
                     std::to_string(X.n_rows) + " x " + std::to_string(X.n_cols));
  if (U.n_rows != X.n_rows || V.n_rows != X.n_rows || U.n_cols != V.n_cols || U.n_cols < 1)
    throw InputError(w + "U and V must both be d x r with d = " + std::to_string(X.n_rows) + " and r >= 1, got " +
                     std::to_string(U.n_rows) + " x " + std::to_string(U.n_cols) + " and " +
                     std::to_string(V.n_rows) + " x " + std::to_string(V.n_cols));
  if (!X.is_finite() || !U.is_finite() || !V.is_finite())
    throw InputError(w + "X, U and V must be finite");
  const std::size_t n = X.n_cols * static_cast<std::size_t>(N - 1);
  if (trim > (n - 1) / 2)
    throw InputError(w + "trim must satisfy 2 trim < M N (N-1) = " + std::to_string(n) + ", got " +
                     std::to_string(trim));
  const int r = static_cast<int>(U.n_cols);
  const arma::uword M = X.n_cols / N;
  const arma::mat UVt = arma::join_rows(U, V).t();
  ExtremeValues ext{trim + 1, {}, {}};
  constexpr arma::uword B = 256;
  for (arma::uword first = 0; first < M; first += B) {
    const arma::uword count = std::min(B, M - first), c0 = first * N;
    const arma::mat PQ = UVt * X.cols(c0, c0 + count * N - 1);
    for (arma::uword t0 = 0; t0 < count * N; t0 += N)
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j)
          if (j != i) ext.push(projected_interaction(PQ.colptr(t0 + i), PQ.colptr(t0 + j) + r, r));
  }
  return {ext.low.top(), ext.high.top()};
}

std::pair<double, double> training_interaction_range(const arma::mat& X, int N, const arma::mat& U,
                                                     const arma::mat& V, double tail) {
  if (!(tail >= 0.0 && tail < 0.5))
    throw InputError("training_interaction_range: tail (fraction cut at each end) must be in [0, 0.5), got " +
                     std::to_string(tail));
  if (N < 2 || X.n_cols == 0 || X.n_cols % static_cast<arma::uword>(N) != 0)
    throw InputError("training_interaction_range: X must be d x (M N) with M >= 1 and N >= 2, got N = " +
                     std::to_string(N) + " and " + std::to_string(X.n_cols) + " columns");
  const std::size_t n = X.n_cols * static_cast<std::size_t>(N - 1);
  // ceil((1 - tail)(n-1)) = (n-1) - floor(tail (n-1)) exactly, so one count serves both ends.
  const double x = tail * static_cast<double>(n - 1), xr = std::round(x);
  const double k = std::abs(x - xr) <= 1e-12 * std::max(1.0, x) ? xr : std::floor(x);
  return trimmed_interaction_range(X, N, U, V, static_cast<std::size_t>(k));
}

PairwiseErmFit fit_pairwise_erm(const SampleBlockSource& source, std::size_t M, int N, int d,
                                const ErmOptions& options) {
  if (M < 1) throw InputError("pairwise ERM: number of samples M must be >= 1, got 0");
  if (N < 2) throw InputError("pairwise ERM: tokens per sample N must be >= 2, got " + std::to_string(N));
  if (d < 1) throw InputError("pairwise ERM: token dimension d must be >= 1, got " + std::to_string(d));
  arma::mat X(d, M * N);
  arma::vec Y(M * N);
  const std::size_t B = std::max<std::size_t>(1, options.block_samples);
  for (std::size_t first = 0; first < M; first += B) {
    const std::size_t count = std::min(B, M - first);
    source(first, count, X.colptr(first * N), Y.memptr() + first * N);
  }
  return fit_pairwise_erm(X, Y, N, options);
}

}  // namespace attnrate
