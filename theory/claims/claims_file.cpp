#include "theory/claims/claims_file.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/plain_ascii.hpp"
#include "estimators/common/toml_scalar.hpp"

namespace attnrate {

StudyOptions Claim::options(const std::string& profile) const {
  StudyOptions out = params;
  if (profile == "quick")
    for (const auto& kv : quick) {  // not a structured binding: clang 14 cannot capture one
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == kv.first; });
      if (it != out.end()) it->second = kv.second;
      else out.push_back(kv);
    }
  return out;
}

std::string Claim::option_place(const std::string& profile, const std::string& key) const {
  if (profile == "quick" && quick_lines.count(key)) return SourcePlace{place.file, quick_lines.at(key)}.str();
  if (param_lines.count(key)) return SourcePlace{place.file, param_lines.at(key)}.str();
  return place.str();
}

JudgeRule Claim::rule_for(const std::string& profile) const {
  JudgeRule r = rule;
  if (profile == "quick" && quick_max_ci_width) r.max_ci_width = quick_max_ci_width;
  return r;
}

namespace {

bool as_number(const std::string& s, double& v) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  const auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e && !s.empty();
}

// Equal as numbers when both are numbers; "name:param" values (weierstrass:1, key-poly:2,
// exchangeable:0.5) by the name and then the parameter in the same way; else as text.
bool same_select_value(const std::string& v, const std::string& w) {
  double a = 0, b = 0;
  if (as_number(v, a) && as_number(w, b)) return a == b;
  const auto cv = v.find(':'), cw = w.find(':');
  if (cv != std::string::npos && cw != std::string::npos && v.compare(0, cv, w, 0, cw) == 0)
    return same_select_value(v.substr(cv + 1), w.substr(cw + 1));
  return v == w;
}

}  // namespace

bool select_matches(const std::map<std::string, std::string>& wanted, const std::map<std::string, std::string>& have) {
  for (const auto& [k, v] : wanted) {
    const auto it = have.find(k);
    if (it == have.end() || !same_select_value(v, it->second)) return false;
  }
  return true;
}

bool glob_match(const std::string& p, const std::string& t) {
  std::size_t i = 0, j = 0, star = std::string::npos, mark = 0;
  while (j < t.size()) {
    if (i < p.size() && (p[i] == '?' || p[i] == t[j])) {
      ++i;
      ++j;
    } else if (i < p.size() && p[i] == '*') {
      star = i++;
      mark = j;
    } else if (star != std::string::npos) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.size() && p[i] == '*') ++i;
  return i == p.size();
}

namespace {

// Collects every problem of a file before anything runs.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void add(int line, const std::string& what) { lines_.emplace_back(line, what); }
  /// In line order (found in the order of the checks; a stable sort keeps a line's own order).
  void throw_if_any() {
    if (lines_.empty()) return;
    std::stable_sort(lines_.begin(), lines_.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::string m;
    for (const auto& [line, what] : lines_) m += (m.empty() ? "" : "\n") + file_ + ":" + std::to_string(line) + ": " + what;
    throw InputError(m);
  }

 private:
  std::string file_;
  std::vector<std::pair<int, std::string>> lines_;
};

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::optional<double> number_of(const toml::node& n) {
  if (auto x = n.as_integer()) return static_cast<double>(x->get());
  if (auto y = n.as_floating_point()) return y->get();
  return std::nullopt;
}

// The id names the claim's folder (--out/claims/<id>), so it starts with a letter or digit: no
// ".", ".." or hidden folder.
bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9'))) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-')) return false;
  return true;
}

const std::vector<std::string> kFields = {"id",    "statement", "source",       "note",          "study",
                                          "quantity", "theory",  "bound",        "tolerance",     "max-ci-width", "quick-max-ci-width",
                                          "quick-decisive", "params", "quick",  "select"};

// Reads an options table ([claim.params] or [claim.quick]) into `out`, checking names.
void read_options(const toml::table& t, const StudyCatalogEntry* study, const std::string& table_name,
                  StudyOptions& out, std::map<std::string, int>& lines, Problems& problems) {
  for (auto&& [k, node] : t) {
    const std::string key(k.str());
    const int line = line_of(node);
    if (study && std::find(study->options.begin(), study->options.end(), key) == study->options.end()) {
      // The run's own options (where it writes, how it runs) belong to verify, not to a claim.
      static const std::vector<std::string> verify_options = {"out", "threads", "resume"};
      static const std::vector<std::string> study_run_options = {"progress", "no-figures"};
      if (std::find(verify_options.begin(), verify_options.end(), key) != verify_options.end())
        problems.add(line, "[claim." + table_name + "]: '" + key + "' is an option of the run, not of the study: give " +
                               "it to verify (--" + key + "); each claim's study writes to DIR/claims/<id>/");
      else if (std::find(study_run_options.begin(), study_run_options.end(), key) != study_run_options.end())
        problems.add(line, "[claim." + table_name + "]: '" + key + "' is an option of an `attnrate study` run, not of " +
                               "the study, and verify has no such option");
      else
        problems.add(line, "[claim." + table_name + "]: study '" + study->name + "' has no option '" + key + "'" +
                               did_you_mean(key, study->options));
      continue;
    }
    const auto v = toml_option_text(node);
    if (!v) {
      problems.add(line, "[claim." + table_name + "]: option '" + key +
                             "' must be a string, a finite number, a boolean or a non-empty array of those");
      continue;
    }
    out.emplace_back(key, *v);
    lines[key] = line;
  }
}

Claim read_claim(const toml::table& t, int table_line, const std::string& file, const StudyCatalog& catalog,
                 Problems& problems) {
  Claim c;
  c.place = {file, table_line};
  for (auto&& [k, node] : t) {
    const std::string key(k.str());
    if (std::find(kFields.begin(), kFields.end(), key) == kFields.end())
      problems.add(line_of(node), "unknown claim field '" + key + "'" + did_you_mean(key, kFields));
  }
  auto text = [&](const char* key, std::string& out, bool required) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) problems.add(table_line, std::string("claim is missing the field '") + key + "'");
      return;
    }
    if (auto s = n->as_string()) {
      out = s->get();
      if (out.empty() && required) problems.add(line_of(*n), std::string("'") + key + "' must not be empty");
    } else {
      problems.add(line_of(*n), std::string("'") + key + "' must be a string");
    }
  };
  text("id", c.id, true);
  text("statement", c.statement, true);
  text("source", c.source, true);
  text("note", c.note, false);
  text("study", c.study, true);
  text("quantity", c.quantity, true);
  if (!c.id.empty() && !valid_id(c.id))
    problems.add(line_of(*t.get("id")), "id '" + c.id + "' must start with a-z or 0-9 and use only a-z, 0-9 and . _ : - (at most 200 characters): it names the claim's folder");

  const StudyCatalogEntry* study = nullptr;
  if (!c.study.empty()) {
    std::vector<std::string> names;
    for (const auto& s : catalog) {
      names.push_back(s.name);
      if (s.name == c.study) study = &s;
    }
    if (!study) problems.add(line_of(*t.get("study")), "unknown study '" + c.study + "'" + did_you_mean(c.study, names));
  }
  std::vector<std::string> select_keys;
  if (study && !c.quantity.empty()) {
    const auto q = study->quantities.find(c.quantity);
    if (q == study->quantities.end()) {
      std::vector<std::string> names;
      for (const auto& [name, keys] : study->quantities) names.push_back(name);
      problems.add(line_of(*t.get("quantity")), "study '" + c.study + "' reports no quantity '" + c.quantity + "'" +
                                                     did_you_mean(c.quantity, names) +
                                                     " (attnrate list --quantities " + c.study + ")");
    } else {
      select_keys = q->second;
    }
  }

  // bound and theory
  std::string bound_text;
  text("bound", bound_text, true);
  if (!bound_text.empty()) {
    if (const auto b = parse_bound(bound_text)) c.rule.bound = *b;
    else
      problems.add(line_of(*t.get("bound")), "bound must be equal, at-most, at-least or within, got '" + bound_text +
                                                  "'" + did_you_mean(bound_text, {"equal", "at-most", "at-least", "within"}));
  }
  if (const toml::node* n = t.get("theory")) {
    if (const auto v = number_of(*n)) {
      c.rule.theory_lo = c.rule.theory_hi = *v;
      if (!std::isfinite(*v)) problems.add(line_of(*n), "theory must be finite");
      if (c.rule.bound == Bound::within && !bound_text.empty())
        problems.add(line_of(*n), "bound 'within' needs a range: theory = [low, high]");
    } else if (auto arr = n->as_array(); arr && arr->size() == 2 && number_of(*arr->get(0)) && number_of(*arr->get(1))) {
      c.rule.theory_lo = *number_of(*arr->get(0));
      c.rule.theory_hi = *number_of(*arr->get(1));
      if (!std::isfinite(c.rule.theory_lo) || !std::isfinite(c.rule.theory_hi) || c.rule.theory_lo > c.rule.theory_hi)
        problems.add(line_of(*n), "theory = [low, high] needs finite numbers with low <= high");
      if (c.rule.bound != Bound::within && parse_bound(bound_text))
        problems.add(line_of(*n), "a theory range [low, high] needs bound = \"within\", got '" + bound_text + "'");
    } else {
      problems.add(line_of(*n), "theory must be a number or [low, high]");
    }
  } else {
    problems.add(table_line, "claim is missing the field 'theory'");
  }
  if (const toml::node* n = t.get("tolerance")) {
    const auto v = number_of(*n);
    if (!v || !std::isfinite(*v) || *v < 0) problems.add(line_of(*n), "tolerance must be a finite number >= 0");
    else c.rule.tolerance = *v;
  } else {
    problems.add(table_line, "claim is missing the field 'tolerance'");
  }
  if (const toml::node* n = t.get("max-ci-width")) {
    const auto v = number_of(*n);
    if (!v || !std::isfinite(*v) || !(*v > 0)) problems.add(line_of(*n), "max-ci-width must be a finite number > 0");
    else c.rule.max_ci_width = *v;
  }
  if (const toml::node* n = t.get("quick-max-ci-width")) {
    const auto v = number_of(*n);
    if (!v || !std::isfinite(*v) || !(*v > 0)) problems.add(line_of(*n), "quick-max-ci-width must be a finite number > 0");
    else c.quick_max_ci_width = *v;
  }
  if (const toml::node* n = t.get("quick-decisive")) {
    if (auto b = n->as_boolean()) c.quick_decisive = b->get();
    else problems.add(line_of(*n), "quick-decisive must be true or false");
  }

  for (const char* name : {"params", "quick"}) {
    const toml::node* n = t.get(name);
    if (!n) continue;
    const toml::table* tab = n->as_table();
    if (!tab) {
      problems.add(line_of(*n), std::string("[claim.") + name + "] must be a table");
      continue;
    }
    const bool params = std::string(name) == "params";
    read_options(*tab, study, name, params ? c.params : c.quick, params ? c.param_lines : c.quick_lines, problems);
  }
  if (const toml::node* n = t.get("select")) {
    if (const toml::table* tab = n->as_table()) {
      for (auto&& [k, node] : *tab) {
        const std::string key(k.str());
        if (study && !select_keys.empty() &&
            std::find(select_keys.begin(), select_keys.end(), key) == select_keys.end()) {
          std::string valid;
          for (const auto& s : select_keys) valid += (valid.empty() ? "" : ", ") + s;
          problems.add(line_of(node), "[claim.select]: quantity '" + c.quantity + "' of study '" + c.study +
                                          "' has no select key '" + key + "'" + did_you_mean(key, select_keys) +
                                          " (valid: " + valid + ")");
          continue;
        }
        if (study && select_keys.empty() && study->quantities.count(c.quantity)) {
          problems.add(line_of(node), "[claim.select]: quantity '" + c.quantity + "' of study '" + c.study +
                                          "' has a single measurement; remove [claim.select]");
          continue;
        }
        const auto v = toml_scalar_text(node);
        if (!v) problems.add(line_of(node), "[claim.select]: '" + key + "' must be a string, number or boolean");
        else {
          c.select[key] = *v;
          c.select_lines[key] = line_of(node);
        }
      }
    } else {
      problems.add(line_of(*n), "[claim.select] must be a table");
    }
  }
  return c;
}

}  // namespace

std::vector<Claim> parse_claims(std::string_view text, const std::string& file, const StudyCatalog& catalog) {
  Problems problems(file);
  text = without_utf8_bom(text);
  require_plain_ascii(text, file, "claims files");
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw InputError(m.str());
  }
  std::vector<Claim> claims;
  for (auto&& [k, node] : root) {
    const std::string key(k.str());
    if (key != "claim") {
      problems.add(line_of(node), "unknown top-level key '" + key + "'; a claims file holds [[claim]] tables" +
                                      did_you_mean(key, {"claim"}));
      continue;
    }
    const toml::array* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      problems.add(line_of(node), "'claim' must be an array of tables: write each claim as [[claim]]");
      continue;
    }
    for (auto&& el : *arr) claims.push_back(read_claim(*el.as_table(), line_of(el), file, catalog, problems));
  }
  if (claims.empty() && root.empty()) problems.add(1, "no [[claim]] table in the file");
  std::map<std::string, int> seen;
  for (const auto& c : claims) {
    if (c.id.empty()) continue;
    const auto [it, fresh] = seen.emplace(c.id, c.place.line);
    if (!fresh)
      problems.add(c.place.line, "duplicate claim id '" + c.id + "' (first at line " + std::to_string(it->second) + ")");
  }
  problems.throw_if_any();
  return claims;
}

namespace {

// *.toml in any case (a folder copied from a case-insensitive file system may say CLAIMS.TOML).
bool is_toml_name(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".toml";
}

std::vector<Claim> load_file(const std::filesystem::path& path, const StudyCatalog& catalog) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::is_regular_file(status))
    throw InputError(path.string() + ": not a regular file (a claims file or a folder of *.toml files is expected)");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError("cannot read claims file " + path.string() + ": " + ec.message());
  if (size > kMaxClaimsFileBytes)
    throw InputError(path.string() + ": " + std::to_string(size) + " bytes; claims files are limited to " +
                     std::to_string(kMaxClaimsFileBytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read claims file " + path.string());
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return parse_claims(bytes, path.string(), catalog);
}

}  // namespace

std::vector<Claim> load_claims(const std::filesystem::path& path, const StudyCatalog& catalog) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError("--claims " + path.string() + ": no such file or folder");
  if (!std::filesystem::is_directory(path, ec)) return load_file(path, catalog);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec))
    if (is_toml_name(e.path())) files.push_back(e.path());
  if (ec) throw InputError("cannot list " + path.string() + ": " + ec.message());
  if (files.empty()) throw InputError("--claims " + path.string() + ": the folder holds no *.toml claims file");
  std::sort(files.begin(), files.end());
  std::vector<Claim> out;
  for (const auto& f : files) {
    auto c = load_file(f, catalog);
    out.insert(out.end(), std::make_move_iterator(c.begin()), std::make_move_iterator(c.end()));
  }
  return out;
}

void check_unique_ids(const std::vector<Claim>& claims) {
  std::map<std::string, const Claim*> seen;
  for (const auto& c : claims) {
    const auto [it, fresh] = seen.emplace(c.id, &c);
    if (!fresh && it->second->place.str() == c.place.str())
      throw InputError("--claims: " + c.place.file + " is read twice (given twice, or as a file and in its folder); "
                       "give it once");
    if (!fresh)
      throw InputError(c.place.str() + ": duplicate claim id '" + c.id + "' (also at " + it->second->place.str() + ")");
  }
}

}  // namespace attnrate
