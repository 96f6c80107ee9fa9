#pragma once
// A researcher's own error table for `attnrate rate`: a CSV with a header naming at least a size
// column and an error column (default names `size` and `error`), optionally a seed column, and
// any number of other columns (ignored). One row per cell, e.g. one run at one size and seed.
//
// Reading is bounded (input_file.hpp: regular files and FIFOs only, ReadLimits) and strict, with
// the conventions of the data CSV readers (pairwise_data.hpp): fields separated by ',', no
// quoting, spaces and tabs around a field ignored, a trailing '\r' and a leading UTF-8 byte order
// mark ignored, a final newline fine and any blank line an error. Numbers must be consumed whole
// by std::from_chars and be finite. Every problem throws InputError as
// "<file>:<line>:<column>: <problem>, got '<text>'" (column = 1-based field number), or
// "<file>:<line>: ..." for a whole row, or "<file>: ..." for the whole table.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "studies/io/input_file.hpp"

namespace attnrate {

/// Which header columns hold what.
struct RateColumns {
  std::string size = "size";
  std::string error = "error";
  /// Seed (or run label) column. nullopt: the column named `seed` when the header has one, else
  /// none. A given name must exist.
  std::optional<std::string> seed;
};

struct RateRow {
  double size = 0.0;   ///< finite, > 0
  double error = 0.0;  ///< finite, > 0
  std::string seed;    ///< the seed column's text ("" without a seed column)
  std::size_t line = 0;  ///< 1-based line in the file (the header is line 1); make_rate_table: 0-based index
};

struct RateTable {
  std::filesystem::path path;
  std::string size_column, error_column;
  std::string seed_column;  ///< "" when the table has none
  std::vector<RateRow> rows;  ///< in file order
};

/// Default limits for error tables (`rate --max-input-size`, `--max-line-length`): the table is
/// read whole into memory, so the file limit is lower than that of the data CSVs.
inline constexpr ReadLimits kRateReadLimits{std::uint64_t{1} << 30, std::uint64_t{1} << 20};

/// Reads and checks an error table. Refuses (InputError, see the file comment): an empty file or
/// header, a named column missing from the header (with the closest header name and the option
/// that renames it) or named twice, a row with a different field count than the header, a size
/// or error that is not a finite number or not > 0, an empty seed, the same (size, seed) twice
/// (naming the line of the first), fewer than 3 rows, and fewer than 2 distinct sizes.
RateTable read_rate_table(const std::filesystem::path& path, const RateColumns& columns = {},
                          const ReadLimits& limits = kRateReadLimits);

/// The same table from values in memory (the Python module's rate_table): row k is (sizes[k],
/// errors[k], seeds[k]), `seeds` empty for a table without a seed column. `name` stands for the
/// file in messages and in RateTable::path; the columns are called size, error and seed. Refuses
/// (InputError) what read_rate_table refuses, naming the entry as "<name>: sizes[k] ..." (0-based):
/// lengths that differ, a size or error that is not finite or not > 0, an empty seed, the same
/// (size, seed) twice, fewer than 3 rows and fewer than 2 distinct sizes.
RateTable make_rate_table(const std::vector<double>& sizes, const std::vector<double>& errors,
                          const std::vector<std::string>& seeds, const std::string& name);

}  // namespace attnrate
