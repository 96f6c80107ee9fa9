// Fuzz harness: the claims file reader (parse_claims, theory/claims/claims_file.hpp) against a
// small hand-made StudyCatalog (two studies, quantities with and without select keys).
//
// Besides crashes, leaks, undefined behaviour and hangs, it checks the documented contracts: a
// rejected file throws InputError (any other exception is a finding); non-ASCII text is never
// accepted; every accepted claim has a valid unique id, names a catalogued study, quantity,
// options and select keys, and has a finite rule (theory low <= high, tolerance >= 0, widths > 0)
// whose profiles can be formed.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <string_view>

#include "estimators/common/input_error.hpp"
#include "tests/fuzz/fuzz_util.hpp"
#include "theory/claims/claims_file.hpp"

namespace {

using attnrate::fuzz::finding;

const attnrate::StudyCatalog& catalog() {
  static const attnrate::StudyCatalog c = {
      {"minimax-rate",
       {"activation", "M", "seeds", "test-pairs", "d", "sigma"},
       {{"slope", {}}, {"error", {"M"}}}},
      {"dimension-free",
       {"activations", "d", "M", "seeds"},
       {{"slope", {"activation", "d"}}, {"spread", {"activation"}}}},
  };
  return c;
}

const attnrate::StudyCatalogEntry* study_of(const std::string& name) {
  for (const auto& s : catalog())
    if (s.name == name) return &s;
  return nullptr;
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  for (char ch : id)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '-'))
      return false;
  return true;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names)
    if (n == name) return true;
  return false;
}

void check_options(const attnrate::StudyOptions& options, const attnrate::StudyCatalogEntry& study) {
  for (const auto& [key, value] : options)
    if (!has(study.options, key)) finding("accepted an option the study does not have: " + key);
}

void check_claim(const attnrate::Claim& c) {
  if (!valid_id(c.id)) finding("accepted an invalid claim id: " + c.id);
  const attnrate::StudyCatalogEntry* study = study_of(c.study);
  if (study == nullptr) finding("accepted an unknown study: " + c.study);
  const auto q = study->quantities.find(c.quantity);
  if (q == study->quantities.end()) finding("accepted an unknown quantity: " + c.quantity);
  for (const auto& [key, value] : c.select)
    if (!has(q->second, key)) finding("accepted a select key the quantity does not have: " + key);
  check_options(c.params, *study);
  check_options(c.quick, *study);
  for (const char* profile : {"quick", "full"}) {
    const attnrate::JudgeRule r = c.rule_for(profile);
    if (!std::isfinite(r.theory_lo) || !std::isfinite(r.theory_hi) || r.theory_lo > r.theory_hi)
      finding("accepted a theory that is not finite with low <= high");
    if (!std::isfinite(r.tolerance) || r.tolerance < 0) finding("accepted a tolerance that is not finite and >= 0");
    if (r.max_ci_width && !(std::isfinite(*r.max_ci_width) && *r.max_ci_width > 0))
      finding("accepted a max-ci-width that is not finite and > 0");
    (void)c.options(profile);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bool ascii = true;
  for (unsigned char ch : text) ascii = ascii && ch < 0x80;
  std::vector<attnrate::Claim> claims;
  try {
    claims = attnrate::parse_claims(text, "fuzz.toml", catalog());
  } catch (const attnrate::InputError&) {
    return 0;
  } catch (const std::exception& e) {
    finding(std::string("parse_claims threw a non-InputError exception: ") + e.what());
  }
  if (!ascii) finding("parse_claims accepted a file with non-ASCII bytes");
  std::set<std::string> ids;
  for (const auto& c : claims) {
    check_claim(c);
    if (!ids.insert(c.id).second) finding("parse_claims accepted a duplicate id: " + c.id);
  }
  return 0;
}
