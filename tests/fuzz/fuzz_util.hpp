#pragma once
// Shared by the fuzz harnesses (tests/fuzz/fuzz_*.cpp): the readers under test take a path, so
// each input is written to a scratch file first. The scratch directory is unique per process
// (libFuzzer -jobs/-fork run several processes) and removed at normal exit.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace attnrate::fuzz {

/// Per-process scratch directory under $TMPDIR (std::filesystem::temp_directory_path()).
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      path = std::filesystem::temp_directory_path() / ("attnrate-fuzz-" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

/// Writes the raw input bytes to scratch_dir()/name (truncating; `name` may contain
/// subdirectories, which are created) and returns the path.
inline std::filesystem::path write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = scratch_dir() / name;
  if (path.parent_path() != scratch_dir()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write scratch file %s\n", path.c_str());
    std::abort();
  }
  return path;
}

/// A broken invariant of the code under test (not of the input): report and abort, so
/// libFuzzer (or the replay driver under ctest) records it as a crash with this input.
[[noreturn]] inline void finding(std::string_view what) {
  std::fprintf(stderr, "fuzz harness: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace attnrate::fuzz
