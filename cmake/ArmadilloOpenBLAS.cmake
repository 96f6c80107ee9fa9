# Armadillo linked straight to OpenBLAS (no run-time wrapper, so the BLAS in use is known),
# verified by compiling and running a probe: configure stops with a clear message otherwise.
find_path(ARMADILLO_INCLUDE_DIR armadillo)
find_library(OPENBLAS_LIBRARY NAMES openblas)
if(NOT ARMADILLO_INCLUDE_DIR)
  message(FATAL_ERROR "attnrate: Armadillo headers not found. Install libarmadillo-dev "
                      "(./scripts/install-deps.sh does it).")
endif()
if(NOT OPENBLAS_LIBRARY)
  message(FATAL_ERROR "attnrate: OpenBLAS not found; Armadillo must be linked to OpenBLAS. "
                      "Install libopenblas-dev (./scripts/install-deps.sh does it).")
endif()

include(CheckCXXSourceRuns)
set(CMAKE_REQUIRED_INCLUDES ${ARMADILLO_INCLUDE_DIR})
set(CMAKE_REQUIRED_DEFINITIONS -DARMA_DONT_USE_WRAPPER -DARMA_USE_BLAS -DARMA_USE_LAPACK)
set(CMAKE_REQUIRED_LIBRARIES ${OPENBLAS_LIBRARY})
set(CMAKE_REQUIRED_QUIET ON)
check_cxx_source_runs([=[
#include <armadillo>
#include <cstring>
extern "C" char* openblas_get_config();
int main() {
  const char* cfg = openblas_get_config();
  if (cfg == nullptr || std::strstr(cfg, "OpenBLAS") == nullptr) return 1;
  arma::mat A = {{4.0, 1.0}, {1.0, 3.0}};
  arma::mat R;
  if (!arma::chol(R, A)) return 2;           // LAPACK dpotrf from OpenBLAS
  arma::mat B = A * A;                        // BLAS dgemm from OpenBLAS
  return std::abs(B(0, 0) - 17.0) < 1e-12 ? 0 : 3;
}
]=] ATTNRATE_ARMADILLO_USES_OPENBLAS)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_DEFINITIONS)
unset(CMAKE_REQUIRED_LIBRARIES)
if(NOT ATTNRATE_ARMADILLO_USES_OPENBLAS)
  message(FATAL_ERROR "attnrate: Armadillo is not linked to OpenBLAS (probe with ${OPENBLAS_LIBRARY} "
                      "failed: openblas_get_config or LAPACK missing). attnrate requires "
                      "Armadillo on OpenBLAS; install libopenblas-dev and libarmadillo-dev.")
endif()
message(STATUS "attnrate: Armadillo uses OpenBLAS (${OPENBLAS_LIBRARY})")

add_library(attnrate_linalg INTERFACE)
target_include_directories(attnrate_linalg SYSTEM INTERFACE ${ARMADILLO_INCLUDE_DIR})
target_link_libraries(attnrate_linalg INTERFACE ${OPENBLAS_LIBRARY})
add_library(attnrate::linalg ALIAS attnrate_linalg)
