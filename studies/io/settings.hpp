#pragma once
// Study and command parameters as named settings: every key has a default, may be set in a TOML
// file (same key without dashes) and on the command line (--key); the command line wins over
// the file, the file over the default. Typed getters validate and name the source in their
// messages ("--sigma must be >= 0, got -1" or "study.toml: sigma must be >= 0, got -1").
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "studies/io/input_file.hpp"

namespace CLI {
class App;
}

namespace attnrate {

/// One option: its name (the TOML key; `--key` on the command line), default, help text and the
/// type of its value as --help shows it. `type` empty: value_type(spec) infers it from the
/// default; set it where the default does not show the type (a FLOAT whose default is 1, an
/// `auto` default, a path).
struct KeySpec {
  std::string key;
  std::string default_value;
  std::string help;
  std::string type = {};
};

/// The type name --help shows for `spec`: `spec.type` when set, else from the default value:
/// INT (an integer), FLOAT (a decimal), LIST (a comma list or a grid FIRST:LAST:xFACTOR), NAME
/// (a word, optionally with `:parameter`, e.g. weierstrass:1) or TEXT. Names used across the
/// program: INT, FLOAT, LIST, NAME, SIZE (a byte size with K, M, G, T), PATH, and `X|auto` or
/// `X|none` for a value with a keyword.
std::string value_type(const KeySpec& spec);

/// The number a whole option value spells, as every typed getter reads it: decimal or exponent
/// notation (std::from_chars), blanks around allowed, nothing else. False if `text` is anything
/// more or less (e.g. "10," or "1e-7x").
bool parse_double(const std::string& text, double& out);

class Settings {
 public:
  explicit Settings(std::vector<KeySpec> keys);

  const std::vector<KeySpec>& keys() const noexcept { return keys_; }
  bool has_key(const std::string& key) const;

  /// Sets a value, recording where it came from (for messages). Unknown keys throw InputError
  /// with the closest valid key ("did you mean ...").
  void set(const std::string& key, std::string value, std::string source);
  /// Reads a TOML file: top-level key = value pairs (numbers, strings, booleans, arrays of
  /// numbers which become comma lists). Unknown keys and malformed files throw InputError, as do
  /// paths that are not a regular file or FIFO and files beyond `limits` (input_file.hpp).
  void load_toml(const std::filesystem::path& path, const ReadLimits& limits = kConfigReadLimits);
  /// Registers --key string options on `app` (with defaults in the help text).
  void add_to_cli(CLI::App& app);
  /// After CLI parsing: applies the options that were given on the command line.
  void apply_cli();

  const std::string& raw(const std::string& key) const;
  /// "--key" or "<file>: key".
  const std::string& source(const std::string& key) const;
  /// source() without " (default)": how messages name the option ("--d", "<file>: d", or the
  /// caller's name for it).
  std::string label(const std::string& key) const;
  bool given(const std::string& key) const;  ///< set by file or CLI (not the default)

  std::string get_string(const std::string& key) const { return raw(key); }
  /// parse(raw(key)) for a value a library parser reads (a name, a law, a target), through
  /// with_source: "--inputs: unknown input law 'x'; valid: sphere, gaussian",
  /// "claims.toml:12: tokens: unknown token law 'x'; ...".
  template <class Parse>
  auto get_parsed(const std::string& key, Parse&& parse) const -> decltype(parse(std::string())) {
    return with_source(key, [&] { return parse(raw(key)); });
  }
  /// read() for a value of option `key` (or an entry of its list): an InputError it throws is
  /// raised again with the option's source in front, unless the message names the option as
  /// given already.
  template <class Read>
  auto with_source(const std::string& key, Read&& read) const -> decltype(read()) {
    try {
      return read();
    } catch (const InputError& e) {
      const std::string where = label(key);
      if (std::string_view(e.what()).find(where) != std::string_view::npos) throw;
      throw InputError(source(key) + ": " + e.what());
    }
  }
  /// An integer in [min, max]; values outside (also beyond 64 bits) are refused, never truncated.
  long long get_int(const std::string& key, long long min, long long max) const;
  /// get_int for an int target (counts such as N, d, knots, heads): [min, max] within int.
  int get_count(const std::string& key, int min, int max) const;
  /// get_int for 64-bit unsigned sizes (sample counts): [min, max].
  std::uint64_t get_size(const std::string& key, std::uint64_t min, std::uint64_t max) const;
  /// A byte size such as 512M or 8G (byte_size.hpp).
  std::uint64_t get_bytes(const std::string& key) const;
  double get_double(const std::string& key, double min, double max, bool min_inclusive = true) const;
  std::uint64_t get_seed(const std::string& key) const;
  /// "500,1000,4000" or a log grid "500:64000:x2" (first, last, factor > 1; last included when
  /// hit exactly up to rounding). Every entry must be in [min, max]; the default max 2^53 keeps
  /// grid points exact in double (pass INT_MAX for entries used as int).
  std::vector<std::size_t> get_sizes(const std::string& key, std::size_t min,
                                     std::size_t max = std::size_t{1} << 53) const;
  /// Entries of a comma-separated value, blanks around each removed; an empty or blank value has
  /// none (callers that need one say so). InputError naming the option on an empty entry
  /// ("a,,b", "a," or ",a"): a stray comma is more likely a typo than a wish.
  std::vector<std::string> get_list(const std::string& key) const;
  /// "a,b" with a < b, or "auto" (returns false).
  bool get_range(const std::string& key, double& a, double& b) const;

  /// All values (for summary.json "parameters").
  std::vector<std::pair<std::string, std::string>> all() const;

 private:
  struct Value {
    std::string value, source;
    bool given = false;
  };
  std::vector<KeySpec> keys_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::string> cli_sink_;
  std::map<std::string, CLI::App*> cli_app_;
};

}  // namespace attnrate
