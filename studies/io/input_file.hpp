#pragma once
// Bounded input files. Every file attnrate reads as a stream (data CSV, A.csv, study TOML files)
// goes through InputFile, so a hostile path cannot make a reader hang or exhaust memory:
// - only a regular file or a FIFO is read (also through symlinks); a directory, a device such as
//   /dev/zero, or a socket is refused before a byte is read;
// - a file larger than ReadLimits::max_bytes is refused before reading (regular files) or when
//   the limit is passed (FIFOs);
// - a line longer than ReadLimits::max_line_bytes is refused where it starts (the readers check).
// Every refusal is an InputError naming the file and the option that raises the limit.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace attnrate {

struct ReadLimits {
  std::uint64_t max_bytes = 0;       ///< largest file (or stream) read, in bytes
  std::uint64_t max_line_bytes = 0;  ///< longest line, in bytes (without the newline)
};

/// Defaults for data CSV files and A.csv (fit --max-input-size, --max-line-length).
inline constexpr ReadLimits kDataReadLimits{std::uint64_t{64} << 30, std::uint64_t{16} << 20};
/// Defaults for study TOML files (study --max-input-size, --max-line-length).
inline constexpr ReadLimits kConfigReadLimits{std::uint64_t{1} << 20, std::uint64_t{64} << 10};

/// "a directory", "a character device", "a FIFO", ... for messages.
std::string file_type_name(std::filesystem::file_type type);

/// "Line too long" refusal with the limit and the option that raises it; `line` is 1-based.
[[noreturn]] void refuse_long_line(const std::filesystem::path& path, std::size_t line, const ReadLimits& limits);

/// An input file opened for reading, within `limits` (see the file comment). Not copyable.
class InputFile {
 public:
  /// Throws InputError for a missing or unreadable path, a directory, a device, a socket, or a
  /// regular file larger than limits.max_bytes.
  InputFile(const std::filesystem::path& path, const ReadLimits& limits);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// Reads up to `n` bytes into `buf`; returns 0 at the end. Throws InputError when the file
  /// grows past limits.max_bytes, std::runtime_error on a read error.
  std::size_t read(char* buf, std::size_t n);

  const std::filesystem::path& path() const noexcept { return path_; }
  const ReadLimits& limits() const noexcept { return limits_; }

 private:
  std::filesystem::path path_;
  ReadLimits limits_;
  int fd_ = -1;
  std::uint64_t done_ = 0;
};

/// The whole file as bytes, through InputFile; refuses lines longer than limits.max_line_bytes.
std::string read_text_file(const std::filesystem::path& path, const ReadLimits& limits);

}  // namespace attnrate
