#pragma once
// What the binding files of the Python module attnrate._core share: array conversions between
// numpy and Armadillo, options as Settings, and the functions that register each part of the
// module. The Python package (python/attnrate/*.py) wraps _core into estimators and functions with
// the scikit-learn and pandas conventions (docs/python.md); _core itself is not a public API.
//
// Layouts. attnrate stores the tokens of M samples of N tokens in R^d as a d x (M N) column-major
// matrix (token i of sample m in column m N + i), which is the memory of a C-contiguous numpy
// array of shape (M, N, d); outputs Y (M N entries) are a C-contiguous (M, N) array. Matrices
// such as A are converted element by element (numpy (d, d) row-major, Armadillo column-major).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <armadillo>
#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "studies/io/settings.hpp"

namespace attnrate::python {

namespace py = pybind11;

/// A float64 C-contiguous numpy array (other dtypes and layouts are converted on the way in).
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

/// One option given from Python: the option's name (as on the command line, without "--"), its
/// value as text, and the name the caller used (messages say "sigma must be >= 0, got -1").
using Option = std::tuple<std::string, std::string, std::string>;

/// Settings with `keys` and the given options set (Settings::set: an unknown name is an
/// InputError naming the closest valid one).
Settings settings_of(std::vector<KeySpec> keys, const std::vector<Option>& options);

/// Shape of `a` as a vector (for messages and checks).
std::vector<py::ssize_t> shape_of(const Array& a);
/// "(3, 4, 5)".
std::string shape_text(const Array& a);

/// Throws InputError "<name> must have <ndim> dimensions <what>, got shape (...)" unless a.ndim() == ndim.
void require_ndim(const Array& a, int ndim, const std::string& name, const std::string& what);
/// Throws InputError "<name> contains NaN or infinity" unless every entry is finite.
void require_finite(const Array& a, const std::string& name);

/// Tokens (M, N, d) as a d x (M N) matrix and outputs (M, N) as M N entries (copies). Checks
/// shapes (Y matching X's first two axes when given), N >= 2, M >= 1, d >= 1, finiteness.
arma::mat tokens_of(const Array& X, const std::string& name = "X");
arma::vec outputs_of(const Array& Y, const Array& X, const std::string& name = "Y");

/// A (d, d) numpy matrix as Armadillo, checked square of size d and finite.
arma::mat matrix_of(const Array& A, int d, const std::string& name = "A");
/// An Armadillo matrix as a (rows, cols) numpy array.
Array array_of(const arma::mat& m);
/// A vector as a 1-d numpy array.
Array array_of(const arma::vec& v);
Array array_of(const std::vector<double>& v);

/// A JSON value as the Python value json.loads would give (dict, list, int, float, str, bool,
/// None; NaN stays a float): the library's JSON descriptions (a fit.json) reach Python unchanged.
py::object python_of(const nlohmann::json& j);

/// `py::gil_scoped_release` unless the caller does not hold the GIL (always does here; the alias
/// keeps the intent readable at the call sites).
using ReleaseGil = py::gil_scoped_release;

/// OpenBLAS on one thread while any call into the libraries runs, as in the attnrate program (the
/// results then do not depend on the thread count: docs/design.md, section 3), and the caller's
/// setting back when the last one returns, so numpy, which shares Debian's OpenBLAS, keeps its
/// threads. Every function of _core runs under one (py::call_guard<BlasPin>).
class BlasPin {
 public:
  BlasPin();
  ~BlasPin();
  BlasPin(const BlasPin&) = delete;
  BlasPin& operator=(const BlasPin&) = delete;
};
using Guard = py::call_guard<BlasPin>;

/// copy.copy and copy.deepcopy of the library objects the package holds (a truth, a fitted model):
/// the same object, since Python can call only their const members (a refit makes a new object).
template <class T>
std::shared_ptr<T> same(std::shared_ptr<T> p) {
  return p;
}
template <class T>
std::shared_ptr<T> same_deep(std::shared_ptr<T> p, const py::dict&) {
  return p;
}

void register_pairwise(py::module_& m);
void register_random_features(py::module_& m);
void register_studies(py::module_& m);

}  // namespace attnrate::python
