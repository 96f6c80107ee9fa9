#pragma once
// What every study shares: where it writes, how many threads, resume, progress, and the
// interruption by SIGINT or SIGTERM.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "studies/sweep/distributed.hpp"
#include "studies/stats/rate_fit.hpp"

namespace attnrate {

/// One line per finished cell on stderr: a single updating line on a terminal, plain lines
/// every few seconds otherwise (CI logs).
class Progress {
 public:
  Progress(std::string label, std::size_t total, bool enabled);
  void done_one();
  void finish();

 private:
  std::string label_;
  std::size_t total_, done_ = 0;
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

struct StudyContext {
  /// Where the study writes summary.json, cells.csv and figures (created). Under `study` and
  /// `verify` this is the staging folder of an OutputSet (studies/io/output_set.hpp), moved into
  /// --out as one set when the run succeeds.
  std::filesystem::path out;
  int threads = 0;            ///< 0 = all cores
  bool resume = false;        ///< reuse finished cells whose fingerprint matches
  bool progress = true;       ///< progress lines on stderr
  /// false: no figures are drawn (gnuplot is not run) and summary.json names none.
  bool figures = true;
  /// The cells this process computes; under MPI only rank 0 writes the outputs and prints
  /// progress (over its own cells). {0, 1} when not run under mpirun.
  CellShare share = world_share();
  /// Folder of the per-cell checkpoints; empty: out / "cells". Kept outside the staging folder
  /// (in --out/cells) so that a failed run's finished cells remain for --resume.
  std::filesystem::path checkpoints = {};
  std::filesystem::path checkpoint_dir() const { return checkpoints.empty() ? out / "cells" : checkpoints; }
  /// Progress of this process's own cells of a sweep of `total` cells (shown on rank 0 only).
  Progress progress_of(const std::string& label, std::size_t total) const;
};

/// Raised between cells after SIGINT or SIGTERM: the finished cells are checkpointed, the run
/// can resume.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

/// Installs the SIGINT and SIGTERM handlers; what they do is the interrupt mode's.
void install_interrupt_handler();

/// What SIGINT and SIGTERM do.
enum class InterruptMode {
  /// Set a flag: the running cells finish and are written, then the sweep throws Interrupted (a
  /// study or verify, which can resume). The default.
  between_cells,
  /// Remove the temporary files of the outputs not yet written (remove_unfinished_outputs), say so
  /// and exit 128 + signal at once: commands with nothing to resume (simulate, fit, predict,
  /// score), whose one long computation would otherwise run to its end.
  at_once
};
void set_interrupt_mode(InterruptMode mode);

/// A scope whose SIGINT and SIGTERM wait for its end, in the at_once mode: the outputs it writes
/// form one set (fit.json and its phi table; data, A and truth), never half a set. A signal that
/// arrived exits at the end of the scope (128 + signal), the set complete; when the scope ends by
/// an exception, that exception goes on instead.
class InterruptsDeferred {
 public:
  InterruptsDeferred() noexcept;
  ~InterruptsDeferred();
  InterruptsDeferred(const InterruptsDeferred&) = delete;
  InterruptsDeferred& operator=(const InterruptsDeferred&) = delete;

 private:
  std::sig_atomic_t saved_mode_;
};
/// Throws Interrupted if SIGINT or SIGTERM arrived.
void throw_if_interrupted();
/// Whether SIGINT or SIGTERM arrived (for parallel loops, which must not throw out of a worker).
bool interrupt_requested() noexcept;
/// The signal that interrupted the run (SIGINT or SIGTERM); SIGINT when none did.
int interrupt_signal() noexcept;

/// Wall-clock seconds since t0.
double seconds_since(std::chrono::steady_clock::time_point t0);

}  // namespace attnrate
