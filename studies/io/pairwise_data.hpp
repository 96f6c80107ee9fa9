#pragma once
// Pairwise-interaction data files: the long-format data CSV and the A matrix CSV.
//
// Data CSV: header `sample,token,x1,...,xd,y`, then one row per token, samples numbered
// 0, 1, 2, ... in order, tokens 0..N-1 in order within each sample, every sample with the
// same N >= 2. A.csv: d rows of d comma-separated numbers, no header.
//
// Reading is strict, streaming (1 MiB blocks, numbers parsed with std::from_chars) and bounded:
// - only regular files and FIFOs are read, within ReadLimits (input_file.hpp; the defaults
//   kDataReadLimits allow 64 GiB files and 16 MiB lines);
// - fields are separated by ','; no quoting; ASCII spaces and tabs around a field are ignored;
//   a trailing '\r' (CRLF files) and a UTF-8 byte order mark at the start are ignored;
// - a number field must be consumed whole by std::from_chars (decimal or exponent form, no
//   leading '+', no hex) and be finite: 'nan', 'inf', '1e999' and '1e-400' (out of the double
//   range) are rejected; sample and token ids must be non-negative decimal integers (digits only);
// - a final newline is fine; any blank line (also at the end, e.g. "\n\n") is an error.
// Error messages: "<file>:<line>:<column>: <problem>, got '<text>'", line 1-based (the header is
// line 1), column = 1-based field number, <text> = the offending field (trimmed, shortened to 60
// characters). Problems with a whole row (blank line, wrong number of fields, too many rows) are
// reported at column 1 and quote the whole row; a missing row at the end (too few matrix rows)
// quotes ''. Problems with the whole file have no line: "<file>: cannot open ...", "<file>: a
// directory, not a file ...", "<file>: larger than ..." and, for read_matrix_csv, "<file>: the
// matrix has RxC entries but the model has d = D ...".
// Writing goes through AtomicFile (output.hpp): a temporary file renamed over the target, which
// must be a regular file or not exist.
#include <armadillo>
#include <cstddef>
#include <filesystem>
#include <string>

#include "studies/io/input_file.hpp"

namespace attnrate {

struct PairwiseData {
  int N = 0;                 ///< tokens per sample
  int d = 0;                 ///< token dimension
  std::size_t M = 0;         ///< number of samples
  arma::mat X;               ///< d x (M*N); column m*N + i is token i of sample m
  arma::vec Y;               ///< M*N outputs, same order as the columns of X
};

/// The long format both data files share: header `sample,<idx>,x1,...,xd,y`, one row per token,
/// samples 0, 1, 2, ... in order, indices 0..T-1 in order within a sample, the same T >= 2 in
/// every sample, M >= 2 samples. Column s*T + t of X (and entry of Y) is index t of sample s.
struct LongTable {
  int T = 0;
  int d = 0;
  std::size_t M = 0;
  arma::mat X;
  arma::vec Y;
};

/// Reads and validates a long-format CSV whose second column is named `idx` ("token" for
/// pairwise data, "key" for attention data); errors as read_pairwise_csv.
LongTable read_long_csv(const std::filesystem::path& path, const std::string& idx,
                        const ReadLimits& limits = kDataReadLimits);
/// Writes a long-format CSV atomically (shortest round-trip numbers); refuses T < 2, M < 2,
/// non-finite values and targets that are not regular files.
void write_long_csv(const std::filesystem::path& path, const std::string& idx, const LongTable& data);

/// Reads and validates a data CSV. Every problem throws InputError with
/// "<file>:<line>:<column>: <what is wrong>, got '<text>'" (line and column 1-based; column is
/// the field number): missing file, empty file, bad header (must be exactly sample,token,x1..xd,y
/// with d >= 1), wrong number of fields, a field that is not a number (the whole field must
/// parse), NaN or infinite values, sample ids not consecutive from 0, token ids not 0..N-1 in
/// order, a sample with a different token count than the first, N < 2, fewer than 2 samples.
/// A sample with too few tokens is reported where it ends: at the first row of the next sample
/// (column 1, the sample id) or, for the last sample, at the last row (column 2, the token id);
/// too many tokens at the first extra row (column 2). Fewer than 2 samples: at the last row.
/// Paths that are not regular files or FIFOs, files beyond limits.max_bytes and lines beyond
/// limits.max_line_bytes are refused before they are read (InputError).
PairwiseData read_pairwise_csv(const std::filesystem::path& path, const ReadLimits& limits = kDataReadLimits);

/// Writes data in the format read_pairwise_csv reads: numbers in the shortest form that
/// round-trips exactly (std::to_chars, at most 17 significant digits), so read(write(x)) == x
/// bit for bit. Atomic (AtomicFile). Throws InputError if the target is not a regular file,
/// N < 2, M < 2 or a value is not finite (the reader would reject the file),
/// std::invalid_argument if X, Y, M, N, d disagree, std::runtime_error on I/O errors ("disk
/// full: <path>").
void write_pairwise_csv(const std::filesystem::path& path, const PairwiseData& data);

/// Reads a square matrix CSV (d rows of d numbers). If expected_dim > 0 the matrix must be
/// expected_dim x expected_dim. Errors and limits as read_pairwise_csv (file:line:column).
arma::mat read_matrix_csv(const std::filesystem::path& path, int expected_dim = 0,
                          const ReadLimits& limits = kDataReadLimits);

/// Writes a square matrix as CSV rows (shortest exact round-trip form, as write_pairwise_csv).
/// Atomic; throws InputError if the target is not a regular file or an entry is not finite.
void write_matrix_csv(const std::filesystem::path& path, const arma::mat& A);

}  // namespace attnrate
