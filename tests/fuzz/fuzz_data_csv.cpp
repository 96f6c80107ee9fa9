// Fuzz harness: the data readers of studies/io/pairwise_data.hpp (read_pairwise_csv, read_long_csv
// with idx "key", read_matrix_csv with and without an expected dimension, and with tight
// ReadLimits, so the size and line-length refusals are exercised too).
//
// Besides crashes, leaks and undefined behaviour (the sanitizers), it checks the documented
// contracts: every rejected file throws InputError (any other exception is a finding); an
// accepted file yields consistent shapes (X d x M*T, Y of length M*T, T >= 2, M >= 2, all
// entries finite; a square matrix); and write(read(file)) read back equals read(file) bit for bit.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "estimators/common/input_error.hpp"
#include "studies/io/pairwise_data.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using attnrate::fuzz::finding;

bool same_bits(const arma::mat& a, const arma::mat& b) {
  return a.n_rows == b.n_rows && a.n_cols == b.n_cols &&
         (a.n_elem == 0 || std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(double)) == 0);
}

void check_table(const attnrate::LongTable& t) {
  if (t.T < 2 || t.M < 2 || t.d < 1) finding("accepted a table with T < 2, M < 2 or d < 1");
  const std::size_t cols = t.M * static_cast<std::size_t>(t.T);
  if (t.X.n_rows != static_cast<arma::uword>(t.d) || t.X.n_cols != cols || t.Y.n_elem != cols)
    finding("accepted table has inconsistent shapes");
  if (!t.X.is_finite() || !t.Y.is_finite()) finding("accepted table has non-finite values");
}

// Runs one reader; InputError is the documented way to reject a file, anything else is a finding.
template <class F>
void expect_input_error_only(const char* reader, F&& f) {
  try {
    f();
  } catch (const attnrate::InputError&) {
  } catch (const std::exception& e) {
    finding(std::string(reader) + " threw a non-InputError exception: " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = attnrate::fuzz::write_scratch("input.csv", data, size);
  const auto copy = attnrate::fuzz::scratch_dir() / "roundtrip.csv";

  // A reader only gets past the header if its index name is in the file, so the cheap substring
  // test skips calls that can only end in the header's InputError (each call allocates 1 MiB).
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (text.find("token") != std::string_view::npos) expect_input_error_only("read_pairwise_csv", [&] {
    const attnrate::PairwiseData p = attnrate::read_pairwise_csv(path);
    attnrate::LongTable t{p.N, p.d, p.M, p.X, p.Y};
    check_table(t);
    attnrate::write_pairwise_csv(copy, p);
    const attnrate::PairwiseData q = attnrate::read_pairwise_csv(copy);
    if (q.N != p.N || q.d != p.d || q.M != p.M || !same_bits(q.X, p.X) || !same_bits(q.Y, p.Y))
      finding("read_pairwise_csv(write_pairwise_csv(data)) differs from data");
  });

  if (text.find("key") != std::string_view::npos) expect_input_error_only("read_long_csv(key)", [&] {
    const attnrate::LongTable t = attnrate::read_long_csv(path, "key");
    check_table(t);
    attnrate::write_long_csv(copy, "key", t);
    const attnrate::LongTable u = attnrate::read_long_csv(copy, "key");
    if (u.T != t.T || u.d != t.d || u.M != t.M || !same_bits(u.X, t.X) || !same_bits(u.Y, t.Y))
      finding("read_long_csv(write_long_csv(data)) differs from data");
  });

  bool square = false;
  expect_input_error_only("read_matrix_csv", [&] {
    const arma::mat A = attnrate::read_matrix_csv(path);
    square = true;
    if (A.n_rows == 0 || A.n_rows != A.n_cols) finding("read_matrix_csv accepted a non-square or empty matrix");
    if (!A.is_finite()) finding("read_matrix_csv accepted non-finite entries");
    attnrate::write_matrix_csv(copy, A);
    if (!same_bits(attnrate::read_matrix_csv(copy), A)) finding("read_matrix_csv(write_matrix_csv(A)) differs from A");
  });

  // Tight limits: the input is refused or read exactly as without them.
  expect_input_error_only("read_matrix_csv(limits)", [&] {
    const attnrate::ReadLimits tight{512, 24};
    const arma::mat A = attnrate::read_matrix_csv(path, 0, tight);
    if (size > tight.max_bytes) finding("read_matrix_csv accepted a file over max_bytes");
    if (!same_bits(A, attnrate::read_matrix_csv(path))) finding("read_matrix_csv with limits read other values");
  });

  // With an expected dimension the reader runs the same code and then checks the size.
  if (square) expect_input_error_only("read_matrix_csv(expected_dim = 3)", [&] {
    const arma::mat A = attnrate::read_matrix_csv(path, 3);
    if (A.n_rows != 3 || A.n_cols != 3) finding("read_matrix_csv(path, 3) accepted a matrix that is not 3 x 3");
  });
  return 0;
}
