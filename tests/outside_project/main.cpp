// Uses the installed attnrate library from outside its tree: simulates pairwise-interaction data
// Y_i = 1/(N-1) sum_j tanh(X_i^T A X_j) + noise, fits phi by spline least squares with A known,
// and checks the fitted phi against the truth on fresh token pairs. Exit 0 when the L2 error is
// small, 1 otherwise.
#include <algorithm>
#include <armadillo>
#include <cmath>
#include <cstdio>

#include "estimators/bspline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "theory/pairwise/pairwise_model.hpp"

int main() {
  using namespace attnrate;
  PairwiseModelSpec spec;
  spec.N = 4;
  spec.d = 3;
  spec.r = 1;
  spec.sigma = 0.1;
  spec.activation = "tanh";
  const PairwiseModel model(spec, /*model_seed=*/7);

  const std::size_t M = 2000;
  arma::mat X(spec.d, M * spec.N);
  arma::vec Y(M * spec.N);
  model.draw_samples(/*data_seed=*/11, 0, M, X.memptr(), Y.memptr());

  const auto [a, b] = interaction_range(model, /*seed=*/13, 100000);
  const BSplineBasis basis(a, b, /*pieces=*/8, /*degree=*/3);
  const PairwiseLseFit fit = fit_pairwise_lse(basis, model.A(), spec.N, spec.d, M, in_memory_source(X, Y, spec.N));

  // L2(rho) error of phi_hat on fresh interactions u = X_1^T A X_2 (inside the spline range).
  const arma::vec u = model.draw_pair_interactions(/*seed=*/17, 20000);
  double sq = 0.0;
  for (double v : u) {
    const double w = std::clamp(v, a, b);
    const double e = fit.phi_hat(w) - model.phi()(w);
    sq += e * e;
  }
  const double rms = std::sqrt(sq / static_cast<double>(u.n_elem));
  std::printf("outside project: M = %zu, K = 8, solver %s, L2 error of phi_hat %.3g\n", M, fit.solution.solver.c_str(),
              rms);
  return rms < 0.05 ? 0 : 1;
}
