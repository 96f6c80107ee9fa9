#include "estimators/common/toml_scalar.hpp"

#include <charconv>
#include <cmath>

namespace attnrate {

std::optional<std::string> toml_scalar_text(const toml::node& node) {
  if (auto x = node.as_integer()) return std::to_string(x->get());
  if (auto y = node.as_floating_point()) {
    const double v = y->get();
    if (!std::isfinite(v)) return std::nullopt;
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string t(buf, r.ptr);
    if (t.find_first_of(".e") == std::string::npos) t += ".0";
    return t;
  }
  if (auto z = node.as_string()) return z->get();
  if (auto b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
  return std::nullopt;
}

std::optional<std::string> toml_option_text(const toml::node& node) {
  const auto* arr = node.as_array();
  if (!arr) return toml_scalar_text(node);
  std::string out;
  bool first = true;
  for (auto&& el : *arr) {
    const auto t = toml_scalar_text(el);
    if (!t) return std::nullopt;
    out += (first ? "" : ",") + *t;
    first = false;
  }
  if (first) return std::nullopt;  // an empty array is no value
  return out;
}

}  // namespace attnrate
