// Data files (studies/pairwise_data): write -> read is bit-exact (random bit patterns, signed
// zero, subnormals, lines longer than the read buffer), hand-written files parse to the known
// values, and every malformed file raises InputError naming file, line, column and the
// offending text.
#include <unistd.h>

#include <atomic>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/io/pairwise_data.hpp"
#include "tests/lib/temp_dir.hpp"

using namespace attnrate;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool same_bits(const arma::mat& a, const arma::mat& b) {
  if (a.n_rows != b.n_rows || a.n_cols != b.n_cols) return false;
  return std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(double)) == 0;
}

// A finite double with a uniformly random bit pattern (covers all exponents, subnormals, signs).
double random_finite(Rng& rng) {
  for (;;) {
    const double v = std::bit_cast<double>(rng());
    if (std::isfinite(v)) return v;
  }
}

// Message of the InputError thrown by f; fails the test if nothing or something else is thrown.
template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected InputError, got another exception: " << e.what());
  } catch (...) {
    FAIL("expected InputError, got a non-standard exception");
  }
  FAIL("expected InputError, nothing was thrown");
  return {};
}

// The message must locate the problem exactly: "<path>:<line>:<column>: " and "got '<text>'".
void check_located(const std::string& msg, const fs::path& p, int line, int column, const std::string& text) {
  using Catch::Matchers::Contains;
  CHECK_THAT(msg, Contains(p.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": "));
  CHECK_THAT(msg, Contains("got '" + text + "'"));
}

struct BadCase {
  const char* what;
  std::string content;
  int line, column;
  std::string text;
  std::string problem;  // a fragment the message must contain
};

const std::string kHeader = "sample,token,x1,y\n";

}  // namespace

TEST_CASE("pairwise data: write then read is bit-exact", "[data]") {
  TempDir tmp("data");
  Rng rng(derive_seed(11, {1}));
  PairwiseData in;
  in.N = 3;
  in.d = 4;
  in.M = 50;
  in.X.set_size(in.d, in.M * in.N);
  in.Y.set_size(in.M * in.N);
  for (auto& v : in.X) v = random_finite(rng);
  for (auto& v : in.Y) v = rng.normal() * std::ldexp(1.0, static_cast<int>(rng() % 200) - 100);
  // Values whose text form is delicate.
  const double special[] = {-0.0, 0.0, std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::min(),
                            std::numeric_limits<double>::max(), -std::numeric_limits<double>::lowest(), 0.1, 1.0 / 3,
                            123456789012345678.0, 1e-300, 2.0};
  for (std::size_t k = 0; k < std::size(special); ++k) in.X[k] = special[k];
  in.Y[0] = -0.0;

  const fs::path p = tmp.dir / "data.csv";
  write_pairwise_csv(p, in);
  const std::string text = read_text(p);
  CHECK(text.rfind("sample,token,x1,x2,x3,x4,y\n0,0,-0,0,", 0) == 0);
  CHECK(text.back() == '\n');

  const PairwiseData out = read_pairwise_csv(p);
  CHECK(out.N == in.N);
  CHECK(out.d == in.d);
  CHECK(out.M == in.M);
  CHECK(same_bits(out.X, in.X));
  CHECK(same_bits(out.Y, in.Y));
  CHECK(std::signbit(out.X[0]));
}

TEST_CASE("pairwise data: rows longer than the read buffer and files spanning many buffers", "[data]") {
  TempDir tmp("data");
  Rng rng(derive_seed(11, {2}));
  SECTION("d = 60000: every row is over 1 MiB") {
    PairwiseData in;
    in.N = 2;
    in.d = 60000;
    in.M = 2;
    in.X.set_size(in.d, 4);
    in.Y.set_size(4);
    for (auto& v : in.X) v = random_finite(rng);
    for (auto& v : in.Y) v = random_finite(rng);
    const fs::path p = tmp.dir / "wide.csv";
    write_pairwise_csv(p, in);
    REQUIRE(fs::file_size(p) > 4 * (std::size_t{1} << 20));
    const PairwiseData out = read_pairwise_csv(p);
    CHECK(out.d == in.d);
    CHECK(same_bits(out.X, in.X));
    CHECK(same_bits(out.Y, in.Y));
  }
  SECTION("M = 20000 short rows") {
    PairwiseData in;
    in.N = 5;
    in.d = 2;
    in.M = 20000;
    in.X.set_size(in.d, in.M * in.N);
    in.Y.set_size(in.M * in.N);
    for (auto& v : in.X) v = rng.uniform(-1.0, 1.0);
    for (auto& v : in.Y) v = rng.normal();
    const fs::path p = tmp.dir / "long.csv";
    write_pairwise_csv(p, in);
    REQUIRE(fs::file_size(p) > 2 * (std::size_t{1} << 20));
    const PairwiseData out = read_pairwise_csv(p);
    CHECK(out.M == in.M);
    CHECK(out.N == in.N);
    CHECK(same_bits(out.X, in.X));
    CHECK(same_bits(out.Y, in.Y));
  }
}

TEST_CASE("pairwise data: a hand-written file parses to its values and layout", "[data]") {
  TempDir tmp("data");
  // BOM, CRLF, spaces and tabs around fields, exponent forms, no final newline.
  const fs::path p = tmp.write("hand.csv",
                               "\xEF\xBB\xBFsample, token ,x1,x2,y\r\n"
                               "0,0,0.5,-1,10\r\n"
                               "0,1, 1e-3 ,\t2.5E+2,11\r\n"
                               "1,0,-0,.25,12\r\n"
                               "1,1,3.,7,1.5e1");
  const PairwiseData data = read_pairwise_csv(p);
  REQUIRE(data.N == 2);
  REQUIRE(data.d == 2);
  REQUIRE(data.M == 2);
  const arma::mat X_expected = {{0.5, 1e-3, -0.0, 3.0}, {-1.0, 250.0, 0.25, 7.0}};
  const arma::vec Y_expected = {10.0, 11.0, 12.0, 15.0};
  CHECK(same_bits(data.X, X_expected));
  CHECK(same_bits(data.Y, Y_expected));
}

TEST_CASE("pairwise data: malformed numbers and rows are located exactly", "[data]") {
  TempDir tmp("data");
  const std::string ok0 = "0,0,0.5,1\n";
  const std::string tail = "1,0,0.1,1\n1,1,0.2,1\n";
  const std::string long_field = std::string(1, 'x') + std::string(100, '7');  // not a number, 101 chars
  const std::vector<BadCase> cases = {
      {"not a number", kHeader + ok0 + "0,1,abc,2\n" + tail, 3, 3, "abc", "x1 is not a number"},
      {"trailing garbage", kHeader + ok0 + "0,1,1.5x,2\n" + tail, 3, 3, "1.5x", "not a number"},
      {"two numbers in a field", kHeader + ok0 + "0,1,1 2,2\n" + tail, 3, 3, "1 2", "not a number"},
      {"leading plus", kHeader + ok0 + "0,1,+1,2\n" + tail, 3, 3, "+1", "not a number"},
      {"hexadecimal", kHeader + ok0 + "0,1,0x10,2\n" + tail, 3, 3, "0x10", "not a number"},
      {"nan", kHeader + ok0 + "0,1,nan,2\n" + tail, 3, 3, "nan", "finite"},
      {"NaN in y", kHeader + ok0 + "0,1,0.5,NaN\n" + tail, 3, 4, "NaN", "y must be finite"},
      {"inf", kHeader + ok0 + "0,1,inf,2\n" + tail, 3, 3, "inf", "finite"},
      {"-infinity", kHeader + ok0 + "0,1,-infinity,2\n" + tail, 3, 3, "-infinity", "finite"},
      {"overflow", kHeader + ok0 + "0,1,1e999,2\n" + tail, 3, 3, "1e999", "range"},
      {"underflow", kHeader + ok0 + "0,1,1e-400,2\n" + tail, 3, 3, "1e-400", "range"},
      {"empty field", kHeader + ok0 + "0,1,,2\n" + tail, 3, 3, "", "x1 is empty"},
      {"blank field (spaces)", kHeader + ok0 + "0,1,  ,2\n" + tail, 3, 3, "", "x1 is empty"},
      {"long field is shortened", kHeader + ok0 + "0,1," + long_field + ",2\n" + tail, 3, 3,
       long_field.substr(0, 60) + "...", "not a number"},
      {"negative sample id", kHeader + "-1,0,0.5,1\n", 2, 1, "-1", "sample id must be a non-negative integer"},
      {"fractional sample id", kHeader + ok0 + "0,1,0.5,1\n1.0,0,0.1,1\n1,1,0.2,1\n", 4, 1, "1.0",
       "sample id must be a non-negative integer"},
      {"text token id", kHeader + ok0 + "0,one,0.5,1\n" + tail, 3, 2, "one", "token id must be a non-negative integer"},
      {"negative token id", kHeader + ok0 + "0,-1,0.5,1\n" + tail, 3, 2, "-1", "token id must be a non-negative integer"},
      {"huge token id", kHeader + ok0 + "0,99999999999999999999999,0.5,1\n" + tail, 3, 2, "99999999999999999999999",
       "non-negative integer"},
      {"too few fields", kHeader + ok0 + "0,1,0.5\n" + tail, 3, 1, "0,1,0.5", "row has 3 fields but the header has 4"},
      {"too many fields", kHeader + ok0 + "0,1,0.5,1,9\n" + tail, 3, 1, "0,1,0.5,1,9",
       "row has 5 fields but the header has 4"},
      {"trailing comma", kHeader + ok0 + "0,1,0.5,1,\n" + tail, 3, 1, "0,1,0.5,1,", "row has 5 fields"},
      {"blank line in the middle", kHeader + ok0 + "\n0,1,0.5,1\n" + tail, 3, 1, "", "blank line"},
      {"whitespace-only line", kHeader + ok0 + " \t\r\n0,1,0.5,1\n" + tail, 3, 1, " \t", "blank line"},
      {"blank line at the end", kHeader + ok0 + "0,1,0.5,1\n" + tail + "\n", 6, 1, "", "blank line"},
  };
  for (const BadCase& c : cases) {
    SECTION(c.what) {
      const fs::path p = tmp.write("bad.csv", c.content);
      const std::string msg = input_error_of([&] { read_pairwise_csv(p); });
      check_located(msg, p, c.line, c.column, c.text);
      CHECK_THAT(msg, Catch::Matchers::Contains(c.problem));
    }
  }
}

TEST_CASE("pairwise data: header errors", "[data]") {
  TempDir tmp("data");
  const std::string body = "0,0,0.5,1\n0,1,0.5,1\n1,0,0.1,1\n1,1,0.2,1\n";
  const std::vector<BadCase> cases = {
      {"empty file", "", 1, 1, "", "empty file"},
      {"only a newline", "\n", 1, 1, "", "header must be"},
      {"no x column (d = 0)", "sample,token,y\n0,0,1\n", 1, 1, "sample,token,y", "d >= 1"},
      {"first field", "id,token,x1,y\n" + body, 1, 1, "id", "header field 1 must be 'sample'"},
      {"token misspelt", "sample,tok,x1,y\n" + body, 1, 2, "tok", "header field 2 must be 'token'"},
      {"attention data", "sample,key,x1,y\n" + body, 1, 2, "key", "this is attention data"},
      {"swapped", "token,sample,x1,y\n" + body, 1, 1, "token", "must be 'sample'"},
      {"x numbering starts at 2", "sample,token,x2,y\n" + body, 1, 3, "x2", "header field 3 must be 'x1'"},
      {"x out of order", "sample,token,x1,x3,x2,y\n", 1, 4, "x3", "must be 'x2'"},
      {"missing y", "sample,token,x1,x2\n" + body, 1, 4, "x2",
       "the header has no column y (the outputs): it must be sample,token,x1,...,xd,y"},
      {"y not last", "sample,token,y,x1\n" + body, 1, 4, "x1", "y (the outputs) must be the last column"},
      {"upper case", "Sample,token,x1,y\n" + body, 1, 1, "Sample", "must be 'sample'"},
      {"header only", "sample,token,x1,y\n", 2, 1, "", "no data rows"},
  };
  for (const BadCase& c : cases) {
    SECTION(c.what) {
      const fs::path p = tmp.write("head.csv", c.content);
      const std::string msg = input_error_of([&] { read_pairwise_csv(p); });
      check_located(msg, p, c.line, c.column, c.text);
      CHECK_THAT(msg, Catch::Matchers::Contains(c.problem));
    }
  }
  SECTION("missing file") {
    const fs::path p = tmp.dir / "missing.csv";
    const std::string msg = input_error_of([&] { read_pairwise_csv(p); });
    CHECK_THAT(msg, Catch::Matchers::Contains(p.string() + ": cannot open"));
  }
  SECTION("a directory") {
    const std::string msg = input_error_of([&] { read_pairwise_csv(tmp.dir); });
    CHECK_THAT(msg, Catch::Matchers::Contains(tmp.dir.string() + ": a directory, not a file to read"));
  }
}

TEST_CASE("pairwise data: sample and token structure", "[data]") {
  TempDir tmp("data");
  const auto row = [](int s, int t) { return std::to_string(s) + "," + std::to_string(t) + ",0.5,1\n"; };
  const std::vector<BadCase> cases = {
      {"first sample id not 0", kHeader + row(1, 0) + row(1, 1), 2, 1, "1", "sample ids must start at 0"},
      {"first token id not 0", kHeader + row(0, 1) + row(0, 2), 2, 2, "1", "token ids must start at 0"},
      {"sample skipped", kHeader + row(0, 0) + row(0, 1) + row(2, 0) + row(2, 1), 4, 1, "2",
       "consecutive from 0: expected 0 or 1"},
      {"sample goes back", kHeader + row(0, 0) + row(0, 1) + row(1, 0) + row(1, 1) + row(0, 0), 6, 1, "0",
       "expected 1 or 2"},
      {"token skipped", kHeader + row(0, 0) + row(0, 2) + row(1, 0) + row(1, 2), 3, 2, "2", "expected token 1"},
      {"token repeated", kHeader + row(0, 0) + row(0, 0), 3, 2, "0", "expected token 1"},
      {"new sample not at token 0", kHeader + row(0, 0) + row(0, 1) + row(1, 1) + row(1, 2), 4, 2, "1",
       "token ids must start at 0"},
      {"middle sample too short", kHeader + row(0, 0) + row(0, 1) + row(0, 2) + row(1, 0) + row(1, 1) + row(2, 0),
       7, 1, "2", "sample 1 has 2 tokens but sample 0 has N = 3"},
      {"last sample too short", kHeader + row(0, 0) + row(0, 1) + row(0, 2) + row(1, 0) + row(1, 1), 6, 2, "1",
       "sample 1 has 2 tokens but sample 0 has N = 3"},
      {"sample too long", kHeader + row(0, 0) + row(0, 1) + row(1, 0) + row(1, 1) + row(1, 2), 6, 2, "2",
       "sample 1 has more tokens than sample 0 (N = 2)"},
      {"N = 1", kHeader + row(0, 0) + row(1, 0) + row(2, 0), 3, 1, "1", "need N >= 2"},
      {"N = 1, one sample", kHeader + row(0, 0), 2, 2, "0", "need N >= 2"},
      {"single sample (M = 1)", kHeader + row(0, 0) + row(0, 1) + row(0, 2), 4, 1, "0", "need at least 2 samples"},
  };
  for (const BadCase& c : cases) {
    SECTION(c.what) {
      const fs::path p = tmp.write("struct.csv", c.content);
      const std::string msg = input_error_of([&] { read_pairwise_csv(p); });
      check_located(msg, p, c.line, c.column, c.text);
      CHECK_THAT(msg, Catch::Matchers::Contains(c.problem));
    }
  }
  SECTION("the smallest valid file: M = 2, N = 2") {
    const fs::path p = tmp.write("min.csv", kHeader + row(0, 0) + row(0, 1) + row(1, 0) + row(1, 1));
    const PairwiseData data = read_pairwise_csv(p);
    CHECK(data.M == 2);
    CHECK(data.N == 2);
    CHECK(data.X.n_cols == 4);
  }
}

TEST_CASE("pairwise data: the writer refuses data the reader would reject", "[data]") {
  TempDir tmp("data");
  PairwiseData data;
  data.N = 2;
  data.d = 1;
  data.M = 2;
  data.X = {{0.1, 0.2, 0.3, 0.4}};
  data.Y = {1.0, 2.0, 3.0, 4.0};
  const fs::path p = tmp.dir / "w.csv";
  SECTION("valid") { CHECK_NOTHROW(write_pairwise_csv(p, data)); }
  SECTION("N = 1") {
    data.N = 1;
    data.M = 4;
    CHECK_THAT(input_error_of([&] { write_pairwise_csv(p, data); }), Catch::Matchers::Contains("N >= 2"));
  }
  SECTION("M = 1") {
    data.N = 4;
    data.M = 1;
    CHECK_THAT(input_error_of([&] { write_pairwise_csv(p, data); }), Catch::Matchers::Contains("M >= 2"));
  }
  SECTION("NaN") {
    data.Y[2] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THAT(input_error_of([&] { write_pairwise_csv(p, data); }), Catch::Matchers::Contains("NaN"));
  }
  SECTION("shape mismatch") {
    data.M = 3;
    CHECK_THROWS_AS(write_pairwise_csv(p, data), std::invalid_argument);
  }
  SECTION("missing folders are created") {
    const fs::path deep = tmp.dir / "new_dir" / "w.csv";
    CHECK_NOTHROW(write_pairwise_csv(deep, data));
    CHECK(fs::is_regular_file(deep));
  }
  SECTION("a folder that cannot be created") {
    const fs::path file = tmp.write("plain_file", "x");
    const fs::path bad = file / "w.csv";
    CHECK_THAT(input_error_of([&] { write_pairwise_csv(bad, data); }),
               Catch::Matchers::Contains(file.string() + ": cannot create the folder for w.csv"));
  }
  SECTION("a directory as target") {
    CHECK_THAT(input_error_of([&] { write_pairwise_csv(tmp.dir, data); }),
               Catch::Matchers::Contains(tmp.dir.string() + ": a directory; attnrate writes only regular files"));
  }
}

TEST_CASE("matrix csv: round trip and orientation", "[data]") {
  TempDir tmp("data");
  SECTION("hand-written file: row i of the file is row i of A") {
    const fs::path p = tmp.write("A.csv", "1,2,3\n4, 5 ,6\r\n7,8,-9e-1");
    const arma::mat A = read_matrix_csv(p, 3);
    const arma::mat expected = {{1, 2, 3}, {4, 5, 6}, {7, 8, -0.9}};
    CHECK(same_bits(A, expected));
  }
  SECTION("write then read is bit-exact") {
    Rng rng(derive_seed(11, {3}));
    arma::mat A(5, 5);
    for (auto& v : A) v = random_finite(rng);
    A(0, 1) = -0.0;
    const fs::path p = tmp.dir / "A.csv";
    write_matrix_csv(p, A);
    CHECK(same_bits(read_matrix_csv(p), A));
    CHECK(same_bits(read_matrix_csv(p, 5), A));
  }
  SECTION("1 x 1") {
    const fs::path p = tmp.write("A1.csv", "2.5\n");
    CHECK(same_bits(read_matrix_csv(p, 1), arma::mat(1, 1, arma::fill::value(2.5))));
  }
  SECTION("writer rejects non-square and non-finite") {
    CHECK_THROWS_AS(write_matrix_csv(tmp.dir / "x.csv", arma::mat(2, 3, arma::fill::zeros)), std::invalid_argument);
    arma::mat A(2, 2, arma::fill::zeros);
    A(1, 0) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(write_matrix_csv(tmp.dir / "x.csv", A), InputError);
  }
}

TEST_CASE("matrix csv: errors", "[data]") {
  TempDir tmp("data");
  const std::vector<BadCase> cases = {
      {"empty file", "", 1, 1, "", "empty file"},
      {"ragged row", "1,0,0\n0,1\n0,0,1\n", 2, 1, "0,1", "row has 2 numbers but row 1 has 3"},
      {"too many rows", "1,0\n0,1\n0,0\n", 3, 1, "0,0", "must be square"},
      {"too few rows", "1,0,0\n0,1,0\n", 2, 1, "", "the file ends after 2 rows of 3 numbers"},
      {"JSON instead", "{\n  \"kind\": \"pairwise-truth\"\n}\n", 1, 1, "{", "this is JSON"},
      {"nan entry", "1,0\n0,nan\n", 2, 2, "nan", "entry 2 must be finite"},
      {"inf entry", "inf,0\n0,1\n", 1, 1, "inf", "must be finite"},
      {"text entry", "1,0\n0,one\n", 2, 2, "one", "not a number"},
      {"empty entry", "1,\n0,1\n", 1, 2, "", "entry 2 is empty"},
      {"blank line in the middle", "1,0\n\n0,1\n", 2, 1, "", "blank line"},
      {"blank line at the end", "1,0\n0,1\n\n", 3, 1, "", "blank line"},
      {"header row", "a,b\n1,0\n", 1, 1, "a", "not a number"},
  };
  for (const BadCase& c : cases) {
    SECTION(c.what) {
      const fs::path p = tmp.write("A.csv", c.content);
      const std::string msg = input_error_of([&] { read_matrix_csv(p); });
      check_located(msg, p, c.line, c.column, c.text);
      CHECK_THAT(msg, Catch::Matchers::Contains(c.problem));
    }
  }
  SECTION("dimension differs from the model's d") {
    const fs::path p = tmp.write("A.csv", "1,0,0\n0,1,0\n0,0,1\n");
    const std::string msg = input_error_of([&] { read_matrix_csv(p, 5); });
    CHECK_THAT(msg, Catch::Matchers::Contains(p.string() + ": the matrix has 3x3 entries but the model has d = 5"));
    CHECK_NOTHROW(read_matrix_csv(p, 3));
    CHECK_NOTHROW(read_matrix_csv(p, 0));
  }
  SECTION("missing file") {
    const fs::path p = tmp.dir / "nope.csv";
    CHECK_THAT(input_error_of([&] { read_matrix_csv(p); }), Catch::Matchers::Contains(p.string() + ": cannot open"));
  }
}
