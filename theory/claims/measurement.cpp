#include "theory/claims/measurement.hpp"

#include <cmath>
#include <limits>

#include "estimators/common/input_error.hpp"

namespace attnrate {

const char* to_string(WidthScale s) noexcept { return s == WidthScale::log ? "log(hi/lo)" : "hi-lo"; }

namespace {
// JSON has no NaN: nlohmann writes it as null, and it reads back as NaN.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }
double read_number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw InputError(std::string("measurement: missing field '") + key + "'");
  const auto& v = j.at(key);
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) throw InputError(std::string("measurement: field '") + key + "' must be a number");
  return v.get<double>();
}
void read_pair(const nlohmann::json& j, const char* key, double& lo, double& hi) {
  if (!j.contains(key) || !j.at(key).is_array() || j.at(key).size() != 2)
    throw InputError(std::string("measurement: field '") + key + "' must be [low, high]");
  const nlohmann::json p{{"lo", j.at(key)[0]}, {"hi", j.at(key)[1]}};
  lo = read_number(p, "lo");
  hi = read_number(p, "hi");
}
}  // namespace

nlohmann::json to_json(const Measurement& m) {
  nlohmann::json j;
  j["quantity"] = m.quantity;
  j["select"] = m.select;
  j["value"] = number(m.value);
  j["ci_t"] = {number(m.ci_t_lo), number(m.ci_t_hi)};
  j["ci_boot"] = {number(m.ci_boot_lo), number(m.ci_boot_hi)};
  j["width_scale"] = to_string(m.width_scale);
  j["may_be_higher"] = m.may_be_higher;
  j["may_be_lower"] = m.may_be_lower;
  j["details"] = m.details;
  return j;
}

Measurement measurement_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("measurement: must be an object");
  Measurement m;
  if (!j.contains("quantity") || !j.at("quantity").is_string())
    throw InputError("measurement: field 'quantity' must be a string");
  m.quantity = j.at("quantity").get<std::string>();
  if (j.contains("select")) {
    if (!j.at("select").is_object()) throw InputError("measurement: field 'select' must be an object");
    for (const auto& [k, v] : j.at("select").items()) {
      if (!v.is_string()) throw InputError("measurement: select values must be strings");
      m.select[k] = v.get<std::string>();
    }
  }
  m.value = read_number(j, "value");
  read_pair(j, "ci_t", m.ci_t_lo, m.ci_t_hi);
  read_pair(j, "ci_boot", m.ci_boot_lo, m.ci_boot_hi);
  const std::string scale = j.value("width_scale", std::string("hi-lo"));
  if (scale != "hi-lo" && scale != "log(hi/lo)") throw InputError("measurement: unknown width_scale '" + scale + "'");
  m.width_scale = scale == "log(hi/lo)" ? WidthScale::log : WidthScale::linear;
  m.may_be_higher = j.value("may_be_higher", false);
  m.may_be_lower = j.value("may_be_lower", false);
  if (j.contains("details")) m.details = j.at("details");
  return m;
}

}  // namespace attnrate
