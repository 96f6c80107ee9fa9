#pragma once
// Pairwise-interaction data files (SPEC §5): the long-format data CSV and the A matrix CSV.
//
// Data CSV: header `sample,token,x1,...,xd,y`, then one row per token, samples numbered
// 0, 1, 2, ... in order, tokens 0..N-1 in order within each sample, every sample with the
// same N >= 2. A.csv: d rows of d comma-separated numbers, no header.
#include <armadillo>
#include <cstddef>
#include <filesystem>

namespace attnrate {

struct PairwiseData {
  int N = 0;                 ///< tokens per sample
  int d = 0;                 ///< token dimension
  std::size_t M = 0;         ///< number of samples
  arma::mat X;               ///< d x (M*N); column m*N + i is token i of sample m
  arma::vec Y;               ///< M*N outputs, same order as the columns of X
};

/// Reads and validates a data CSV. Every problem throws InputError with
/// "<file>:<line>:<column>: <what is wrong>, got '<text>'" (line and column 1-based; column is
/// the field number): missing file, empty file, bad header (must be exactly sample,token,x1..xd,y
/// with d >= 1), wrong number of fields, a field that is not a number (the whole field must
/// parse), NaN or infinite values, sample ids not consecutive from 0, token ids not 0..N-1 in
/// order, a sample with a different token count than the first, N < 2, fewer than 2 samples.
PairwiseData read_pairwise_csv(const std::filesystem::path& path);

/// Writes data in the format read_pairwise_csv reads (17 significant digits, round-trips).
void write_pairwise_csv(const std::filesystem::path& path, const PairwiseData& data);

/// Reads a square matrix CSV (d rows of d numbers). If expected_dim > 0 the matrix must be
/// expected_dim x expected_dim. Errors as read_pairwise_csv (file:line:column).
arma::mat read_matrix_csv(const std::filesystem::path& path, int expected_dim = 0);

/// Writes a matrix as CSV rows (17 significant digits).
void write_matrix_csv(const std::filesystem::path& path, const arma::mat& A);

}  // namespace attnrate
