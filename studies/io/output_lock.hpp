#pragma once
// One process per output folder: `study` and `verify` hold an OutputLock on their --out while
// they run, so a second run writing the same folder stops at once with a clear message instead
// of interleaving checkpoints and reports. The lock is an flock(2) on DIR/.attnrate.lock: the
// destructor releases it, and the kernel releases it when the process ends in any way (also
// SIGKILL), so a stale lock never blocks a later run. The file stays, except that a folder the
// lock created and nothing else was written to is removed again (a run refused before it started,
// e.g. for a bad claims file, leaves nothing behind); a process that locked a lock file removed
// meanwhile notices (the name no longer leads to its file) and locks the new one.
#include <filesystem>
#include <string>

namespace attnrate {

class OutputLock {
 public:
  /// Creates `dir` if needed and locks it. Throws InputError when `dir` exists and is not a folder,
  /// cannot be created, or another process holds the lock (naming its pid and `option`).
  /// Releases the lock on destruction, removing `dir` if it created it and it holds only the lock.
  explicit OutputLock(const std::filesystem::path& dir, const std::string& option = "--out");
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  /// The lock file's name inside the folder.
  static constexpr const char* kFileName = ".attnrate.lock";

 private:
  std::filesystem::path dir_;
  bool created_ = false;
  int fd_ = -1;
};

}  // namespace attnrate
