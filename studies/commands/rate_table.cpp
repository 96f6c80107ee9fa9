#include "studies/commands/rate_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"

namespace attnrate {
namespace {

constexpr std::size_t kMaxQuoted = 60;  // longer offending text is shortened in messages

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t comma = line.find(',');
    fields.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

std::string quoted(std::string_view text) {
  std::string s = "'";
  s.append(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) s += "...";
  s += "'";
  return s;
}

// "<file>:<line>[:<column>]: " as the start of a message.
std::string where(const std::filesystem::path& path, std::size_t line, std::size_t column = 0) {
  std::ostringstream s;
  s << path.string() << ":" << line;
  if (column > 0) s << ":" << column;
  s << ": ";
  return s.str();
}

[[noreturn]] void fail(const std::filesystem::path& path, std::size_t line, std::size_t column,
                       const std::string& problem, std::string_view text) {
  throw InputError(where(path, line, column) + problem + ", got " + quoted(text));
}

// A finite number > 0, consumed whole (sizes and errors enter the fit through their logarithms).
double parse_positive(const std::filesystem::path& path, std::size_t line, std::size_t column,
                      const std::string& name, std::string_view field) {
  if (field.empty()) fail(path, line, column, name + " is empty (expected a number > 0)", field);
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec == std::errc::result_out_of_range) fail(path, line, column, name + " is outside the range of a double", field);
  if (ec != std::errc() || ptr != field.data() + field.size()) fail(path, line, column, name + " is not a number", field);
  if (!std::isfinite(v)) fail(path, line, column, name + " must be finite (no NaN or infinity)", field);
  if (!(v > 0.0)) fail(path, line, column, name + " must be > 0 (the rate is fitted on log " + name + ")", field);
  return v;
}

// Column index of `name` in the header; refuses a missing or repeated name.
std::size_t column_of(const std::filesystem::path& path, const std::vector<std::string>& header, const std::string& name,
                      const std::string& option) {
  std::size_t found = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] != name) continue;
    if (found != header.size())
      throw InputError(where(path, 1) + "the header names column '" + name + "' twice (columns " +
                       std::to_string(found + 1) + " and " + std::to_string(i + 1) + ")");
    found = i;
  }
  if (found == header.size()) {
    std::string names;
    for (const auto& h : header) {
      if (!names.empty()) names += ",";
      names += h;
    }
    std::string hint = did_you_mean(name, header);
    if (hint.empty()) hint = "; name the column with " + option;
    else hint += " (name the column with " + option + ")";
    throw InputError(where(path, 1) + "no column '" + name + "' in the header '" + names + "'" + hint);
  }
  return found;
}

// At least 2 distinct sizes and 3 rows, whatever the table was read from.
void check_rate_table_shape(const RateTable& t) {
  std::set<double> sizes;
  for (const auto& r : t.rows) sizes.insert(r.size);
  if (sizes.size() < 2) {
    std::ostringstream m;
    m << t.path.string() << ": need at least 2 distinct values of " << t.size_column << " for a rate, got "
      << sizes.size();
    if (sizes.size() == 1) m << " (" << *sizes.begin() << ")";
    throw InputError(m.str());
  }
  if (t.rows.size() < 3)
    throw InputError(t.path.string() + ": need at least 3 rows for a slope with a confidence interval, got " +
                     std::to_string(t.rows.size()));
}

}  // namespace

RateTable read_rate_table(const std::filesystem::path& path, const RateColumns& columns, const ReadLimits& limits) {
  const std::string text = read_text_file(path, limits);
  std::vector<std::string_view> lines;
  {
    std::string_view rest = text;
    while (!rest.empty()) {
      const std::size_t nl = rest.find('\n');
      lines.push_back(rest.substr(0, nl));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }
  for (auto& l : lines)
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  if (!lines.empty() && lines[0].substr(0, 3) == "\xEF\xBB\xBF") lines[0].remove_prefix(3);
  if (lines.empty() || trim(lines[0]).empty())
    throw InputError(path.string() + ": empty table; the first line must be a header such as 'size,error,seed'");

  RateTable t;
  t.path = path;
  std::vector<std::string> header;
  for (auto f : split(lines[0])) header.emplace_back(f);
  const std::size_t size_i = column_of(path, header, columns.size, "--size-col");
  const std::size_t error_i = column_of(path, header, columns.error, "--error-col");
  if (size_i == error_i)
    throw InputError(where(path, 1) + "the size and error columns must differ, both are '" + columns.size + "'");
  std::size_t seed_i = header.size();
  if (columns.seed) seed_i = column_of(path, header, *columns.seed, "--seed-col");
  else
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == "seed") seed_i = i;
  const bool has_seed = seed_i < header.size();
  if (has_seed && (seed_i == size_i || seed_i == error_i))
    throw InputError(where(path, 1) + "the seed column '" + header[seed_i] + "' is also the size or error column");
  t.size_column = header[size_i];
  t.error_column = header[error_i];
  if (has_seed) t.seed_column = header[seed_i];

  std::map<std::pair<double, std::string>, std::size_t> seen;  // (size, seed) -> line, for duplicates
  for (std::size_t k = 1; k < lines.size(); ++k) {
    const std::size_t line = k + 1;
    if (trim(lines[k]).empty()) fail(path, line, 1, "blank line (remove it)", lines[k]);
    const auto fields = split(lines[k]);
    if (fields.size() != header.size()) {
      std::ostringstream m;
      m << "expected " << header.size() << " fields as in the header, found " << fields.size();
      fail(path, line, 1, m.str(), lines[k]);
    }
    RateRow r;
    r.line = line;
    r.size = parse_positive(path, line, size_i + 1, t.size_column, fields[size_i]);
    r.error = parse_positive(path, line, error_i + 1, t.error_column, fields[error_i]);
    if (has_seed) {
      if (fields[seed_i].empty()) fail(path, line, seed_i + 1, t.seed_column + " is empty", fields[seed_i]);
      r.seed = fields[seed_i];
      const auto [it, fresh] = seen.emplace(std::make_pair(r.size, r.seed), line);
      if (!fresh) {
        std::ostringstream m;
        m << "the same " << t.size_column << " and " << t.seed_column << " as line " << it->second
          << " (one row per cell: the seed column tells the repetitions of a size apart)";
        // A study's cells.csv: `seed` is the base seed on every row, `rep` the repetition.
        if (t.seed_column != "rep" && std::find(header.begin(), header.end(), "rep") != header.end())
          m << "; the header has a column 'rep' (as a study's cells.csv, whose seed is the base seed): --seed-col rep";
        fail(path, line, seed_i + 1, m.str(), lines[k]);
      }
    }
    t.rows.push_back(std::move(r));
  }

  check_rate_table_shape(t);
  return t;
}

RateTable make_rate_table(const std::vector<double>& sizes, const std::vector<double>& errors,
                          const std::vector<std::string>& seeds, const std::string& name) {
  if (errors.size() != sizes.size() || (!seeds.empty() && seeds.size() != sizes.size())) {
    std::string m = name + ": sizes, errors" + (seeds.empty() ? "" : " and seeds") +
                    " must have one entry per row, got " + std::to_string(sizes.size()) + ", " +
                    std::to_string(errors.size());
    if (!seeds.empty()) m += " and " + std::to_string(seeds.size());
    throw InputError(m);
  }
  RateTable t;
  t.path = name;
  t.size_column = "size";
  t.error_column = "error";
  if (!seeds.empty()) t.seed_column = "seed";
  // What parse_positive checks in a file: sizes and errors enter the fit through their logarithms.
  const auto positive = [&name](const char* what, std::size_t k, double v) {
    std::ostringstream m;
    m << name << ": " << what << "[" << k << "] must be ";
    if (!std::isfinite(v)) m << "finite (no NaN or infinity)";
    else if (!(v > 0.0)) m << "> 0 (the rate is fitted on its log)";
    else return v;
    m << ", got " << v;
    throw InputError(m.str());
  };
  std::map<std::pair<double, std::string>, std::size_t> seen;  // (size, seed) -> index, for duplicates
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    RateRow r;
    r.line = k;
    r.size = positive("sizes", k, sizes[k]);
    r.error = positive("errors", k, errors[k]);
    if (!seeds.empty()) {
      if (seeds[k].empty()) throw InputError(name + ": seeds[" + std::to_string(k) + "] is empty");
      r.seed = seeds[k];
      const auto [it, fresh] = seen.emplace(std::make_pair(r.size, r.seed), k);
      if (!fresh) {
        std::ostringstream m;
        m << name << ": row " << k << " has the same size and seed as row " << it->second << " (" << r.size << ", '"
          << r.seed << "'; one row per cell)";
        throw InputError(m.str());
      }
    }
    t.rows.push_back(std::move(r));
  }
  check_rate_table_shape(t);
  return t;
}

}  // namespace attnrate
