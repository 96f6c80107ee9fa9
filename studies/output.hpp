#pragma once
// Writing study outputs: atomic files, CSV tables, number formatting, build information.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnrate {

/// Writes `content` to a temporary file beside `path`, fsyncs it and renames it over `path`,
/// so a reader (or a resumed run) never sees a half-written file.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// Shortest decimal that round-trips to the same double ("nan"/"inf" never reach outputs:
/// callers mark such cells instead).
std::string format_double(double v);

/// format_double for finite values; an empty field for NaN or infinity (the cell's status
/// column says why), so no output file ever contains "nan" or "inf".
std::string format_finite(double v);

/// A CSV table with a header; cells are already formatted strings.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string str() const;
};

/// Git revision, attnrate version, compiler, Armadillo, Boost and OpenBLAS versions.
nlohmann::json build_info();

}  // namespace attnrate
