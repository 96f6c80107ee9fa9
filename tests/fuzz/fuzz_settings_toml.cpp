// Fuzz harness: the TOML study loader (Settings::load_toml, studies/io/settings.hpp) and the typed
// getters that turn the loaded text into study parameters (get_int, get_count, get_size,
// get_bytes, get_double, get_seed, get_sizes, get_range), over the keys of every registered
// study (all_studies()).
//
// Besides crashes, leaks, undefined behaviour and hangs (libFuzzer -timeout), it checks the
// documented contracts: a malformed file or value throws InputError (any other exception is a
// finding); accepted values obey the requested bounds; get_sizes returns a non-empty list with
// every entry >= min and no repeats in a comma list.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "studies/registry.hpp"
#include "studies/io/settings.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using attnrate::fuzz::finding;

// The union of the keys of all studies (first default wins), so any study's TOML file is valid.
const std::vector<attnrate::KeySpec>& all_keys() {
  static const std::vector<attnrate::KeySpec> keys = [] {
    std::vector<attnrate::KeySpec> out;
    std::set<std::string> seen;
    for (const auto& study : attnrate::all_studies())
      for (auto& k : study.keys())
        if (seen.insert(k.key).second) out.push_back(k);
    return out;
  }();
  return keys;
}

template <class F>
void expect_input_error_only(const std::string& what, F&& f) {
  try {
    f();
  } catch (const attnrate::InputError&) {
  } catch (const std::exception& e) {
    finding(what + " threw a non-InputError exception: " + e.what());
  }
}

void check_getters(const attnrate::Settings& s, const std::string& key) {
  constexpr long long kMinLL = std::numeric_limits<long long>::min(), kMaxLL = std::numeric_limits<long long>::max();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::string of = "(" + key + ")";
  expect_input_error_only("get_int" + of, [&] { s.get_int(key, kMinLL, kMaxLL); });
  expect_input_error_only("get_int[1,100]" + of, [&] {
    const long long v = s.get_int(key, 1, 100);
    if (v < 1 || v > 100) finding("get_int returned a value outside [1, 100]");
  });
  expect_input_error_only("get_count[-5,7]" + of, [&] {
    const int v = s.get_count(key, -5, 7);
    if (v < -5 || v > 7) finding("get_count returned a value outside [-5, 7]");
  });
  expect_input_error_only("get_size[2,2^53]" + of, [&] {
    const std::uint64_t v = s.get_size(key, 2, std::uint64_t{1} << 53);
    if (v < 2 || v > (std::uint64_t{1} << 53)) finding("get_size returned a value outside [2, 2^53]");
  });
  expect_input_error_only("get_bytes" + of, [&] {
    const std::uint64_t v = s.get_bytes(key);
    if (v < 1 || v > (std::uint64_t{1} << 63)) finding("get_bytes returned a value outside [1, 2^63]");
  });
  expect_input_error_only("get_double" + of, [&] {
    const double v = s.get_double(key, -kInf, kInf);
    if (!std::isfinite(v)) finding("get_double returned a non-finite value");
  });
  expect_input_error_only("get_double(0,1]" + of, [&] {
    const double v = s.get_double(key, 0.0, 1.0, false);
    if (!(v > 0.0 && v <= 1.0)) finding("get_double returned a value outside (0, 1]");
  });
  expect_input_error_only("get_seed" + of, [&] { s.get_seed(key); });
  expect_input_error_only("get_sizes" + of, [&] {
    const std::vector<std::size_t> v = s.get_sizes(key, 1);
    if (v.empty()) finding("get_sizes returned an empty list");
    for (std::size_t x : v)
      if (x < 1 || x > (std::size_t{1} << 53)) finding("get_sizes returned an entry outside [min, 2^53]");
    if (s.raw(key).find(':') == std::string::npos && std::set<std::size_t>(v.begin(), v.end()).size() != v.size())
      finding("get_sizes returned repeated entries for a comma list");
  });
  expect_input_error_only("get_range" + of, [&] {
    double a = 0, b = 0;
    if (s.get_range(key, a, b) && !(std::isfinite(a) && std::isfinite(b) && a < b))
      finding("get_range returned a range that is not finite with a < b");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Non-ASCII input reaches load_toml too: it must refuse it (InputError) before toml++ 3.3.0
  // sees it (upstream marzer/tomlplusplus#190, #295: __builtin_unreachable() for some code
  // points); the corpus keeps a reproducer (toml++-unreachable-U+0407.toml).
  bool ascii = true;
  for (std::size_t i = 0; i < size; ++i) ascii = ascii && data[i] < 0x80;
  const auto path = attnrate::fuzz::write_scratch("study.toml", data, size);
  attnrate::Settings settings(all_keys());
  bool loaded = false;
  expect_input_error_only("load_toml", [&] {
    settings.load_toml(path);
    loaded = true;
  });
  if (!ascii && loaded) finding("load_toml accepted a file with non-ASCII bytes");
  if (!loaded) return 0;
  for (const auto& k : all_keys())
    if (settings.given(k.key)) check_getters(settings, k.key);
  (void)settings.all();
  return 0;
}
