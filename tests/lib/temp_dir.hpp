#pragma once
// A fresh directory under the system temp dir for one test, removed with everything in it at
// scope exit. The name carries the tag, the pid and a per-process counter, so parallel test
// processes and several TempDirs in one test never share a directory.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace attnrate::test {

struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("attnrate_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Writes `content` byte for byte to dir/name and returns the path.
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    const std::filesystem::path p = dir / name;
    std::ofstream out(p, std::ios::binary);
    out << content;
    return p;
  }
};

}  // namespace attnrate::test
