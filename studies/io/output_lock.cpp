#include "studies/io/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

#include "estimators/common/input_error.hpp"
#include "studies/io/input_file.hpp"

namespace attnrate {

OutputLock::OutputLock(const std::filesystem::path& dir, const std::string& option) {
  std::error_code ec;
  const auto type = std::filesystem::status(dir, ec).type();
  if (type != std::filesystem::file_type::not_found && type != std::filesystem::file_type::directory)
    throw InputError(option + " " + dir.string() + " is " + file_type_name(type) +
                     "; it must be a folder for the outputs (it is created if missing)");
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(option + " " + dir.string() + ": cannot create the folder (" + ec.message() + ")");
  const std::filesystem::path file = dir / kFileName;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0)
    throw InputError(option + " " + dir.string() + ": cannot create the lock file " + kFileName + " (" +
                     std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char pid[32] = {};
    const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
    ::close(fd_);
    if (error != EWOULDBLOCK)
      throw InputError(option + " " + dir.string() + ": cannot lock the folder (" + std::strerror(error) + ")");
    const std::string holder = n > 0 ? " (pid " + std::string(pid, static_cast<std::size_t>(n)) + ")" : "";
    throw InputError(option + " " + dir.string() + " is in use by another attnrate run" + holder +
                     "; wait for it to finish or choose another " + option);
  }
  // The holder's pid, for the message above (a blank file when the write fails does no harm).
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  (void)::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace attnrate
