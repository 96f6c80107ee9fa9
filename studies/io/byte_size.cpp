#include "studies/io/byte_size.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "estimators/common/input_error.hpp"

namespace attnrate {

std::uint64_t parse_byte_size(const std::string& text, const std::string& option) {
  const auto bad = [&]() -> std::uint64_t {
    throw InputError(option + " must be a size in bytes from 1 to 2^63, with an optional suffix K, M, G or T "
                              "(powers of 1024), e.g. 512M or 8G, got '" + text + "'");
  };
  std::string_view t(text);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  double number = 0.0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), number, std::chars_format::fixed);
  if (ec != std::errc() || end == t.data()) return bad();
  std::string_view suffix(end, static_cast<std::size_t>(t.data() + t.size() - end));
  if (suffix.ends_with("iB")) suffix.remove_suffix(2);
  else if (suffix.size() == 2 && suffix.back() == 'B') suffix.remove_suffix(1);
  constexpr std::string_view kUnits = "KMGT";
  double scale = 1.0;
  if (suffix.size() == 1 && kUnits.find(suffix[0]) != std::string_view::npos)
    scale = std::ldexp(1.0, 10 * (1 + static_cast<int>(kUnits.find(suffix[0]))));
  else if (!suffix.empty())
    return bad();
  const double bytes = std::floor(number * scale);
  if (!(bytes >= 1.0) || !(bytes <= std::ldexp(1.0, 63))) return bad();
  return bytes == std::ldexp(1.0, 63) ? std::uint64_t{1} << 63 : static_cast<std::uint64_t>(bytes);
}

std::string byte_size_text(std::uint64_t bytes) {
  constexpr std::string_view kSuffixes = "KMGT";
  std::string suffix;
  for (char c : kSuffixes) {
    if (bytes == 0 || bytes % 1024 != 0) break;
    bytes /= 1024;
    suffix = c;
  }
  return std::to_string(bytes) + suffix;
}

std::string format_bytes(double bytes) {
  constexpr std::array<const char*, 7> kUnits{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < kUnits.size()) {
    bytes /= 1024.0;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.3g %s", bytes, kUnits[unit]);
  return buf;
}

}  // namespace attnrate
