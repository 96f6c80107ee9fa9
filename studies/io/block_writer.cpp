#include "studies/io/block_writer.hpp"

#include <charconv>

namespace attnrate {
namespace {
constexpr std::size_t kBlockBytes = std::size_t{1} << 20;
}  // namespace

BlockWriter::BlockWriter(const std::filesystem::path& path) : file_(path) { buf_.reserve(kBlockBytes + 256); }

void BlockWriter::put(double v) {
  char tmp[64];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void BlockWriter::put(std::uint64_t v) {
  char tmp[32];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void BlockWriter::end_line() {
  buf_.push_back('\n');
  if (buf_.size() >= kBlockBytes) flush();
}

void BlockWriter::commit() {
  flush();
  file_.commit();
}

void BlockWriter::flush() {
  file_.write(buf_);
  buf_.clear();
}

}  // namespace attnrate
