#pragma once
// Buffered text output into an AtomicFile (studies/io/output.hpp), for tables too large to build
// in memory: numbers are formatted with std::to_chars (the shortest text that reads back to the
// same double, at most 17 significant digits) into a block that is written out every 1 MiB;
// commit() renames the finished file over its target. Without commit() nothing replaces the
// target (the temp file is removed).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "studies/io/output.hpp"

namespace attnrate {

class BlockWriter {
 public:
  explicit BlockWriter(const std::filesystem::path& path);
  void put(double v);
  void put(std::uint64_t v);
  void put(char c) { buf_.push_back(c); }
  void put(std::string_view s) { buf_.append(s); }
  /// Ends a line (and writes the block out once it holds 1 MiB).
  void end_line();
  void commit();

 private:
  void flush();
  AtomicFile file_;
  std::string buf_;
};

}  // namespace attnrate
