#include "estimators/ridge/lambda_search.hpp"

#include <cmath>
#include <deque>

#include "estimators/common/input_error.hpp"
#include "estimators/ridge/ridge_detail.hpp"

namespace attnrate {

namespace {

// Strict "better than": a NaN never wins, so a failed score cannot be chosen.
bool better(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); }

}  // namespace

GridMinimum minimise_on_grid(const arma::vec& grid, const std::function<double(double)>& score, double max_decades) {
  if (grid.is_empty()) throw InputError("lambda grid is empty; give at least one value");
  if (!(max_decades >= 0.0) || !std::isfinite(max_decades))
    throw InputError("lambda grid extension must be a finite number of decades >= 0, got " + detail::format_value(max_decades));
  for (arma::uword t = 0; t < grid.n_elem; ++t) {
    if (!(grid[t] > 0.0) || !std::isfinite(grid[t]))
      throw InputError("lambda grid value " + detail::format_value(grid[t]) + " is not allowed; values must be finite and > 0");
    if (t > 0 && !(grid[t] > grid[t - 1]))
      throw InputError("lambda grid must be strictly increasing; value " + detail::format_value(grid[t]) + " follows " +
                       detail::format_value(grid[t - 1]));
  }
  std::deque<double> g(grid.begin(), grid.end()), s;
  for (double l : g) s.push_back(score(l));
  std::size_t best = 0;
  for (std::size_t t = 1; t < s.size(); ++t)
    if (better(s[t], s[best])) best = t;

  GridMinimum out;
  if (g.size() >= 2) {
    const double factor = std::pow(10.0, max_decades);
    const double hi_limit = grid[grid.n_elem - 1] * factor, lo_limit = grid[0] / factor;
    const double up = grid[grid.n_elem - 1] / grid[grid.n_elem - 2], down = grid[1] / grid[0];
    // Upward: the minimiser is the last point and the next step stays inside the limit.
    while (best + 1 == g.size() && g.back() * up <= hi_limit * (1 + 1e-12)) {
      g.push_back(g.back() * up);
      s.push_back(score(g.back()));
      ++out.extended;
      if (better(s.back(), s[best])) best = g.size() - 1;
    }
    // Downward (only when the minimiser is the first point; ties keep the smaller penalty).
    while (best == 0 && g.front() / down >= lo_limit * (1 - 1e-12)) {
      g.push_front(g.front() / down);
      s.push_front(score(g.front()));
      ++out.extended;
      if (better(s[1], s[0])) {  // the old end point stays the minimiser
        best = 1;
        break;
      }
    }
    out.at_edge = best == 0 || best + 1 == g.size();
  }
  out.grid = arma::vec(std::vector<double>(g.begin(), g.end()));
  out.scores = arma::vec(std::vector<double>(s.begin(), s.end()));
  out.best = best;
  out.lambda = g[best];
  return out;
}

}  // namespace attnrate
