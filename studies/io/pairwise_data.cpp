#include "studies/io/pairwise_data.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "studies/io/output.hpp"
#include "studies/io/block_writer.hpp"

namespace attnrate {

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;  // 1 MiB blocks for reading and writing
constexpr std::size_t kMaxQuoted = 60;                        // longer offending text is shortened

// Splits a file into lines without per-line stream overhead: reads 1 MiB blocks and cuts at
// '\n'. A final '\n' does not start an empty line (a trailing newline is fine); a trailing '\r'
// is removed (CRLF files); a UTF-8 byte order mark at the start of the file is skipped. The file
// and its lines are bounded by the ReadLimits (input_file.hpp).
class LineReader {
 public:
  LineReader(const std::filesystem::path& path, const ReadLimits& limits) : in_(path, limits) {
    buf_.resize(kBufferBytes);
  }

  // Next line (without '\n' and a trailing '\r'), valid until the next call; false at the end.
  bool next(std::string_view& line) {
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', end_ - pos_));
      if (nl != nullptr) {
        const std::size_t n = static_cast<std::size_t>(nl - (buf_.data() + pos_));
        check_length(n);
        line = finish(std::string_view(buf_.data() + pos_, n));
        pos_ += n + 1;
        return true;
      }
      check_length(end_ - pos_);
      if (eof_) {
        if (pos_ == end_) return false;
        line = finish(std::string_view(buf_.data() + pos_, end_ - pos_));
        pos_ = end_;
        return true;
      }
      refill();
    }
  }

  std::size_t line_number() const { return line_no_; }

 private:
  // The line being read is already longer than the limit (with room for its "\r"): refuse it
  // before the buffer grows further.
  void check_length(std::size_t bytes) const {
    if (bytes > in_.limits().max_line_bytes + 1) refuse_long_line(in_.path(), line_no_ + 1, in_.limits());
  }

  std::string_view finish(std::string_view s) {
    ++line_no_;
    if (line_no_ == 1 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    if (s.size() > in_.limits().max_line_bytes) refuse_long_line(in_.path(), line_no_, in_.limits());
    return s;
  }

  // Moves the unfinished line to the front (growing the buffer for long lines) and reads on.
  void refill() {
    const std::size_t rest = end_ - pos_;
    if (pos_ > 0) std::memmove(buf_.data(), buf_.data() + pos_, rest);
    pos_ = 0;
    end_ = rest;
    if (buf_.size() - end_ < kBufferBytes / 2) buf_.resize(buf_.size() * 2);
    const std::size_t got = in_.read(buf_.data() + end_, buf_.size() - end_);
    end_ += got;
    if (got == 0) eof_ = true;
  }

  InputFile in_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0, line_no_ = 0;
  bool eof_ = false;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on ',' and trims ASCII spaces/tabs around every field. No quoting (numbers only).
void split(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (;;) {
    const std::size_t comma = line.find(',');
    fields.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    line.remove_prefix(comma + 1);
  }
}

std::string quoted(std::string_view text) {
  std::string s(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) s += "...";
  return "'" + s + "'";
}

[[noreturn]] void fail(const std::filesystem::path& path, std::size_t line, std::size_t column,
                       const std::string& problem, std::string_view text) {
  throw InputError(path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + problem +
                   ", got " + quoted(text));
}

// The whole field must be a finite decimal number (std::from_chars grammar: no leading '+',
// no hexadecimal); NaN, infinities and magnitudes outside the double range are rejected.
double parse_double(const std::filesystem::path& path, std::size_t line, std::size_t column, std::string_view name,
                    std::string_view field) {
  if (field.empty()) fail(path, line, column, std::string(name) + " is empty (expected a finite number)", field);
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec == std::errc::result_out_of_range)
    fail(path, line, column, std::string(name) + " is outside the range of a double", field);
  if (ec != std::errc() || ptr != field.data() + field.size())
    fail(path, line, column, std::string(name) + " is not a number", field);
  if (!std::isfinite(v)) fail(path, line, column, std::string(name) + " must be finite (no NaN or infinity)", field);
  return v;
}

// The whole field must be a non-negative decimal integer (digits only).
std::uint64_t parse_index(const std::filesystem::path& path, std::size_t line, std::size_t column,
                          std::string_view name, std::string_view field) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (field.empty() || ec != std::errc() || ptr != field.data() + field.size())
    fail(path, line, column, std::string(name) + " must be a non-negative integer", field);
  return v;
}

std::string header_spec(const std::string& idx, int d) {
  return d >= 1 ? "sample," + idx + ",x1," + std::string(d > 1 ? "...,x" + std::to_string(d) + "," : "") + "y"
                : "sample," + idx + ",x1,...,xd,y";
}

// Writes the long format from column-major X (d x M*T) and Y (M*T) without copying them; refuses
// what the reader would reject.
void write_long_rows(const std::filesystem::path& path, const std::string& idx, int d, int T, std::size_t M,
                     const arma::mat& X, const arma::vec& Y) {
  const std::string where = "write_long_csv(" + path.string() + "): ";
  if (d < 1 || T < 1 || X.n_rows != static_cast<arma::uword>(d) || X.n_cols != M * static_cast<std::size_t>(T) ||
      Y.n_elem != X.n_cols)
    throw std::invalid_argument(where + "inconsistent table (X must be d x (M*T), Y of length M*T)");
  if (T < 2) throw InputError(where + "need N >= 2 " + idx + "s per sample, got N = " + std::to_string(T));
  if (M < 2) throw InputError(where + "need M >= 2 samples, got M = " + std::to_string(M));
  if (!X.is_finite() || !Y.is_finite())
    throw InputError(where + "the data contain NaN or infinite values (the activation overflowed?)");

  BlockWriter w(path);
  w.put(std::string_view("sample,"));
  w.put(std::string_view(idx));
  w.put(',');
  for (int k = 1; k <= d; ++k) {
    w.put('x');
    w.put(static_cast<std::uint64_t>(k));
    w.put(',');
  }
  w.put('y');
  w.end_line();
  const double* x = X.memptr();
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < T; ++i) {
      const std::size_t col = m * static_cast<std::size_t>(T) + static_cast<std::size_t>(i);
      w.put(static_cast<std::uint64_t>(m));
      w.put(',');
      w.put(static_cast<std::uint64_t>(i));
      for (int k = 0; k < d; ++k) {
        w.put(',');
        w.put(x[col * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)]);
      }
      w.put(',');
      w.put(Y[col]);
      w.end_line();
    }
  w.commit();
}

}  // namespace

LongTable read_long_csv(const std::filesystem::path& path, const std::string& idx, const ReadLimits& limits) {
  LineReader reader(path, limits);
  std::string_view line;
  std::vector<std::string_view> f;

  // Header: exactly sample,token,x1,...,xd,y.
  if (!reader.next(line))
    fail(path, 1, 1, "empty file: expected the header " + header_spec(idx, 0), "");
  split(line, f);
  if (f.size() < 4 || f.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    fail(path, 1, 1, "header must be " + header_spec(idx, 0) + " (at least 4 fields, d >= 1)", line);
  // The outputs first: a header without y would otherwise be read as one with d - 1 coordinates.
  if (f.back() != "y") {
    const bool has_y = std::find(f.begin(), f.end(), std::string_view("y")) != f.end();
    fail(path, 1, f.size(),
         has_y ? "y (the outputs) must be the last column: the header is " + header_spec(idx, 0)
               : "the header has no column y (the outputs): it must be " + header_spec(idx, 0),
         f.back());
  }
  const int d = static_cast<int>(f.size() - 3);
  const std::size_t n_fields = f.size();
  const std::string want_header = header_spec(idx, d);
  for (std::size_t k = 0; k < n_fields; ++k) {
    const std::string want = k == 0 ? "sample" : k == 1 ? idx.c_str() : k + 1 == n_fields ? "y" : "x" + std::to_string(k - 1);
    if (f[k] == want) continue;
    // The other data format (pairwise data has tokens, attention data a query and keys): name it.
    if (k == 1 && (f[k] == "token" || f[k] == "key"))
      fail(path, 1, k + 1,
           f[k] == "key" ? "this is attention data (sample,key,...: simulate rfa, fit rfa); this command needs pairwise "
                           "data (header " + want_header + ", as simulate pairwise writes)"
                         : "this is pairwise data (sample,token,...: simulate pairwise, fit pairwise); this command "
                           "needs attention data (header " + want_header + ", as simulate rfa writes)",
           f[k]);
    fail(path, 1, k + 1, "header field " + std::to_string(k + 1) + " must be '" + want + "' (header " + want_header + ")",
         f[k]);
  }

  std::vector<double> xs, ys;
  std::vector<std::string> names(n_fields);  // for messages
  for (std::size_t k = 2; k + 1 < n_fields; ++k) names[k] = "x" + std::to_string(k - 1);
  names[n_fields - 1] = "y";

  std::uint64_t N = 0;       // tokens per sample, known once sample 0 is complete
  std::uint64_t sample = 0;  // current sample id
  std::uint64_t token = 0;   // last token id read
  bool any_row = false;
  std::size_t last_line = 1;
  std::string last_token_text;

  // Pairwise data count tokens (N) and samples (M); attention data rows are the query and its keys
  // (N + 1 rows) and samples are n.
  const bool tokens = idx == "token";
  const std::string sizes = tokens ? "M" : "n";
  // Sample `sample` just ended with token+1 tokens at line last_line: check its count.
  auto close_sample = [&](std::size_t at_line, std::size_t column, std::string_view text) {
    const std::uint64_t count = token + 1;
    if (N == 0) {
      if (count < 2)
        fail(path, at_line, column,
             "sample 0 has " + std::to_string(count) + " " + idx + "; need N >= 2 " + idx + "s per sample", text);
      N = count;
    } else if (count != N) {
      fail(path, at_line, column,
           tokens ? "sample " + std::to_string(sample) + " has " + std::to_string(count) +
                        " tokens but sample 0 has N = " + std::to_string(N) + " (all samples need the same N)"
                  : "sample " + std::to_string(sample) + " has " + std::to_string(count) +
                        " rows (the query and its keys) but sample 0 has " + std::to_string(N) +
                        " (all samples need the same number of keys)",
           text);
    }
  };

  while (reader.next(line)) {
    const std::size_t ln = reader.line_number();
    if (trim(line).empty()) fail(path, ln, 1, "blank line (only a final newline is allowed)", line);
    split(line, f);
    if (f.size() != n_fields)
      fail(path, ln, 1,
           "row has " + std::to_string(f.size()) + " fields but the header has " + std::to_string(n_fields) + " (" +
               want_header + ")",
           line);
    const std::uint64_t s = parse_index(path, ln, 1, "sample id", f[0]);
    const std::uint64_t t = parse_index(path, ln, 2, idx + " id", f[1]);
    if (!any_row) {
      if (s != 0) fail(path, ln, 1, "sample ids must start at 0", f[0]);
      if (t != 0) fail(path, ln, 2, idx + " ids must start at 0 in every sample", f[1]);
    } else if (s == sample) {
      if (t != token + 1)
        fail(path, ln, 2, idx + " ids must run 0, 1, 2, ... in order: expected " + idx + " " + std::to_string(token + 1), f[1]);
      if (N != 0 && t >= N)
        fail(path, ln, 2,
             "sample " + std::to_string(sample) + " has more " + idx + "s than sample 0 (N = " + std::to_string(N) + ")",
             f[1]);
      if (t > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
        fail(path, ln, 2, "too many " + idx + "s in one sample", f[1]);
    } else if (s == sample + 1) {
      // A new sample starts here: the previous one must be complete.
      close_sample(ln, 1, f[0]);
      if (t != 0) fail(path, ln, 2, idx + " ids must start at 0 in every sample", f[1]);
      sample = s;
    } else {
      fail(path, ln, 1,
           "sample ids must be consecutive from 0: expected " + std::to_string(sample) + " or " +
               std::to_string(sample + 1),
           f[0]);
    }
    token = t;
    any_row = true;
    for (std::size_t k = 2; k + 1 < n_fields; ++k) xs.push_back(parse_double(path, ln, k + 1, names[k], f[k]));
    ys.push_back(parse_double(path, ln, n_fields, "y", f[n_fields - 1]));
    last_line = ln;
    last_token_text.assign(f[1]);
  }

  if (!any_row) fail(path, 2, 1, "no data rows after the header (need at least 2 samples)", "");
  close_sample(last_line, 2, last_token_text);
  const std::uint64_t M = sample + 1;
  if (M < 2)
    fail(path, last_line, 1,
         "every row has the same sample id, so the file has 1 sample; need at least 2 samples (" + sizes + " >= 2)",
         std::to_string(sample));

  LongTable data;
  data.T = static_cast<int>(N);
  data.d = d;
  data.M = static_cast<std::size_t>(M);
  data.X = arma::mat(xs.data(), static_cast<arma::uword>(d), static_cast<arma::uword>(ys.size()));
  data.Y = arma::vec(ys.data(), static_cast<arma::uword>(ys.size()));
  return data;
}

PairwiseData read_pairwise_csv(const std::filesystem::path& path, const ReadLimits& limits) {
  LongTable t = read_long_csv(path, "token", limits);
  PairwiseData data;
  data.N = t.T;
  data.d = t.d;
  data.M = t.M;
  data.X = std::move(t.X);
  data.Y = std::move(t.Y);
  return data;
}

void write_long_csv(const std::filesystem::path& path, const std::string& idx, const LongTable& data) {
  write_long_rows(path, idx, data.d, data.T, data.M, data.X, data.Y);
}

void write_pairwise_csv(const std::filesystem::path& path, const PairwiseData& data) {
  write_long_rows(path, "token", data.d, data.N, data.M, data.X, data.Y);
}

arma::mat read_matrix_csv(const std::filesystem::path& path, int expected_dim, const ReadLimits& limits) {
  LineReader reader(path, limits);
  std::string_view line;
  std::vector<std::string_view> f;
  std::vector<double> values;  // row-major while reading
  std::size_t cols = 0, rows = 0;
  while (reader.next(line)) {
    const std::size_t ln = reader.line_number();
    if (trim(line).empty()) fail(path, ln, 1, "blank line (only a final newline is allowed)", line);
    if (ln == 1 && trim(line).starts_with("{"))
      fail(path, ln, 1,
           "this is JSON (a truth.json or fit.json?), not a matrix: the A file is d rows of d comma-separated "
           "numbers, as simulate pairwise writes it beside the data (NAME.A.csv)",
           line);
    split(line, f);
    if (rows == 0) cols = f.size();
    else if (f.size() != cols)
      fail(path, ln, 1,
           "row has " + std::to_string(f.size()) + " numbers but row 1 has " + std::to_string(cols) +
               " (every row needs the same count)",
           line);
    if (rows == cols)
      fail(path, ln, 1,
           "matrix must be square (d rows of d numbers): more than " + std::to_string(cols) + " rows of " +
               std::to_string(cols) + " numbers",
           line);
    for (std::size_t k = 0; k < f.size(); ++k)
      values.push_back(parse_double(path, ln, k + 1, "entry " + std::to_string(k + 1), f[k]));
    ++rows;
  }
  if (rows == 0) fail(path, 1, 1, "empty file: expected d rows of d comma-separated numbers", "");
  if (rows < cols)
    fail(path, rows, 1,
         "matrix must be square (d rows of d numbers): the file ends after " + std::to_string(rows) +
             (rows == 1 ? " row" : " rows") + " of " + std::to_string(cols) + " numbers",
         "");
  if (expected_dim > 0 && cols != static_cast<std::size_t>(expected_dim))
    throw InputError(path.string() + ": the matrix has " + std::to_string(rows) + "x" + std::to_string(cols) +
                     " entries but the model has d = " + std::to_string(expected_dim) + " (need " +
                     std::to_string(expected_dim) + " rows of " + std::to_string(expected_dim) + " numbers)");
  // values is row-major; Armadillo is column-major, so fill the transpose and transpose back.
  arma::mat At(values.data(), static_cast<arma::uword>(cols), static_cast<arma::uword>(rows));
  return At.t();
}

void write_matrix_csv(const std::filesystem::path& path, const arma::mat& A) {
  if (A.n_rows != A.n_cols || A.n_rows == 0)
    throw std::invalid_argument("write_matrix_csv(" + path.string() + "): the matrix must be square and non-empty, got " +
                                std::to_string(A.n_rows) + "x" + std::to_string(A.n_cols));
  if (!A.is_finite())
    throw InputError("write_matrix_csv(" + path.string() + "): the matrix contains NaN or infinite values");
  BlockWriter w(path);
  for (arma::uword i = 0; i < A.n_rows; ++i) {
    for (arma::uword j = 0; j < A.n_cols; ++j) {
      if (j > 0) w.put(',');
      w.put(A(i, j));
    }
    w.end_line();
  }
  w.commit();
}

}  // namespace attnrate
