#pragma once
// The outputs of one `study` or `verify` run (summary.json, cells.csv, figures, reports) as one
// set: either the complete new set ends up in --out, or the previous set stays as it was. A run
// writes its outputs into a hidden staging folder inside --out (same file system, so moving them
// is a rename); commit() moves them into place at the end of a successful run, and every failure
// path (exception, interruption, a plot that fails) discards the staging folder instead.
// Checkpoints (cells/) are not part of the set: they are written in place, so --resume keeps
// working after a failed run.
//
// Commit, in order:
//   1. the new set's file list is written into the staging folder (DIR/.attnrate-staging/.attnrate-outputs);
//   2. every place a file goes is checked (missing, a regular file or a symbolic link, which is
//      replaced, never written through; anything else is refused before a file is moved);
//   3. the staging folder is renamed to DIR/.attnrate-commit: the commit point;
//   4. each file is renamed into place, the files of the previous set (DIR/.attnrate-outputs)
//      that the new set lacks are removed, the list becomes DIR/.attnrate-outputs and the
//      commit folder goes.
// A run that dies (SIGKILL, power loss) before step 3 leaves a staging folder, which the next run
// on DIR removes; after step 3 a commit folder, whose moves the next run completes. So DIR holds
// one set or the other, never a mix, from the next run's point of view. Only files listed in a
// set's file list are ever removed, and only inside DIR (entries that are absolute, contain "..",
// a hidden component or a cells/ component, or lead through a symbolic link are ignored).
#include <filesystem>
#include <string>
#include <vector>

namespace attnrate {

class OutputSet {
 public:
  /// `dir` is --out, already created and locked by the caller (OutputLock). Completes or discards
  /// what an earlier run that died left behind (recover_output_set), then creates an empty staging
  /// folder. With `active` false (MPI ranks other than 0, which write no outputs) it only names the
  /// staging folder and touches nothing. Throws std::runtime_error when the folder cannot be made.
  explicit OutputSet(std::filesystem::path dir, bool active = true);
  /// Discards the staging folder unless commit() succeeded.
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  /// Where the run writes its outputs (the files' names relative to it are their names in dir()).
  const std::filesystem::path& staging() const noexcept { return staging_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  /// Moves the staged files into dir() as one set (see the file comment). Throws InputError when a
  /// file would replace a folder, device, FIFO or socket (nothing is moved then),
  /// std::runtime_error on an I/O error. Does nothing when not active.
  void commit();

  static constexpr const char* kStagingName = ".attnrate-staging";
  static constexpr const char* kCommitName = ".attnrate-commit";
  static constexpr const char* kManifestName = ".attnrate-outputs";

 private:
  std::filesystem::path dir_, staging_;
  bool active_ = true, committed_ = false;
};

/// What wrote the output set now in `dir`, read from its summary.json: "study NAME", "verify" or
/// "rate"; empty when there is none or it cannot be read. A hint only: never throws.
std::string previous_output_set(const std::filesystem::path& dir);

/// The warning (without the "attnrate: warning: " prefix) that a run of `command` ("study NAME",
/// "verify" or "rate") replaces the output set another command left in `dir`:
///   --out DIR holds the outputs of OTHER; WHOSE replace them (their checkpoints in cells/ stay, never reused)
/// `whose` names the new outputs ("this study's", "verify's"). Empty when `dir` holds no set, or
/// one of `command`'s own. Never throws.
std::string replaced_outputs_warning(const std::filesystem::path& dir, const std::string& command,
                                     const std::string& whose);

/// Whether `file` is one of the files of the output set now in `dir` (its file list), which the
/// next set committed to `dir` replaces or removes. For refusing a run whose input that would
/// delete (never throws; false when there is no set).
bool in_output_set(const std::filesystem::path& dir, const std::filesystem::path& file);

/// What a run that died on `dir` left: a staging folder is removed (its set never committed), a
/// commit folder's moves are completed. Called by OutputSet's constructor, under the lock.
void recover_output_set(const std::filesystem::path& dir);

/// The entries of a set's file list (one relative path per line), without the unsafe ones the file
/// comment names. Exposed for tests and the fuzz harness; never throws on bad content.
std::vector<std::string> parse_output_manifest(const std::string& text);

}  // namespace attnrate
