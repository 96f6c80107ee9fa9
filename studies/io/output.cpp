#include "studies/io/output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <armadillo>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <boost/version.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "studies/io/input_file.hpp"

#include "git_revision.hpp"  // generated at build time: ATTNRATE_GIT_REVISION
#ifndef ATTNRATE_VERSION
#define ATTNRATE_VERSION "0"
#endif

extern "C" char* openblas_get_config();

namespace attnrate {

namespace {

std::atomic<unsigned> temp_counter{0};

// The temporary files of the live AtomicFiles, for remove_unfinished_outputs (a signal handler can
// neither allocate nor lock): fixed slots, claimed and released with lock-free atomics. A file
// whose path does not fit, or beyond the slots, is simply not registered.
constexpr int kTempSlots = 64;
constexpr std::size_t kTempPathBytes = 4096;
struct TempSlot {
  std::atomic<bool> claimed{false};
  std::atomic<bool> live{false};
  char path[kTempPathBytes];
};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler reads the slots");
TempSlot temp_slots[kTempSlots];

int register_temp(const std::string& path) noexcept {
  if (path.size() >= kTempPathBytes) return -1;
  for (int i = 0; i < kTempSlots; ++i) {
    bool expected = false;
    if (!temp_slots[i].claimed.compare_exchange_strong(expected, true)) continue;
    std::memcpy(temp_slots[i].path, path.c_str(), path.size() + 1);
    temp_slots[i].live.store(true);
    return i;
  }
  return -1;
}

void unregister_temp(int slot) noexcept {
  if (slot < 0) return;
  temp_slots[slot].live.store(false);
  temp_slots[slot].claimed.store(false);
}

}  // namespace

std::filesystem::path output_target(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return path;
  if (ec) throw InputError(path.string() + ": cannot inspect the output path (" + ec.message() + ")");
  if (status.type() == std::filesystem::file_type::regular) return path;
  if (status.type() == std::filesystem::file_type::symlink) {
    const auto real = std::filesystem::canonical(path, ec);
    if (ec || std::filesystem::status(real, ec).type() != std::filesystem::file_type::regular)
      throw InputError(path.string() + ": a symbolic link that does not lead to a regular file; attnrate replaces only "
                                       "regular files, give another output name");
    return real;
  }
  throw InputError(path.string() + ": " + file_type_name(status.type()) +
                   "; attnrate writes only regular files, give the name of a file to write");
}

AtomicFile::AtomicFile(const std::filesystem::path& path) : target_(output_target(path)) {
  if (target_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(target_.parent_path(), ec);
    if (ec)
      throw InputError(target_.parent_path().string() + ": cannot create the folder for " +
                       target_.filename().string() + " (" + ec.message() + ")");
  }
  const std::filesystem::path tmp =
      target_.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temp_counter++);
  slot_ = register_temp(tmp.string());  // before the file exists: a signal never misses it
  fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    unregister_temp(slot_);
    slot_ = -1;
    fail("cannot create a file beside", errno);
  }
  tmp_ = tmp;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  unregister_temp(slot_);
}

void remove_unfinished_outputs() noexcept {
  for (auto& s : temp_slots)
    if (s.live.load()) ::unlink(s.path);
}

void AtomicFile::fail(const std::string& what, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_.clear();
  if (error == ENOSPC || error == EDQUOT) throw std::runtime_error("disk full: " + target_.string());
  throw std::runtime_error(what + " " + target_.string() + " (" + std::strerror(error) + ")");
}

void AtomicFile::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write", n < 0 ? errno : ENOSPC);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("cannot write", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot write", errno);
  // The target may have changed since the constructor looked: never rename over a non-file.
  try {
    (void)output_target(target_);
  } catch (...) {
    ::unlink(tmp_.c_str());
    tmp_.clear();
    throw;
  }
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail("cannot replace", errno);
  tmp_.clear();
  // Make the rename itself durable (best effort: some file systems refuse fsync on folders).
  const std::filesystem::path dir = target_.has_parent_path() ? target_.parent_path() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  AtomicFile file(path);
  file.write(content);
  file.commit();
}

std::filesystem::path sidecar_path(const std::filesystem::path& out, const std::string& suffix) {
  return out.parent_path() / (out.stem().string() + suffix);
}

void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  for (const NamedPath& out : outputs) {
    const std::filesystem::path target = output_target(out.path);
    std::error_code ec;
    if (!std::filesystem::exists(target, ec)) continue;
    for (const NamedPath& in : inputs)
      if (std::filesystem::equivalent(target, in.path, ec))
        throw InputError(out.option + " " + out.path.string() + " is the same file as " + in.option + " " +
                         in.path.string() + ": the run would overwrite its own input; choose another output name");
  }
}

std::string format_double(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_finite(double v) { return std::isfinite(v) ? format_double(v) : std::string(); }

std::string CsvTable::str() const {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      const bool quote = cells[i].find_first_of(",\"\n") != std::string::npos;
      if (!quote) {
        out += cells[i];
        continue;
      }
      out += '"';
      for (char c : cells[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += '\n';
  };
  line(columns);
  for (const auto& r : rows) line(r);
  return out;
}

nlohmann::json build_info() {
  nlohmann::json j;
  j["attnrate_version"] = ATTNRATE_VERSION;
  j["git_revision"] = ATTNRATE_GIT_REVISION;
  j["compiler"] = std::string("g++ ") + __VERSION__;
  j["armadillo"] = arma::arma_version::as_string();
  j["boost"] = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
               std::to_string(BOOST_VERSION % 100);
  j["openblas"] = openblas_get_config();
  return j;
}

}  // namespace attnrate
