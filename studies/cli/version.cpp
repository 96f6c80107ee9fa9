#include "studies/cli/version.hpp"

#include <CLI/Version.hpp>
#include <nlohmann/json.hpp>
#include <iomanip>
#include <sstream>
#include <string>
#include <toml++/toml.h>

#ifdef ATTNRATE_WITH_MPI
#include <mpi.h>
#endif

#include "studies/io/output.hpp"

namespace attnrate {
namespace {

// MPI_Get_library_version may be called before MPI_Init (MPI-3), so --version needs no MPI run.
std::string mpi_text() {
#ifdef ATTNRATE_WITH_MPI
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string s(text, static_cast<std::size_t>(length));
  s = s.substr(0, s.find_first_of("\n,"));  // the first clause names library and version
  std::ostringstream m;
  m << s << " (MPI " << MPI_VERSION << "." << MPI_SUBVERSION << ")";
  return m.str();
#else
  return "not built in (configure with -DATTNRATE_MPI=ON)";
#endif
}

}  // namespace

std::string version_text() {
  // build_info() is what every output records; --version prints the same values.
  const nlohmann::json b = build_info();
  std::ostringstream t;
  t << "attnrate " << b.at("attnrate_version").get<std::string>() << " (git " << b.at("git_revision").get<std::string>()
    << ")\n";
  const auto line = [&t](const char* label, const auto& value) { t << std::left << std::setw(15) << label << value << "\n"; };
  std::ostringstream toml, json;
  toml << TOML_LIB_MAJOR << "." << TOML_LIB_MINOR << "." << TOML_LIB_PATCH;
  json << NLOHMANN_JSON_VERSION_MAJOR << "." << NLOHMANN_JSON_VERSION_MINOR << "." << NLOHMANN_JSON_VERSION_PATCH;
  line("compiler:", b.at("compiler").get<std::string>() + ", C++" + std::to_string(__cplusplus / 100 % 100));
  line("Armadillo:", b.at("armadillo").get<std::string>());
  line("BLAS/LAPACK:", b.at("openblas").get<std::string>());
  line("CLI11:", CLI11_VERSION);
  line("toml++:", toml.str());
  line("nlohmann json:", json.str());
  line("Boost:", b.at("boost").get<std::string>());
  line("MPI:", mpi_text());
  return t.str();
}

}  // namespace attnrate
