#include "studies/io/settings.hpp"

#include "estimators/common/did_you_mean.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <toml++/toml.h>
#include <type_traits>

#include "estimators/common/input_error.hpp"
#include "estimators/common/plain_ascii.hpp"
#include "estimators/common/toml_scalar.hpp"
#include "studies/io/byte_size.hpp"

namespace attnrate {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

template <class T>
bool parse_number(const std::string& text, T& out) {
  const std::string t = trim(text);
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && ptr == t.data() + t.size() && !t.empty();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) parts.push_back(trim(cur));
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

}  // namespace

bool parse_double(const std::string& text, double& out) { return parse_number(text, out); }

Settings::Settings(std::vector<KeySpec> keys) : keys_(std::move(keys)) {
  for (const auto& k : keys_) values_[k.key] = Value{k.default_value, "--" + k.key + " (default)", false};
}

bool Settings::has_key(const std::string& key) const { return values_.count(key) != 0; }

void Settings::set(const std::string& key, std::string value, std::string source) {
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::vector<std::string> names;
    for (const auto& k : keys_) names.push_back(k.key);
    const std::string hint = closest_match(key, names);
    throw InputError(source + ": unknown key '" + key + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
  it->second = Value{std::move(value), std::move(source), true};
}

void Settings::load_toml(const std::filesystem::path& path, const ReadLimits& limits) {
  // Read the bytes ourselves, bounded, and check them before toml++ sees them.
  const std::string text = read_text_file(path, limits);
  const std::string_view bytes = without_utf8_bom(text);
  require_plain_ascii(bytes, path.string(), "study files");
  toml::table table;
  try {
    table = toml::parse(bytes, path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << path.string() << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw InputError(m.str());
  }
  // The options of an `attnrate study` run rather than of the study: not file keys.
  static const std::vector<std::string> run_options = {"out", "threads", "resume", "no-figures",
                                                       "config", "max-input-size", "max-line-length"};
  for (auto&& [k, node] : table) {
    const std::string key(k.str());
    const std::string where = path.filename().string() + ": " + key;
    if (!has_key(key) && std::find(run_options.begin(), run_options.end(), key) != run_options.end())
      throw InputError(where + ": '" + key + "' is an option of the run, not of the study; give --" + key +
                       " on the command line");
    const auto text = toml_option_text(node);
    if (!text)
      throw InputError(where + ": value must be a finite number, a string, a boolean or a non-empty array of those");
    set(key, *text, where);
  }
}

std::string value_type(const KeySpec& spec) {
  if (!spec.type.empty()) return spec.type;
  const std::string& d = spec.default_value;
  const auto all_of = [&](const char* chars) { return !d.empty() && d.find_first_not_of(chars) == std::string::npos; };
  if (all_of("0123456789") || (d.size() > 1 && d[0] == '-' && d.find_first_not_of("0123456789", 1) == std::string::npos))
    return "INT";
  if (all_of("0123456789.eE+-")) return "FLOAT";
  if (d.find(',') != std::string::npos || (all_of("0123456789.eE+-:x") && d.find(":x") != std::string::npos))
    return "LIST";
  if (!d.empty() && std::islower(static_cast<unsigned char>(d[0])) &&
      d.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-:.") == std::string::npos)
    return "NAME";
  return "TEXT";
}

void Settings::add_to_cli(CLI::App& app) {
  for (const auto& k : keys_) {
    // An empty default is "not given" (e.g. fit pairwise --A or --rank): nothing to show.
    const std::string shown = k.default_value.empty() ? "" : " [default: " + k.default_value + "]";
    app.add_option("--" + k.key, cli_sink_[k.key], k.help + shown)
        ->type_name(value_type(k));
    cli_app_[k.key] = &app;
  }
}

void Settings::apply_cli() {
  for (const auto& k : keys_) {
    auto it = cli_app_.find(k.key);
    if (it == cli_app_.end()) continue;
    if (it->second->count("--" + k.key) > 0) set(k.key, cli_sink_[k.key], "--" + k.key);
  }
}

const std::string& Settings::raw(const std::string& key) const { return values_.at(key).value; }
const std::string& Settings::source(const std::string& key) const { return values_.at(key).source; }
bool Settings::given(const std::string& key) const { return values_.at(key).given; }

std::string Settings::label(const std::string& key) const {
  const std::string& src = source(key);
  const auto pos = src.find(" (default)");
  return pos == std::string::npos ? src : src.substr(0, pos);
}

namespace {

// The value of `key` as an integer in [min, max] (of T's range), or a message naming the range.
template <class T>
T checked_integer(const Settings& s, const std::string& key, T min, T max) {
  T v = 0;
  const std::string t = trim(s.raw(key));
  std::from_chars_result r = std::from_chars(t.data(), t.data() + t.size(), v);
  if constexpr (std::is_unsigned_v<T>) {
    // "-1" for an unsigned target is a number out of range, not a syntax error.
    long long negative = 0;
    if (r.ec == std::errc::invalid_argument && (r = std::from_chars(t.data(), t.data() + t.size(), negative)).ec ==
                                                   std::errc())
      r.ec = std::errc::result_out_of_range;
  }
  const bool whole = !t.empty() && r.ptr == t.data() + t.size();
  if (!whole || (r.ec != std::errc() && r.ec != std::errc::result_out_of_range))
    throw InputError(s.label(key) + " must be an integer, got '" + s.raw(key) + "'");
  if (r.ec == std::errc::result_out_of_range || v < min || v > max) {
    std::ostringstream m;
    m << s.label(key) << " must be ";
    if (r.ec != std::errc::result_out_of_range && v < min && max == std::numeric_limits<T>::max()) m << ">= " << min;
    else m << "in " << min << ".." << max;
    m << ", got " << s.raw(key);
    throw InputError(m.str());
  }
  return v;
}

}  // namespace

long long Settings::get_int(const std::string& key, long long min, long long max) const {
  return checked_integer(*this, key, min, max);
}

int Settings::get_count(const std::string& key, int min, int max) const {
  return checked_integer(*this, key, min, max);
}

std::uint64_t Settings::get_size(const std::string& key, std::uint64_t min, std::uint64_t max) const {
  return checked_integer(*this, key, min, max);
}

std::uint64_t Settings::get_bytes(const std::string& key) const { return parse_byte_size(raw(key), label(key)); }

double Settings::get_double(const std::string& key, double min, double max, bool min_inclusive) const {
  double v = 0;
  if (!parse_number(raw(key), v) || !std::isfinite(v))
    throw InputError(label(key) + " must be a finite number, got '" + raw(key) + "'");
  const bool low_ok = min_inclusive ? v >= min : v > min;
  if (!low_ok || v > max) {
    std::ostringstream m;
    m << label(key) << " must be " << (min_inclusive ? ">= " : "> ") << min;
    if (max != std::numeric_limits<double>::infinity()) m << " and <= " << max;
    m << ", got " << raw(key);
    throw InputError(m.str());
  }
  return v;
}

std::uint64_t Settings::get_seed(const std::string& key) const {
  std::uint64_t v = 0;
  if (!parse_number(raw(key), v))
    throw InputError(label(key) + " must be a non-negative integer, got '" + raw(key) + "'");
  return v;
}

std::vector<std::string> Settings::get_list(const std::string& key) const {
  const std::string& text = raw(key);
  const auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (std::all_of(text.begin(), text.end(), blank)) return {};
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::size_t a = start, b = end;
    while (a < b && blank(text[a])) ++a;
    while (b > a && blank(text[b - 1])) --b;
    if (a == b)
      throw InputError(label(key) + " must be a comma-separated list without empty entries, got '" + text + "'");
    out.push_back(text.substr(a, b - a));
    if (end == text.size()) return out;
    start = end + 1;
  }
}

std::vector<std::size_t> Settings::get_sizes(const std::string& key, std::size_t min, std::size_t max) const {
  const std::string& text = raw(key);
  const std::string name = label(key);
  std::vector<std::size_t> out;
  auto number = [&](const std::string& t) {
    unsigned long long v = 0;
    long long negative = 0;
    if (!parse_number(t, v)) {
      if (parse_number(t, negative) && negative < 0)  // an integer, below any size
        throw InputError(name + " entries must be >= " + std::to_string(min) + ", got " + t);
      throw InputError(name + " must be a list 500,1000 or a log grid 500:64000:x2 of integers, got '" + text + "'");
    }
    if (v < min) throw InputError(name + " entries must be >= " + std::to_string(min) + ", got " + t);
    if (v > max) throw InputError(name + " entries must be <= " + std::to_string(max) + ", got " + t);
    return static_cast<std::size_t>(v);
  };
  if (text.find(':') != std::string::npos) {
    const auto parts = split(text, ':');
    if (parts.size() != 3 || parts[2].empty() || parts[2][0] != 'x')
      throw InputError(name + " log grid must be FIRST:LAST:xFACTOR (e.g. 500:64000:x2), got '" + text + "'");
    const std::size_t first = number(parts[0]), last = number(parts[1]);
    double factor = 0;
    if (!parse_number(parts[2].substr(1), factor) || !(factor > 1.0))
      throw InputError(name + " grid factor must be > 1, got '" + parts[2] + "'");
    if (last < first) throw InputError(name + " grid needs FIRST <= LAST, got '" + text + "'");
    // Bound the number of steps before taking them: a factor within a few ulps of 1 would
    // otherwise loop ~1e15 times producing the same rounded sizes.
    if (std::log(static_cast<double>(last) / static_cast<double>(first)) / std::log(factor) > 10000.0)
      throw InputError(name + " grid " + text + " would take more than 10000 steps (factor too close to 1)");
    for (double m = static_cast<double>(first); m <= last * (1 + 1e-9); m *= factor) {
      const auto v = static_cast<std::size_t>(std::llround(m));
      if (out.empty() || v != out.back()) out.push_back(v);
      if (out.size() > 10000) throw InputError(name + " grid has more than 10000 points: '" + text + "'");
    }
  } else {
    for (const auto& p : split(text, ',')) out.push_back(number(p));
    std::vector<std::size_t> sorted = out;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw InputError(name + " has repeated entries: '" + text + "'");
  }
  if (out.empty()) throw InputError(name + " is empty");
  return out;
}

bool Settings::get_range(const std::string& key, double& a, double& b) const {
  const std::string& text = raw(key);
  if (trim(text) == "auto") return false;
  const auto parts = split(text, ',');
  if (parts.size() != 2 || !parse_number(parts[0], a) || !parse_number(parts[1], b) || !std::isfinite(a) ||
      !std::isfinite(b))
    throw InputError(label(key) + " must be 'a,b' (two finite numbers) or 'auto', got '" + text + "'");
  if (!(a < b)) throw InputError(label(key) + " needs a < b, got '" + text + "'");
  return true;
}

std::vector<std::pair<std::string, std::string>> Settings::all() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : keys_) out.emplace_back(k.key, values_.at(k.key).value);
  return out;
}

}  // namespace attnrate
