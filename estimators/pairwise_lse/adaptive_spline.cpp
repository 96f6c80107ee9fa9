#include "estimators/pairwise_lse/adaptive_spline.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "estimators/common/enum_names.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/knot_insertion.hpp"

namespace attnrate {

namespace {
constexpr auto kSelectionRuleNames = enum_names<SelectionRule>({"cv", "penalty", "cv-refit", "mixture"});
}  // namespace

SelectionRule parse_selection_rule(std::string_view s) {
  if (const auto rule = kSelectionRuleNames.find(s)) return *rule;
  throw InputError("--select must be mixture, cv, cv-refit or penalty, got '" + std::string(s) + "'");
}

std::string to_string(SelectionRule r) { return kSelectionRuleNames.name(r); }

int adaptive_max_pieces(std::size_t M) {
  const double n = static_cast<double>(M);
  const double l = std::log(n);
  const double k = n > 1.0 ? std::floor(n / (l * l)) : 1.0;
  return static_cast<int>(std::clamp(k, 1.0, 1e9));
}

std::vector<int> adaptive_pieces_grid(int min_pieces, int max_pieces) {
  std::vector<int> grid{min_pieces};
  while (static_cast<long long>(grid.back()) * 2 <= max_pieces) grid.push_back(grid.back() * 2);
  return grid;
}

double AdaptiveSplineFit::value(std::size_t i, double u) const { return basis(i).value(candidates[i].coef, u); }

std::size_t select_candidate(const std::vector<double>& criteria, double floor) {
  double best = std::numeric_limits<double>::infinity();
  bool any = false;
  for (double v : criteria)
    if (std::isfinite(v)) {
      best = std::min(best, v);
      any = true;
    }
  if (!any) return criteria.size();
  const double tol = std::max(1e-9 * std::abs(best), floor);
  for (std::size_t i = 0; i < criteria.size(); ++i)
    if (std::isfinite(criteria[i]) && criteria[i] <= best + tol) return i;
  return criteria.size();  // unreachable
}

std::vector<double> mixture_weights(const std::vector<double>& cp, const std::vector<bool>& use, double sigma2_hat,
                                    double n) {
  std::vector<double> w(cp.size(), 0.0);
  std::size_t best = cp.size();
  for (std::size_t i = 0; i < cp.size(); ++i)
    if (use[i] && std::isfinite(cp[i]) && (best == cp.size() || cp[i] < cp[best])) best = i;
  if (best == cp.size()) return w;
  // Relative to the smallest C_p: the largest weight is exp(0) = 1, none overflows.
  const double temperature = 4.0 * sigma2_hat / n;
  if (!(temperature > 0.0)) {  // temperature 0 (or below the doubles): the selection
    w[best] = 1.0;
    return w;
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < cp.size(); ++i)
    if (use[i] && std::isfinite(cp[i])) {
      const double v = std::exp(-(cp[i] - cp[best]) / temperature);
      w[i] = v >= 0x1p-53 ? v : 0.0;
      sum += w[i];
    }
  for (double& v : w) v /= sum;
  return w;
}

void use_candidate_as_estimate(AdaptiveSplineFit& fit, std::size_t i) {
  for (std::size_t j = 0; j < fit.candidates.size(); ++j) fit.candidates[j].weight = j == i ? 1.0 : 0.0;
  const SplineCandidate& c = fit.candidates[i];
  fit.estimate = {SplineSum(fit.basis(i), c.coef), c.train_risk, c.flagged};
}

namespace {

// Samples [offset, offset + count) of `src` as samples [0, count).
SampleBlockSource offset_source(const SampleBlockSource& src, std::size_t offset, int N, int d) {
  if (src.in_memory()) {
    const auto [X, Y] = src.block(offset);
    return SampleBlockSource::in_memory(X, Y, N, d);
  }
  return [&src, offset](std::size_t first, std::size_t count, double* X, double* Y) {
    src(first + offset, count, X, Y);
  };
}

// sum_f w_f (G_f, h_f, yy_f) / sum_f w_f over the folds with use[f], in fold order.
NormalEquations combine(const std::vector<NormalEquations>& folds, const std::vector<double>& w,
                        const std::vector<bool>& use) {
  NormalEquations ne;
  const arma::uword p = folds[0].G.n_rows;
  ne.G.zeros(p, p);
  ne.h.zeros(p);
  double total = 0.0;
  for (std::size_t f = 0; f < folds.size(); ++f)
    if (use[f]) {
      ne.G += w[f] * folds[f].G;
      ne.h += w[f] * folds[f].h;
      ne.yy += w[f] * folds[f].yy;
      total += w[f];
      ne.tokens += folds[f].tokens;
      ne.interactions += folds[f].interactions;
      ne.clamped += folds[f].clamped;
    }
  ne.G /= total;
  ne.h /= total;
  ne.yy /= total;
  return ne;
}

double risk(const arma::vec& c, const NormalEquations& ne) {
  return arma::as_scalar(c.t() * ne.G * c) - 2.0 * arma::dot(c, ne.h) + ne.yy;
}

// The mixture over every candidate (file comment). full_fine[s]: degree s's full-data system at
// the largest K of the grid, for the training risk when phi_hat is one degree's spline; a mixture
// of several degrees takes one pass over the samples instead (no system holds their cross terms).
void form_mixture(AdaptiveSplineFit& fit, const std::vector<NormalEquations>& full_fine, double n,
                  const arma::mat& A, int N, int d, std::size_t M, const SampleBlockSource& source,
                  const LseOptions& lse) {
  // An exact fit (residual variance at rounding level): the C_p differences are rounding too, so
  // the selection, with its tie rule, is phi_hat.
  if (!(fit.sigma2_hat > 1e-10 * fit.yy)) {
    use_candidate_as_estimate(fit, fit.selected);
    return;
  }
  std::vector<double> cp;
  for (const SplineCandidate& c : fit.candidates) cp.push_back(c.cp);
  const std::vector<double> w = mixture_weights(cp, std::vector<bool>(cp.size(), true), fit.sigma2_hat, n);
  int max_degree = 0;
  for (const SplineCandidate& c : fit.candidates) max_degree = std::max(max_degree, c.degree);
  SplineEstimate e;
  for (int s = 0; s <= max_degree; ++s) {
    // Degree s's candidates are nested: their weighted sum is one spline on the largest weighted K.
    int pieces = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
      if (w[i] > 0.0 && fit.candidates[i].degree == s) pieces = std::max(pieces, fit.candidates[i].pieces);
    if (pieces == 0) continue;
    const BSplineBasis out(fit.a, fit.b, pieces, s);
    arma::vec coef(static_cast<arma::uword>(out.size()), arma::fill::zeros);
    // In (p, degree) order, coarse to fine: the same sum at any thread count.
    for (std::size_t i = 0; i < w.size(); ++i) {
      const SplineCandidate& c = fit.candidates[i];
      if (w[i] == 0.0 || c.degree != s) continue;
      coef += w[i] * (c.pieces == pieces ? c.coef : arma::vec(refinement_matrix(fit.basis(i), out) * c.coef));
      // The mixture uses the full-data solves only (no fold's), and one with a weight below 1% barely.
      e.flagged = e.flagged || (w[i] >= kMixtureFlagWeight && c.solver.rfind("min-norm", 0) == 0);
    }
    e.phi.add(out, std::move(coef));
  }
  for (std::size_t i = 0; i < w.size(); ++i) fit.candidates[i].weight = w[i];
  if (e.phi.terms().size() == 1) {
    const SplineTerm& t = e.phi.terms().front();
    const NormalEquations& fine = full_fine.at(static_cast<std::size_t>(t.basis.degree()));
    const BSplineBasis fine_basis(fit.a, fit.b, static_cast<int>(fine.G.n_rows) - t.basis.degree(), t.basis.degree());
    e.train_risk = std::max(0.0, t.basis.pieces() == fine_basis.pieces()
                                     ? risk(t.coef, fine)
                                     : risk(t.coef, restrict_normal_equations(fine, refinement_matrix(t.basis, fine_basis))));
  } else {
    e.train_risk = composed_training_risk(e.phi, A, N, d, M, source, lse);
  }
  fit.estimate = std::move(e);
}

}  // namespace

AdaptiveSplineFit fit_adaptive_spline(double a, double b, const arma::mat& A, int N, int d, std::size_t M,
                                      const SampleBlockSource& source, const AdaptiveSplineOptions& o) {
  if (o.folds < 2 || static_cast<std::size_t>(o.folds) > M)
    throw InputError("--folds must be in 2..M (every fold needs a sample), got " + std::to_string(o.folds) +
                     " with M = " + std::to_string(M));
  if (o.max_degree < 0 || o.max_degree > BSplineBasis::max_degree)
    throw InputError("--max-degree must be in 0.." + std::to_string(BSplineBasis::max_degree) + ", got " +
                     std::to_string(o.max_degree));
  if (o.min_pieces < 1) throw InputError("the smallest number of pieces must be >= 1, got " + std::to_string(o.min_pieces));
  if (!(o.penalty > 0.0) || !std::isfinite(o.penalty)) {
    std::ostringstream m;
    m << "--penalty must be finite and > 0, got " << o.penalty;
    throw InputError(m.str());
  }
  const int k_max = std::max(o.min_pieces, o.max_pieces > 0 ? o.max_pieces : adaptive_max_pieces(M));
  const std::vector<int> grid = adaptive_pieces_grid(o.min_pieces, k_max);
  const int top = grid.back();
  const int k = o.folds;

  AdaptiveSplineFit fit;
  fit.sigma2_hat = std::numeric_limits<double>::quiet_NaN();  // until a candidate has df < n
  fit.a = a;
  fit.b = b;
  fit.rule = o.rule;
  fit.outputs = M * static_cast<std::size_t>(N);
  const double n = static_cast<double>(fit.outputs);
  std::vector<double> w(k);
  std::vector<std::size_t> start(k + 1);
  for (int f = 0; f <= k; ++f) start[f] = fold_first_sample(f, M, k);
  for (int f = 0; f < k; ++f) w[f] = static_cast<double>(start[f + 1] - start[f]) * N;
  const std::vector<bool> all(k, true);

  std::vector<NormalEquations> full_fine;  // per degree, for the mixture's training risk
  for (int s = 0; s <= o.max_degree; ++s) {
    const BSplineBasis fine(a, b, top, s);
    std::vector<NormalEquations> fine_folds;
    for (int f = 0; f < k; ++f)
      fine_folds.push_back(accumulate_normal_equations(fine, A, N, d, start[f + 1] - start[f],
                                                       offset_source(source, start[f], N, d), o.lse));
    full_fine.push_back(combine(fine_folds, w, all));
    if (s == 0) {
      fit.clamped = full_fine[0].clamped;
      fit.yy = full_fine[0].yy;
      fit.interactions = full_fine[0].interactions;
    }
    for (int K : grid) {
      const BSplineBasis coarse(a, b, K, s);
      std::vector<NormalEquations> folds;
      if (K == top) folds = fine_folds;
      else {
        const arma::mat R = refinement_matrix(coarse, fine);
        for (const auto& ff : fine_folds) folds.push_back(restrict_normal_equations(ff, R));
      }
      SplineCandidate c;
      c.degree = s;
      c.pieces = K;
      c.p = coarse.size();
      const NormalEquations full = combine(folds, w, all);
      const LseSolution sol = solve_normal_equations(full, o.lse.ridge, o.lse.rcond_floor);
      c.coef = sol.coef;
      c.dof = sol.dof;
      c.solver = sol.solver;
      c.flagged = sol.fallback;
      c.train_risk = sol.train_mse;
      double cv = 0.0;
      for (int f = 0; f < k; ++f) {
        std::vector<bool> use = all;
        use[f] = false;
        const LseSolution sf = solve_normal_equations(combine(folds, w, use), o.lse.ridge, o.lse.rcond_floor);
        c.flagged = c.flagged || sf.fallback;
        c.fold_risk.push_back(risk(sf.coef, folds[f]));
        cv += w[f] * c.fold_risk.back();
      }
      c.cv_risk = cv / n;
      fit.candidates.push_back(std::move(c));
      // sigma2_hat: the smallest df-corrected residual variance (header).
      if (n > sol.dof) {
        const double v = n * sol.train_mse / (n - sol.dof);
        if (!std::isfinite(fit.sigma2_hat) || v < fit.sigma2_hat) fit.sigma2_hat = v;
      }
    }
  }
  std::stable_sort(fit.candidates.begin(), fit.candidates.end(), [](const SplineCandidate& x, const SplineCandidate& y) {
    return x.p != y.p ? x.p < y.p : x.degree < y.degree;
  });
  const bool plug_in = o.rule == SelectionRule::penalty || o.rule == SelectionRule::mixture;
  if (plug_in && !std::isfinite(fit.sigma2_hat))
    throw InputError("--select " + to_string(o.rule) +
                     ": the residual variance is undefined (every candidate has at least as many degrees of freedom as the " +
                     std::to_string(fit.outputs) + " outputs); use more samples or --select cv");
  std::vector<double> crit;
  for (auto& c : fit.candidates) {
    c.penalised = c.train_risk + o.penalty * fit.sigma2_hat * c.dof * std::log(n) / n;
    c.cp = c.train_risk + 2.0 * fit.sigma2_hat * c.dof / n;
    c.criterion = o.rule == SelectionRule::penalty ? c.penalised : o.rule == SelectionRule::mixture ? c.cp : c.cv_risk;
    crit.push_back(c.criterion);
  }
  // Below 1e-10 yy a risk is rounding (the risk formula cancels yy).
  fit.selected = select_candidate(crit, 1e-10 * fit.yy);
  if (fit.selected == crit.size())
    throw InputError("adaptive spline selection: no candidate has a finite criterion (non-finite data?)");
  if (o.rule == SelectionRule::mixture && o.form_estimate) form_mixture(fit, full_fine, n, A, N, d, M, source, o.lse);
  else use_candidate_as_estimate(fit, fit.selected);
  return fit;
}

}  // namespace attnrate
