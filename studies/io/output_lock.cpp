#include "studies/io/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "estimators/common/input_error.hpp"
#include "studies/io/input_file.hpp"

namespace attnrate {

OutputLock::OutputLock(const std::filesystem::path& dir, const std::string& option) : dir_(dir) {
  std::error_code ec;
  const auto type = std::filesystem::status(dir, ec).type();
  if (type != std::filesystem::file_type::not_found && type != std::filesystem::file_type::directory)
    throw InputError(option + " " + dir.string() + " is " + file_type_name(type) +
                     "; it must be a folder for the outputs (it is created if missing)");
  created_ = type == std::filesystem::file_type::not_found;
  const std::filesystem::path file = dir / kFileName;
  // A holder that created the folder removes it again when it wrote nothing (see the destructor):
  // a lock taken on a file unlinked meanwhile is retried on the new one.
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::filesystem::create_directories(dir, ec);
    if (ec) throw InputError(option + " " + dir.string() + ": cannot create the folder (" + ec.message() + ")");
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0)
      throw InputError(option + " " + dir.string() + ": cannot create the lock file " + kFileName + " (" +
                       std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
      ::close(fd_);
      fd_ = -1;
      if (error != EWOULDBLOCK)
        throw InputError(option + " " + dir.string() + ": cannot lock the folder (" + std::strerror(error) + ")");
      const std::string holder = n > 0 ? " (pid " + std::string(pid, static_cast<std::size_t>(n)) + ")" : "";
      throw InputError(option + " " + dir.string() + " is in use by another attnrate run" + holder +
                       "; wait for it to finish or choose another " + option);
    }
    struct stat held {}, named {};
    if (::fstat(fd_, &held) == 0 && ::stat(file.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      break;
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ < 0) throw InputError(option + " " + dir.string() + ": cannot lock the folder (it keeps being removed)");
  // The holder's pid, for the message above (a blank file when the write fails does no harm).
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  // A run refused before it wrote anything leaves no folder behind, as if it had never started.
  std::error_code ec;
  if (created_) {
    bool only_lock = true;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
      only_lock = only_lock && entry.path().filename() == kFileName;
    if (!ec && only_lock && ::unlink((dir_ / kFileName).c_str()) == 0) std::filesystem::remove(dir_, ec);
  }
  ::close(fd_);  // releases the lock
}

}  // namespace attnrate
