#pragma once
// Choosing a penalty on a log grid that may be too short. A data-driven rule (GCV, k-fold CV, a
// validation split) whose minimum sits at an end of the grid has not found a minimum: the best
// penalty may lie beyond. minimise_on_grid scores the grid, then, while the first minimiser is an
// end point, steps past that end with the grid's own log spacing, up to `max_decades` decades
// beyond it. The result says whether the choice still sits at an end of the extended grid, so
// that callers can flag and count it instead of reporting an unconverged choice silently.
//
// The original grid points are scored exactly as before: when the minimiser is interior nothing
// changes, and results stay bit-identical with a plain argmin.
#include <armadillo>
#include <functional>

namespace attnrate {

struct GridMinimum {
  arma::vec grid;           ///< the grid as scored: the input, extended at an end if needed
  arma::vec scores;         ///< score per grid point
  arma::uword best = 0;     ///< index of the first minimiser (ties pick the smaller penalty)
  double lambda = 0.0;      ///< grid[best]
  bool at_edge = false;     ///< the minimiser is an end of the extended grid (grid of >= 2 points)
  arma::uword extended = 0; ///< number of points added past the ends
};

/// Scores `grid` (strictly increasing, all > 0, finite) with `score` (finite values; a NaN score
/// ranks last) and extends it at an end while the minimiser sits there: by the ratio of the two
/// outermost points, at most max_decades decades (>= 0) past the original end. A one-point grid is
/// never extended (it is a fixed penalty). Throws InputError on a grid that is empty, not
/// increasing, or not finite and positive, or on max_decades < 0.
GridMinimum minimise_on_grid(const arma::vec& grid, const std::function<double(double)>& score,
                             double max_decades = 4.0);

/// The score of one penalty on worker slot `slot` in [0, threads): a scorer called from several
/// threads at once keeps its mutable state per slot (e.g. one factorisation buffer each).
using SlotScore = std::function<double(double lambda, int slot)>;

/// minimise_on_grid with up to `threads` (1..64) penalties scored at once: the grid's points in
/// parallel, then each extension `threads` steps at a time (steps past the point where the
/// sequential search stops are scored and dropped). Points are computed exactly as there, so for
/// a score that depends only on lambda the result is the sequential one, bit for bit, at every
/// thread count. An exception a scorer throws is rethrown, once all workers have finished, where
/// the sequential search would have met it (a step scored ahead and dropped never throws).
GridMinimum minimise_on_grid(const arma::vec& grid, const SlotScore& score, double max_decades, int threads);

}  // namespace attnrate
