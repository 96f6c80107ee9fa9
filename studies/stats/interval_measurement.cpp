#include "studies/stats/interval_measurement.hpp"

#include <utility>

namespace attnrate {

Measurement interval_measurement(std::string quantity, std::map<std::string, std::string> select,
                                 const IntervalEstimate& e) {
  Measurement m;
  m.quantity = std::move(quantity);
  m.select = std::move(select);
  m.value = e.value;
  m.ci_t_lo = e.t_lo;
  m.ci_t_hi = e.t_hi;
  m.ci_boot_lo = e.boot_lo;
  m.ci_boot_hi = e.boot_hi;
  return m;
}

}  // namespace attnrate
