// Fuzz harness: reading a cell checkpoint (cells/<group>.json) on resume, through the public
// run_groups of studies/rfa_common.hpp (the RFA studies' checkpoint reader). The per-cell
// parsers of minimax-rate and the pairwise studies (from_json / cell_from_json) are in anonymous
// namespaces and so cannot be fuzzed here; see the fuzzing section of the README.
//
// The input is the checkpoint file's content. Besides crashes, leaks and undefined behaviour,
// it checks the documented resume contract: a file that parses as JSON, is an object with
// "fingerprint" equal to the run's fingerprint and has "rows" (an array of objects whose counters M, n,
// N, d, rep, heads are integers in range) is reused as is (the group is not
// recomputed); anything else (corrupt, truncated, other fingerprint) is recomputed and the
// checkpoint rewritten, and run_groups does not throw.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <streambuf>
#include <string>
#include <vector>

#include "studies/rfa/rfa_common.hpp"
#include "studies/sweep/study.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using attnrate::fuzz::finding;

const std::string kFingerprint = "attnrate-fuzz-fingerprint";

// run_groups reports every corrupt checkpoint on std::cerr; silence it while fuzzing.
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
  const auto out = attnrate::fuzz::scratch_dir() / "study";
  const auto file = attnrate::fuzz::write_scratch("study/cells/g0.json", data, size);

  // What the contract says should happen with this file.
  const nlohmann::json parsed = nlohmann::json::parse(data, data + size, nullptr, false);
  bool reusable = !parsed.is_discarded() && parsed.is_object() && parsed.contains("fingerprint") &&
                  parsed["fingerprint"] == kFingerprint && parsed.contains("rows") && parsed["rows"].is_array();
  // ... and its rows are objects whose counters (M, n, N, d, rep, heads), where present, are
  // integers in 0..2^32-1 (a corrupt counter sends the group back to be recomputed).
  if (reusable)
    for (const auto& row : parsed["rows"]) {
      if (!row.is_object()) {
        reusable = false;
        break;
      }
      for (const char* key : {"M", "n", "N", "d", "rep", "heads"})
        if (row.contains(key)) {
          const auto& v = row[key];
          const bool ok = (v.is_number_unsigned() && v.get<std::uint64_t>() <= 0xffffffffULL) ||
                          (v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= 0xffffffffLL);
          reusable = reusable && ok;
        }
    }

  const nlohmann::json fresh = nlohmann::json::array({nlohmann::json{{"fresh", true}}});
  int computed = 0;
  attnrate::StudyContext ctx;
  ctx.out = out;
  ctx.threads = 1;
  ctx.resume = true;
  ctx.progress = false;
  std::vector<nlohmann::json> results;
  try {
    SilenceCerr quiet;
    results = attnrate::run_groups(ctx, "fuzz", kFingerprint, {"g0"}, [&](std::size_t) {
      ++computed;
      return fresh;
    });
  } catch (const std::exception& e) {
    finding(std::string("run_groups threw on a checkpoint it should reuse or recompute: ") + e.what());
  }

  if (results.size() != 1) finding("run_groups returned the wrong number of groups");
  if (reusable) {
    if (computed != 0 || results[0] != parsed.at("rows")) finding("a valid checkpoint was not reused as is");
  } else {
    if (computed != 1 || results[0] != fresh) finding("an unusable checkpoint was not recomputed");
    std::ifstream in(file, std::ios::binary);
    const nlohmann::json rewritten = nlohmann::json::parse(in, nullptr, false);
    if (rewritten.is_discarded() || rewritten.value("fingerprint", "") != kFingerprint ||
        rewritten.value("rows", nlohmann::json()) != fresh)
      finding("the recomputed group's checkpoint was not rewritten");
  }
  return 0;
}
