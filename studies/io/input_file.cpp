#include "studies/io/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "estimators/common/input_error.hpp"
#include "studies/io/byte_size.hpp"

namespace attnrate {
namespace {

std::filesystem::file_type type_of(mode_t mode) {
  using T = std::filesystem::file_type;
  return S_ISREG(mode) ? T::regular : S_ISDIR(mode) ? T::directory : S_ISCHR(mode) ? T::character
       : S_ISBLK(mode) ? T::block : S_ISFIFO(mode) ? T::fifo : S_ISSOCK(mode) ? T::socket : T::unknown;
}

[[noreturn]] void refuse_size(const std::filesystem::path& path, const ReadLimits& limits) {
  throw InputError(path.string() + ": larger than " + format_bytes(static_cast<double>(limits.max_bytes)) +
                   ", the limit for this file; raise it with --max-input-size if the file is right");
}

}  // namespace

std::string file_type_name(std::filesystem::file_type type) {
  using T = std::filesystem::file_type;
  switch (type) {
    case T::regular: return "a regular file";
    case T::directory: return "a directory";
    case T::symlink: return "a symbolic link";
    case T::character: return "a character device";
    case T::block: return "a block device";
    case T::fifo: return "a FIFO (named pipe)";
    case T::socket: return "a socket";
    default: return "not a regular file";
  }
}

void refuse_long_line(const std::filesystem::path& path, std::size_t line, const ReadLimits& limits) {
  throw InputError(path.string() + ":" + std::to_string(line) + ": line longer than " +
                   format_bytes(static_cast<double>(limits.max_line_bytes)) +
                   ", the limit for this file; raise it with --max-line-length if the file is right");
}

InputFile::InputFile(const std::filesystem::path& path, const ReadLimits& limits) : path_(path), limits_(limits) {
  // stat before open: opening a device can have effects of its own (and a FIFO opened without a
  // writer would block); fstat after open rules out a swap in between.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path.string() + ": cannot open the file for reading (does it exist and is it readable?)");
  const auto check_type = [&](const struct stat& s) {
    if (!S_ISREG(s.st_mode) && !S_ISFIFO(s.st_mode))
      throw InputError(path.string() + ": " + file_type_name(type_of(s.st_mode)) +
                       ", not a file to read; give a regular file (or a pipe)");
    if (S_ISREG(s.st_mode) && static_cast<std::uint64_t>(s.st_size) > limits_.max_bytes) refuse_size(path_, limits_);
  };
  check_type(st);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw InputError(path.string() + ": cannot open the file for reading (" + std::strerror(errno) + ")");
  try {
    if (::fstat(fd_, &st) != 0) throw InputError(path.string() + ": cannot open the file for reading");
    check_type(st);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t InputFile::read(char* buf, std::size_t n) {
  for (;;) {
    const ssize_t got = ::read(fd_, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw std::runtime_error(path_.string() + ": read error (" + std::strerror(errno) + ")");
    done_ += static_cast<std::uint64_t>(got);
    if (done_ > limits_.max_bytes) refuse_size(path_, limits_);
    return static_cast<std::size_t>(got);
  }
}

std::string read_text_file(const std::filesystem::path& path, const ReadLimits& limits) {
  InputFile in(path, limits);
  std::string bytes;
  char buf[1 << 16];
  while (const std::size_t n = in.read(buf, sizeof buf)) bytes.append(buf, n);
  std::size_t line = 1, start = 0;
  for (std::size_t nl = bytes.find('\n'); start <= bytes.size(); nl = bytes.find('\n', start), ++line) {
    const std::size_t end = nl == std::string::npos ? bytes.size() : nl;
    if (end - start > limits.max_line_bytes) refuse_long_line(path, line, limits);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return bytes;
}

}  // namespace attnrate
