#include "estimators/ridge/lambda_search.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "estimators/ridge/ridge_detail.hpp"

namespace attnrate {

namespace {

// Strict "better than": a NaN never wins, so a failed score cannot be chosen.
bool better(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); }

// score(points[k], slot) for every k, point k on slot k % threads (slot 0 on the calling thread).
// A point whose score threw keeps its exception, rethrown by at() only if the search uses it: a
// step scored ahead of a sequential stop must not fail a search that never reaches it.
struct Scores {
  std::vector<double> value;
  std::vector<std::exception_ptr> failure;
  double at(std::size_t k) const {
    if (failure[k]) std::rethrow_exception(failure[k]);
    return value[k];
  }
};

Scores score_all(const std::vector<double>& points, const SlotScore& score, int threads) {
  Scores out{std::vector<double>(points.size()), std::vector<std::exception_ptr>(points.size())};
  const std::size_t workers = std::min(points.size(), static_cast<std::size_t>(threads));
  const auto work = [&](std::size_t slot) {
    for (std::size_t k = slot; k < points.size(); k += workers) try {
        out.value[k] = score(points[k], static_cast<int>(slot));
      } catch (...) {
        out.failure[k] = std::current_exception();
      }
  };
  std::vector<std::jthread> pool;
  for (std::size_t slot = 1; slot < workers; ++slot) pool.emplace_back(work, slot);
  if (workers > 0) work(0);
  pool.clear();  // joins every worker before `out` is returned
  return out;
}

}  // namespace

GridMinimum minimise_on_grid(const arma::vec& grid, const std::function<double(double)>& score, double max_decades) {
  return minimise_on_grid(grid, [&score](double lambda, int) { return score(lambda); }, max_decades, 1);
}

GridMinimum minimise_on_grid(const arma::vec& grid, const SlotScore& score, double max_decades, int threads) {
  if (grid.is_empty()) throw InputError("lambda grid is empty; give at least one value");
  if (!(max_decades >= 0.0) || !std::isfinite(max_decades))
    throw InputError("lambda grid extension must be a finite number of decades >= 0, got " + detail::format_value(max_decades));
  if (threads < 1 || threads > 64)
    throw InputError("lambda search threads must be in 1..64, got " + std::to_string(threads));
  for (arma::uword t = 0; t < grid.n_elem; ++t) {
    if (!(grid[t] > 0.0) || !std::isfinite(grid[t]))
      throw InputError("lambda grid value " + detail::format_value(grid[t]) + " is not allowed; values must be finite and > 0");
    if (t > 0 && !(grid[t] > grid[t - 1]))
      throw InputError("lambda grid must be strictly increasing; value " + detail::format_value(grid[t]) + " follows " +
                       detail::format_value(grid[t - 1]));
  }
  std::deque<double> g(grid.begin(), grid.end()), s;
  const Scores first = score_all(std::vector<double>(g.begin(), g.end()), score, threads);
  for (std::size_t k = 0; k < g.size(); ++k) s.push_back(first.at(k));
  std::size_t best = 0;
  for (std::size_t t = 1; t < s.size(); ++t)
    if (better(s[t], s[best])) best = t;

  GridMinimum out;
  if (g.size() >= 2) {
    const double factor = std::pow(10.0, max_decades);
    const double hi_limit = grid[grid.n_elem - 1] * factor, lo_limit = grid[0] / factor;
    const double up = grid[grid.n_elem - 1] / grid[grid.n_elem - 2], down = grid[1] / grid[0];
    const auto batch = static_cast<std::size_t>(threads);
    // Upward: while the minimiser is the last point and the next step stays inside the limit.
    bool going = best + 1 == g.size();
    while (going) {
      std::vector<double> next;  // the next steps, each from the one before, as one at a time
      for (double l = g.back() * up; next.size() < batch && l <= hi_limit * (1 + 1e-12); l *= up) next.push_back(l);
      if (next.empty()) break;
      const Scores scores = score_all(next, score, threads);
      for (std::size_t k = 0; k < next.size() && going; ++k) {
        g.push_back(next[k]);
        s.push_back(scores.at(k));
        ++out.extended;
        if (better(s.back(), s[best])) best = g.size() - 1;
        going = best + 1 == g.size();
      }
    }
    // Downward (only when the minimiser is the first point; ties keep the smaller penalty).
    going = best == 0;
    while (going) {
      std::vector<double> next;
      for (double l = g.front() / down; next.size() < batch && l >= lo_limit * (1 - 1e-12); l /= down) next.push_back(l);
      if (next.empty()) break;
      const Scores scores = score_all(next, score, threads);
      for (std::size_t k = 0; k < next.size() && going; ++k) {
        g.push_front(next[k]);
        s.push_front(scores.at(k));
        ++out.extended;
        if (better(s[1], s[0])) {  // the old end point stays the minimiser
          best = 1;
          going = false;
        }
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
