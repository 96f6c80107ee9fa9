#pragma once
// `attnrate --version`: what was built, from which revision, against which libraries.
#include <string>

namespace attnrate {

/// Several lines: "attnrate VERSION (git REVISION)" (the revision captured when CMake configured
/// the build; "unknown" outside a git checkout), the compiler, then the versions of Armadillo,
/// the BLAS/LAPACK it calls (OpenBLAS's own configuration string), CLI11, toml++, nlohmann json,
/// Boost, and MPI (the library's version string, or "not built in"). Ends with a newline.
std::string version_text();

}  // namespace attnrate
