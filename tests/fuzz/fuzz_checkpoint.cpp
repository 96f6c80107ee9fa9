// Fuzz harness: the sweep engine's checkpoint reader read_checkpoint (studies/sweep/sweep.hpp),
// which decides on --resume whether a cell file cells/<name>.json is reused or recomputed.
//
// The input is the checkpoint file's content. Besides crashes, leaks and undefined behaviour,
// it checks the documented contract: the reader returns the file's "value" as is exactly when
// the file parses as a JSON object whose "study", "cell" and "fingerprint" are this run's,
// whose "checksum" is checkpoint_checksum of its "value", and whose value passes the study's
// validator; otherwise it returns nothing; it never throws. The validator here stands for a
// study's: the value must be an array of objects whose counters M, n, N, d, rep, heads, where
// present, are integers in 0..2^32-1 and whose "error", where present, is a finite number >= 0.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <streambuf>
#include <string>

#include "estimators/common/input_error.hpp"
#include "studies/io/output.hpp"
#include "studies/sweep/sweep.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using attnrate::fuzz::finding;

const char* const kCounters[] = {"M", "n", "N", "d", "rep", "heads"};

// The study validator under which the reader is exercised (through the study helpers).
void validate(const nlohmann::json& value) {
  if (!value.is_array()) throw attnrate::InputError("a cell must be an array of rows");
  for (const auto& row : value) {
    if (!row.is_object()) throw attnrate::InputError("a row must be an object");
    for (const char* key : kCounters)
      if (row.contains(key)) {
        std::uint32_t v = 0;
        attnrate::read_checkpoint_field(row, key, v);
      }
    if (row.contains("error")) {
      double e = 0;
      attnrate::read_checkpoint_field(row, "error", e);
      if (!(std::isfinite(e) && e >= 0)) throw attnrate::InputError("error must be finite and >= 0");
    }
  }
}

// The same rule written against the JSON API directly, for the expected outcome.
bool valid_value(const nlohmann::json& value) {
  if (!value.is_array()) return false;
  for (const auto& row : value) {
    if (!row.is_object()) return false;
    for (const char* key : kCounters)
      if (row.contains(key)) {
        const auto& v = row[key];
        const bool ok = (v.is_number_unsigned() && v.get<std::uint64_t>() <= 0xffffffffULL) ||
                        (v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= 0xffffffffLL);
        if (!ok) return false;
      }
    if (row.contains("error")) {
      const auto& e = row["error"];
      if (!e.is_number() || !std::isfinite(e.get<double>()) || e.get<double>() < 0) return false;
    }
  }
  return true;
}

// The reader reports every rejected checkpoint on std::cerr; silence it while fuzzing.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
};

struct SilenceCerr {
  NullBuffer null;
  std::streambuf* saved = std::cerr.rdbuf(&null);
  ~SilenceCerr() { std::cerr.rdbuf(saved); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = attnrate::fuzz::write_scratch("study/cells/c0.json", data, size);
  attnrate::SweepSpec spec;
  spec.study = "fuzz";
  spec.label = "fuzz";
  spec.fingerprint = "attnrate-fuzz-fingerprint";
  spec.names = {"c0"};

  // What the contract says should happen with this file.
  const nlohmann::json parsed = nlohmann::json::parse(data, data + size, nullptr, false);
  const bool reusable = !parsed.is_discarded() && parsed.is_object() && parsed.contains("study") &&
                        parsed["study"] == spec.study && parsed.contains("cell") && parsed["cell"] == "c0" &&
                        parsed.contains("fingerprint") && parsed["fingerprint"] == spec.fingerprint &&
                        parsed.contains("value") && parsed.contains("checksum") &&
                        parsed["checksum"] == attnrate::checkpoint_checksum(parsed["value"]) &&
                        valid_value(parsed["value"]);

  std::optional<nlohmann::json> value;
  try {
    SilenceCerr quiet;
    value = attnrate::read_checkpoint(file, spec, "c0", validate);
  } catch (const std::exception& e) {
    finding(std::string("read_checkpoint threw: ") + e.what());
  }
  if (reusable && (!value || *value != parsed.at("value"))) finding("a valid checkpoint was not reused as is");
  if (!reusable && value) finding("an unusable checkpoint was reused");
  return 0;
}
