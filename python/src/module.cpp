// attnrate._core: the extension module of the Python package attnrate (docs/python.md). It calls
// the libraries in place: no subprocess, no temporary file.
#include <cmath>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "python/src/binding.hpp"
#include "studies/io/output.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/sweep.hpp"

extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int num_threads);

namespace attnrate::python {

namespace {
std::mutex g_blas_mutex;
int g_blas_calls = 0;    // calls into the libraries running now (several Python threads may call)
int g_blas_threads = 1;  // the OpenBLAS threads before the first of them
}  // namespace

BlasPin::BlasPin() {
  const std::lock_guard<std::mutex> lock(g_blas_mutex);
  if (g_blas_calls++ == 0) {
    g_blas_threads = openblas_get_num_threads();
    pin_blas_to_one_thread();
  }
}

BlasPin::~BlasPin() {
  const std::lock_guard<std::mutex> lock(g_blas_mutex);
  if (--g_blas_calls == 0) openblas_set_num_threads(g_blas_threads);
}

Settings settings_of(std::vector<KeySpec> keys, const std::vector<Option>& options) {
  Settings s(std::move(keys));
  for (const auto& [key, value, source] : options) s.set(key, value, source);
  return s;
}

py::object python_of(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [key, value] : j.items()) d[py::str(key)] = python_of(value);
      return d;
    }
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& value : j) l.append(python_of(value));
      return l;
    }
    case nlohmann::json::value_t::string: return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    default: return py::none();  // null, and the binary and discarded values the library never writes
  }
}

std::vector<py::ssize_t> shape_of(const Array& a) { return {a.shape(), a.shape() + a.ndim()}; }

std::string shape_text(const Array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t k = 0; k < a.ndim(); ++k) s << (k ? ", " : "") << a.shape(k);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

void require_ndim(const Array& a, int ndim, const std::string& name, const std::string& what) {
  if (a.ndim() != ndim)
    throw InputError(name + " must have " + std::to_string(ndim) + " dimensions " + what + ", got shape " +
                     shape_text(a));
}

void require_finite(const Array& a, const std::string& name) {
  const double* p = a.data();
  for (py::ssize_t k = 0; k < a.size(); ++k)
    if (!std::isfinite(p[k]))
      throw InputError(name + " contains NaN or infinity (at flat index " + std::to_string(k) + ")");
}

arma::mat tokens_of(const Array& X, const std::string& name) {
  require_ndim(X, 3, name, "(samples M, tokens N, dimension d)");
  if (X.shape(0) < 1 || X.shape(1) < 2 || X.shape(2) < 1)
    throw InputError(name + " needs M >= 1 samples of N >= 2 tokens in d >= 1 dimensions, got shape " + shape_text(X));
  require_finite(X, name);
  const auto d = static_cast<arma::uword>(X.shape(2)), cols = static_cast<arma::uword>(X.shape(0) * X.shape(1));
  return arma::mat(X.data(), d, cols);  // C-order (M, N, d) is column-major d x (M N)
}

arma::vec outputs_of(const Array& Y, const Array& X, const std::string& name) {
  require_ndim(Y, 2, name, "(samples M, tokens N)");
  if (Y.shape(0) != X.shape(0) || Y.shape(1) != X.shape(1))
    throw InputError(name + " must have shape (M, N) = (" + std::to_string(X.shape(0)) + ", " +
                     std::to_string(X.shape(1)) + ") of X, got " + shape_text(Y));
  require_finite(Y, name);
  return arma::vec(Y.data(), static_cast<arma::uword>(Y.size()));
}

arma::mat matrix_of(const Array& A, int d, const std::string& name) {
  require_ndim(A, 2, name, "(d, d)");
  if (A.shape(0) != d || A.shape(1) != d)
    throw InputError(name + " must be " + std::to_string(d) + " x " + std::to_string(d) +
                     " (d of the tokens), got shape " + shape_text(A));
  require_finite(A, name);
  // numpy is row-major: the transpose of the column-major reading.
  return arma::mat(A.data(), d, d).t();
}

Array array_of(const arma::mat& m) {
  Array a({static_cast<py::ssize_t>(m.n_rows), static_cast<py::ssize_t>(m.n_cols)});
  auto r = a.mutable_unchecked<2>();
  for (arma::uword i = 0; i < m.n_rows; ++i)
    for (arma::uword j = 0; j < m.n_cols; ++j) r(i, j) = m(i, j);
  return a;
}

Array array_of(const arma::vec& v) {
  Array a(static_cast<py::ssize_t>(v.n_elem));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

Array array_of(const std::vector<double>& v) {
  Array a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace attnrate::python

PYBIND11_MODULE(_core, m) {
  using namespace attnrate;
  using namespace attnrate::python;
  m.doc() = "attnrate's libraries, called in place (the package attnrate wraps them; see docs/python.md)";
  // Bad input is a ValueError with the library's message; an interrupted sweep a KeyboardInterrupt.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, "interrupted; finished cells are saved (rerun with resume=True)");
    }
  });
  m.attr("__version__") = ATTNRATE_VERSION;
  m.attr("MAX_THREADS") = attnrate::kMaxThreads;
  m.def(
      "build_info", [] { return build_info().dump(); }, Guard(),
      "Build information (JSON text): version, revision, libraries.");
  register_pairwise(m);
  register_random_features(m);
  register_studies(m);
}
