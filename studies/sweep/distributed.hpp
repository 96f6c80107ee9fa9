#pragma once
// Scale-out of study cells over MPI ranks. Every cell is seeded by itself
// (derive_seed of the study seed and the cell's coordinates), so which process computes a cell
// does not change its result. Rank r computes the cells whose index i (the cell's position in
// the sweep's fixed order) has i % size == r, then all ranks exchange their cells (serialised as
// CBOR: doubles, NaN and infinities arrive bit for bit), so every rank holds every cell and
// computes the same summary and exit code; only rank 0 writes the study's outputs and prints.
//
// Without MPI (not compiled in: no ATTNRATE_WITH_MPI; or the program was not started by an MPI
// launcher) the share is {0, 1}: every cell is owned and the exchange returns its input.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

namespace attnrate {

/// Which cells of a sweep this process computes: index % size == rank.
struct CellShare {
  int rank = 0, size = 1;
  bool owns(std::size_t cell) const noexcept { return cell % static_cast<std::size_t>(size) == static_cast<std::size_t>(rank); }
  /// Rank 0 writes the outputs and prints.
  bool root() const noexcept { return rank == 0; }
  /// Number of cells among 0..total-1 that this rank owns.
  std::size_t owned_count(std::size_t total) const noexcept {
    const auto s = static_cast<std::size_t>(size), r = static_cast<std::size_t>(rank);
    return total / s + (r < total % s ? 1 : 0);
  }
};

/// The share of this process in MPI_COMM_WORLD, or {0, 1} when MPI is not running.
CellShare world_share();

/// Every cell on every rank: `local[i]` holds cell i's result exactly for the cells this rank
/// owns (and has computed), nullopt elsewhere; `failure` is the exception this rank caught while
/// computing its cells (null if none). The ranks first agree on success: if any rank failed,
/// every rank throws — its own exception, else (the first failing rank's) InputError, a
/// std::runtime_error naming the rank and its message, or Interrupted — so all ranks leave the
/// sweep together and nobody waits for cells that will never come. With share.size == 1 this
/// rethrows `failure` or returns the values. Throws std::logic_error if an owned cell is missing
/// without a failure.
std::vector<nlohmann::json> gather_cells(const CellShare& share, std::vector<std::optional<nlohmann::json>> local,
                                         std::exception_ptr failure = nullptr);

/// The exchange format of gather_cells (exposed for tests). A rank's pack: for each owned cell
/// in index order, the index and the byte length (8 bytes each, little endian) and the cell as
/// CBOR (doubles exact, NaN and infinities kept, unlike JSON text). Throws std::logic_error if
/// an owned cell has no value.
std::vector<std::uint8_t> pack_cells(const CellShare& share, const std::vector<std::optional<nlohmann::json>>& local);
/// The `cells` cells from the packs of ranks 0..P-1 laid end to end (P = pack_sizes.size(),
/// pack r is pack_sizes[r] bytes). Throws std::runtime_error on a malformed pack, a cell sent by
/// a rank that does not own it, a duplicate or a missing cell.
std::vector<nlohmann::json> unpack_cells(std::size_t cells, const std::vector<std::uint8_t>& packs,
                                         const std::vector<std::size_t>& pack_sizes);

/// Waits until every rank reaches this point (no-op without MPI). Used before rank 0 reads files
/// that other ranks may still be writing.
void barrier(const CellShare& share);

/// MPI for one run of the program (RAII, in main). When started by an MPI launcher (mpirun,
/// mpiexec, srun with PMI/PMIx) and compiled with MPI, initialises MPI (MPI_THREAD_FUNNELED:
/// only the main thread calls MPI, OpenMP workers never do); otherwise does nothing. On ranks
/// other than 0, standard output is discarded and standard error is held back, so messages
/// and results are printed once (by rank 0).
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// Ends MPI and returns the exit status of this process. The ranks exchange their exit codes:
  /// when they all match (bad input on every rank, the same verdicts everywhere) ranks != 0
  /// return 0, so mpirun's exit status is rank 0's and mpirun does not kill rank 0 early, and
  /// their held-back standard error is dropped (rank 0 said the same), except on success (then
  /// it holds only warnings about that rank's own checkpoints, printed prefixed by the rank);
  /// when the codes differ every rank returns its own and prints what it held back. A rank that failed alone outside a sweep while others still compute
  /// (they would wait for its cells forever) waits at most a few minutes, prints its messages
  /// and calls MPI_Abort.
  int finish(int exit_code);

 private:
  bool active_ = false, finished_ = false;
  int rank_ = 0, size_ = 1;
  std::ostringstream held_err_;
  std::streambuf *cout_buf_ = nullptr, *cerr_buf_ = nullptr;
  void release_streams(bool print_held);
};

}  // namespace attnrate
