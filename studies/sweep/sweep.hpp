#pragma once
// The one sweep engine of attnrate: runs the cells of a study (its parameter points times
// repetitions, in a fixed order) with per-cell seeds, a thread pool, atomic checkpoints,
// --resume, SIGINT/SIGTERM, MPI distribution and a progress line. Every study runs its cells
// through run_sweep; a study is its options, a cell function and a summary function.
//
// Reproducibility: a cell's result may depend only on the study's settings and the cell's
// index (every random stream is derive_seed(study seed, cell coordinates)), never on the
// thread count, the rank that computed it, or whether it came from a checkpoint.
//
// Checkpoints. Cell i is written to <out>/cells/<names[i]>.json as
//   {"study": S, "cell": names[i], "fingerprint": F, "value": V, "checksum": C,
//    "parameters": P, "revision": R}
// with F the run's fingerprint (parameters and code revision, run_fingerprint), C the FNV-1a
// hash of V's compact JSON text, and P and R what F was computed from (only to say what changed).
// With --resume a checkpoint is reused only when it is a regular file of at most
// kMaxCheckpointBytes whose study, cell name, fingerprint and checksum all match and whose value
// passes the study's `validate`; anything else is reported on stderr (one line per reason, with
// the options that changed) and recomputed, and the run says how many cells it reused.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "studies/sweep/study.hpp"

namespace attnrate {

/// Largest checkpoint file read back on --resume.
inline constexpr std::uintmax_t kMaxCheckpointBytes = 64u << 20;

enum class CellParallelism {
  across_cells,  ///< cells run concurrently, one thread each (schedule dynamic)
  within_cells   ///< cells run one after another, each given every thread
};

struct SweepSpec {
  std::string study;               ///< the study's name, recorded in each checkpoint
  std::string label;               ///< shown on the progress line
  std::string fingerprint;         ///< run_fingerprint(parameters)
  nlohmann::json parameters;       ///< the parameters the fingerprint covers (fingerprint_parameters)
  std::string revision;            ///< the code revision the fingerprint covers
  std::vector<std::string> names;  ///< checkpoint file stem of each cell, unique, in sweep order
  CellParallelism parallelism = CellParallelism::across_cells;
};

/// A sweep of `study` whose checkpoints carry run_fingerprint(parameters), shown as `label` on
/// the progress line (empty: the study's name); names and parallelism are left to the caller.
SweepSpec sweep_spec(const std::string& study, const nlohmann::json& parameters, const std::string& label = {});

/// The cells of a sweep over `values` with `seeds` repetitions of each, value-major: returns the
/// (value, rep) pairs and appends their checkpoint names <stem(value)>-rep<rep> to sweep.names.
template <class T, class Stem>
std::vector<std::pair<T, int>> add_repeated_cells(SweepSpec& sweep, const std::vector<T>& values, int seeds,
                                                  const Stem& stem) {
  std::vector<std::pair<T, int>> cells;
  for (const T& v : values) {
    const std::string s = stem(v);
    for (int rep = 0; rep < seeds; ++rep) {
      cells.emplace_back(v, rep);
      std::string name = s;
      name.append("-rep").append(std::to_string(rep));
      sweep.names.push_back(std::move(name));
    }
  }
  return cells;
}

/// Computes cell i with `threads` threads and returns its result.
using CellFunction = std::function<nlohmann::json(std::size_t cell, int threads)>;
/// Throws (any std::exception) when a checkpointed value is not a valid result of this study.
using CellValidator = std::function<void(const nlohmann::json& value)>;

/// Runs (or reuses) every cell and returns all results in cell order, on every MPI rank.
/// Throws the first exception a cell threw (after the running cells finish), Interrupted after
/// SIGINT or SIGTERM (finished cells are checkpointed), InputError when names are not unique.
std::vector<nlohmann::json> run_sweep(const StudyContext& ctx, const SweepSpec& spec, const CellFunction& run,
                                      const CellValidator& validate = {});

/// The value of the checkpoint at `path` if it proves to hold cell `name` of the run `spec` (the
/// rules above: a regular file of at most kMaxCheckpointBytes, study, cell name, fingerprint and
/// checksum matching, value accepted by `validate` when set); nullopt otherwise, with the reason
/// (e.g. "was written with other parameters (--sigma 1, now 1.5)") in *problem, or on stderr
/// when problem is null; no reason when the file does not exist. Never throws for any file
/// content.
std::optional<nlohmann::json> read_checkpoint(const std::filesystem::path& path, const SweepSpec& spec,
                                              const std::string& name, const CellValidator& validate,
                                              std::string* problem = nullptr);

/// The parameters a run's fingerprint covers: all but those that change no cell (--max-memory
/// limits the run, coercivity's --mark is a line on its figure, --bootstrap sets the resamples of
/// the summary's intervals, --seeds only how many repetitions there are: a repetition's cell is
/// named and seeded by its index, never by the count), so resuming with other values of those
/// reuses the cells the runs share.
nlohmann::json fingerprint_parameters(const nlohmann::json& parameters);

/// Fingerprint of a run for checkpoint reuse: hash of fingerprint_parameters and the code revision.
std::string run_fingerprint(const nlohmann::json& parameters);

/// The checksum stored in checkpoints: 64-bit FNV-1a of value.dump(), as 16 hex digits.
std::string checkpoint_checksum(const nlohmann::json& value);

/// Largest thread count a user may ask for (--threads, the Python estimators' threads=).
inline constexpr int kMaxThreads = 4096;

/// Threads to use for ctx.threads (0 = omp_get_max_threads()).
int study_threads(const StudyContext& ctx);

/// across_cells when study_threads(ctx) cells of `cell_bytes` each fit in a quarter of the
/// machine's physical memory, else within_cells (also when the memory size is unknown). For
/// cells whose results do not depend on their thread count, only the speed and the peak memory
/// differ: concurrent cells save the fork/join of each cell's parallel loops, one cell at a time
/// holds one cell's data.
CellParallelism parallelism_within_memory(const StudyContext& ctx, double cell_bytes);

/// While run_sweep runs cells in parallel in this process: its threads minus the cells being
/// computed right now (>= 0); 0 outside such a sweep. A cell may use that many more threads for
/// work whose result does not depend on the thread count (the last cells of a sweep then use the
/// cores the finished ones left idle). A hint, read without locking: it may be stale by a cell.
int idle_sweep_threads() noexcept;

}  // namespace attnrate
