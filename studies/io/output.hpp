#pragma once
// Writing study outputs: atomic files, CSV tables, number formatting, build information.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "estimators/common/input_error.hpp"

namespace attnrate {

/// Where a write to `path` lands: `path` itself when nothing is there or a regular file is; the
/// regular file a symlink resolves to (the link stays). Throws InputError for a directory, a
/// device, a FIFO, a socket or a symlink that does not end at a regular file: writers never
/// replace anything but regular files.
std::filesystem::path output_target(const std::filesystem::path& path);

/// A file written under a temporary name beside its target (`<target>.tmp.<pid>.<n>`) and renamed
/// over the target by commit() after fsync, so a reader (or a resumed run) never sees a
/// half-written file and a failed run leaves the old file as it was. The temporary file is removed
/// on every failure path (and by the destructor when commit() was not reached). A full disk
/// (ENOSPC, EDQUOT) throws std::runtime_error "disk full: <target>"; other I/O errors
/// std::runtime_error naming the file; a bad target InputError (output_target).
class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  /// fsync, close, rename over the target, fsync the folder.
  void commit();
  const std::filesystem::path& target() const noexcept { return target_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  std::filesystem::path target_, tmp_;
  int fd_ = -1;
  int slot_ = -1;  // its entry for remove_unfinished_outputs
};

/// Removes the temporary file of every AtomicFile not yet committed or destroyed. Async-signal-safe
/// (lock-free atomics and unlink): the interrupt handler calls it before it exits at once.
void remove_unfinished_outputs() noexcept;

/// AtomicFile with one write.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// A file written beside `out` whose name derives from out's: sidecar_path("run/data.csv",
/// ".A.csv") is "run/data.A.csv".
std::filesystem::path sidecar_path(const std::filesystem::path& out, const std::string& suffix);

/// A file named by an option, for the checks below: {"--out", path}.
struct NamedPath {
  std::string option;
  std::filesystem::path path;
};

/// Before any work: every output must be a writable target (output_target) and none may be the
/// same file as an input of the run (after symlinks and hard links), e.g. --out equal to --data.
/// Throws InputError naming both options.
void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

/// Shortest decimal that round-trips to the same double ("nan"/"inf" never reach outputs:
/// callers mark such cells instead).
std::string format_double(double v);

/// format_double for finite values; an empty field for NaN or infinity (the cell's status
/// column says why), so no output file ever contains "nan" or "inf".
std::string format_finite(double v);

/// A CSV table with a header; cells are already formatted strings.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string str() const;
};

/// Git revision, attnrate version, compiler, Armadillo, Boost and OpenBLAS versions.
nlohmann::json build_info();

/// Reads field `key` of a checkpoint (cells/*.json) into `out`, type-checked, so that a corrupt
/// file is detected (InputError, then the cell is recomputed) instead of converted with undefined
/// behaviour (e.g. 1e300 into a size_t): integral T needs an integer in T's range; floating T a
/// number, or null for NaN (JSON has no NaN; nlohmann writes it as null); std::vector<U> an array
/// whose elements are read as U; other T via get<T>().
template <class T>
void read_checkpoint_field(const nlohmann::json& j, const char* key, T& out);

namespace detail {
template <class T>
struct is_vector : std::false_type {};
template <class U>
struct is_vector<std::vector<U>> : std::true_type {};

template <class T>
void read_checkpoint_value(const nlohmann::json& v, const char* key, T& out) {
  const auto bad = [key](const char* what) {
    throw InputError(std::string("checkpoint field '") + key + "' must be " + what);
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) bad("true or false");
    out = v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (!std::in_range<T>(u)) bad("an integer in range");
      out = static_cast<T>(u);
    } else if (v.is_number_integer()) {
      const auto i = v.get<std::int64_t>();
      if (!std::in_range<T>(i)) bad("an integer in range");
      out = static_cast<T>(i);
    } else {
      bad("an integer");
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v.is_null()) out = std::numeric_limits<T>::quiet_NaN();
    else if (v.is_number()) out = v.get<T>();
    else bad("a number");
  } else if constexpr (is_vector<T>::value) {
    if (!v.is_array()) bad("an array");
    out.assign(v.size(), typename T::value_type{});
    for (std::size_t i = 0; i < v.size(); ++i) read_checkpoint_value(v[i], key, out[i]);
  } else {
    out = v.get<T>();
  }
}
}  // namespace detail

template <class T>
void read_checkpoint_field(const nlohmann::json& j, const char* key, T& out) {
  detail::read_checkpoint_value(j.at(key), key, out);
}

}  // namespace attnrate
