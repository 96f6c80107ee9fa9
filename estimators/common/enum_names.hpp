#pragma once
// The names of an enumeration's values, in declaration order, as one table: to_string and the
// parse of user text read the same names, so they cannot drift apart. The enumeration's values
// must be 0, 1, ..., n-1 (the default for an enum class without initialisers).
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace attnrate {

template <class Enum, std::size_t n>
struct EnumNames {
  std::array<const char*, n> names;

  /// The name of e, or "?" for a value outside the table.
  constexpr const char* name(Enum e) const noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i < n ? names[i] : "?";
  }

  /// The value called `text`, if any (exact match).
  constexpr std::optional<Enum> find(std::string_view text) const noexcept {
    for (std::size_t i = 0; i < n; ++i)
      if (text == names[i]) return static_cast<Enum>(i);
    return std::nullopt;
  }

  /// "a, b, c": the allowed names, for error messages.
  std::string list() const {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += std::string(i ? ", " : "") + names[i];
    return s;
  }
};

/// enum_names<RidgeForm>({"automatic", "primal", "dual"}).
template <class Enum, std::size_t n>
constexpr EnumNames<Enum, n> enum_names(const char* const (&names)[n]) noexcept {
  EnumNames<Enum, n> table{};
  for (std::size_t i = 0; i < n; ++i) table.names[i] = names[i];
  return table;
}

}  // namespace attnrate
