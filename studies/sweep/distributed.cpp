#include "studies/sweep/distributed.hpp"

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

#include "estimators/common/input_error.hpp"
#include "studies/sweep/study.hpp"

#ifdef ATTNRATE_WITH_MPI
#include <mpi.h>
#endif

namespace attnrate {
namespace {

// Owned cells in index order; a missing one without a failure is a bug of the caller's loop.
std::vector<nlohmann::json> collect_local(const CellShare& share, std::vector<std::optional<nlohmann::json>>& local) {
  std::vector<nlohmann::json> out(local.size());
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (!local[i]) {
      if (share.owns(i))
        throw std::logic_error("gather_cells: cell " + std::to_string(i) + " is owned by rank " +
                               std::to_string(share.rank) + " but was not computed");
      continue;
    }
    out[i] = std::move(*local[i]);
  }
  return out;
}

void append_u64(std::vector<std::uint8_t>& b, std::uint64_t v) {
  for (int k = 0; k < 8; ++k) b.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

std::uint64_t read_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= static_cast<std::uint64_t>(p[k]) << (8 * k);
  return v;
}

#ifdef ATTNRATE_WITH_MPI
bool mpi_running() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

// Severity of a failure, agreed on by MPI_MAX: the worst one decides what every rank throws.
enum Status : int { ok = 0, interrupted = 1, failed = 2, bad_input = 3 };

std::pair<int, std::string> classify(const std::exception_ptr& failure) {
  if (!failure) return {ok, {}};
  try {
    std::rethrow_exception(failure);
  } catch (const Interrupted& e) {
    return {interrupted, e.what()};
  } catch (const InputError& e) {
    return {bad_input, e.what()};
  } catch (const std::exception& e) {
    return {failed, e.what()};
  } catch (...) {
    return {failed, "unknown exception"};
  }
}

int checked_int(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX))
    throw std::runtime_error(std::string("gather_cells: ") + what + " exceeds 2 GiB (MPI counts are int)");
  return static_cast<int>(n);
}

MPI_Comm g_exit_comm = MPI_COMM_NULL;  // the exit-code exchange, apart from the cell exchanges

// Discards everything (standard output of ranks != 0).
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};
NullBuffer g_null_buffer;

// Whether an MPI launcher started this process (mpirun/mpiexec of Open MPI or MPICH, srun with
// PMI or PMIx). A plain `attnrate ...` never initialises MPI, so it costs nothing and works
// where MPI's singleton start-up would not.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}
#endif

}  // namespace

std::vector<std::uint8_t> pack_cells(const CellShare& share, const std::vector<std::optional<nlohmann::json>>& local) {
  std::vector<std::uint8_t> buffer;
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (!share.owns(i)) continue;
    if (!local[i]) throw std::logic_error("pack_cells: owned cell " + std::to_string(i) + " has no value");
    const std::vector<std::uint8_t> bytes = nlohmann::json::to_cbor(*local[i]);
    append_u64(buffer, i);
    append_u64(buffer, bytes.size());
    buffer.insert(buffer.end(), bytes.begin(), bytes.end());
  }
  return buffer;
}

std::vector<nlohmann::json> unpack_cells(std::size_t cells, const std::vector<std::uint8_t>& packs,
                                         const std::vector<std::size_t>& pack_sizes) {
  std::vector<nlohmann::json> out(cells);
  std::vector<char> filled(cells, 0);
  const std::size_t size = pack_sizes.size();
  std::size_t p = 0;
  for (std::size_t r = 0; r < size; ++r) {
    if (pack_sizes[r] > packs.size() - p) throw std::runtime_error("unpack_cells: the packs are shorter than their sizes");
    const std::size_t end = p + pack_sizes[r];
    while (p < end) {
      if (end - p < 16) throw std::runtime_error("unpack_cells: truncated record from rank " + std::to_string(r));
      const std::uint64_t index = read_u64(&packs[p]), length = read_u64(&packs[p + 8]);
      p += 16;
      if (index >= cells || index % size != r || filled[index] || length > end - p)
        throw std::runtime_error("unpack_cells: malformed record from rank " + std::to_string(r));
      out[index] = nlohmann::json::from_cbor(packs.begin() + static_cast<std::ptrdiff_t>(p),
                                             packs.begin() + static_cast<std::ptrdiff_t>(p + length));
      filled[index] = 1;
      p += length;
    }
  }
  if (p != packs.size()) throw std::runtime_error("unpack_cells: bytes left after the last pack");
  for (std::size_t i = 0; i < cells; ++i)
    if (!filled[i]) throw std::runtime_error("unpack_cells: no rank sent cell " + std::to_string(i));
  return out;
}

CellShare world_share() {
#ifdef ATTNRATE_WITH_MPI
  if (mpi_running()) {
    CellShare s;
    MPI_Comm_rank(MPI_COMM_WORLD, &s.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &s.size);
    return s;
  }
#endif
  return {};
}

std::vector<nlohmann::json> gather_cells(const CellShare& share, std::vector<std::optional<nlohmann::json>> local,
                                         std::exception_ptr failure) {
  if (share.size <= 1) {
    if (failure) std::rethrow_exception(failure);
    return collect_local(share, local);
  }
#ifndef ATTNRATE_WITH_MPI
  throw std::logic_error("gather_cells: a share of " + std::to_string(share.size) + " ranks without MPI");
#else
  if (!failure) {
    for (std::size_t i = 0; i < local.size(); ++i)
      if (share.owns(i) && !local[i]) {
        failure = std::make_exception_ptr(std::logic_error("gather_cells: cell " + std::to_string(i) +
                                                           " is owned but was not computed"));
        break;
      }
  }
  // 1. Agreement: the worst status, and the sweep length on every rank (max n and max -n).
  auto [status, message] = classify(failure);
  long long mine[3] = {status, static_cast<long long>(local.size()), -static_cast<long long>(local.size())};
  long long all[3] = {0, 0, 0};
  MPI_Allreduce(mine, all, 3, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  const int worst = static_cast<int>(all[0]);
  if (worst != ok) {
    int candidate = status == worst ? share.rank : share.size, first = 0;
    MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    int length = share.rank == first ? checked_int(message.size(), "the error message") : 0;
    MPI_Bcast(&length, 1, MPI_INT, first, MPI_COMM_WORLD);
    std::string text(static_cast<std::size_t>(length), '\0');
    if (share.rank == first) text = message;
    MPI_Bcast(text.data(), length, MPI_CHAR, first, MPI_COMM_WORLD);
    if (status == worst) std::rethrow_exception(failure);
    if (worst == interrupted) throw Interrupted();
    if (worst == bad_input) throw InputError(text);
    throw std::runtime_error("rank " + std::to_string(first) + " of " + std::to_string(share.size) + ": " + text);
  }
  if (all[1] != -all[2])
    throw std::logic_error("gather_cells: the ranks disagree on the number of cells (" + std::to_string(-all[2]) +
                           " to " + std::to_string(all[1]) + ")");

  // 2. Exchange: every rank's pack, all-gathered.
  const std::vector<std::uint8_t> buffer = pack_cells(share, local);
  int count = checked_int(buffer.size(), "one rank's cells");
  std::vector<int> counts(static_cast<std::size_t>(share.size)), displs(counts.size());
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  std::vector<std::size_t> sizes(counts.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = checked_int(total, "all cells together");
    sizes[r] = static_cast<std::size_t>(counts[r]);
    total += sizes[r];
  }
  checked_int(total, "all cells together");
  std::vector<std::uint8_t> received(total);
  MPI_Allgatherv(buffer.data(), count, MPI_BYTE, received.data(), counts.data(), displs.data(), MPI_BYTE,
                 MPI_COMM_WORLD);
  return unpack_cells(local.size(), received, sizes);
#endif
}

void barrier(const CellShare& share) {
#ifdef ATTNRATE_WITH_MPI
  if (share.size > 1 && mpi_running()) MPI_Barrier(MPI_COMM_WORLD);
#else
  (void)share;
#endif
}

MpiSession::MpiSession(int& argc, char**& argv) {
#ifdef ATTNRATE_WITH_MPI
  if (!launched_by_mpi()) return;
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    std::cerr << "attnrate: error: MPI_Init_thread failed\n";
    std::exit(1);
  }
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_exit_comm);
  if (rank_ != 0) {
    cout_buf_ = std::cout.rdbuf(&g_null_buffer);
    cerr_buf_ = std::cerr.rdbuf(held_err_.rdbuf());
  }
#else
  (void)argc;
  (void)argv;
#endif
}

void MpiSession::release_streams(bool print_held) {
  if (cout_buf_) std::cout.rdbuf(cout_buf_);
  if (cerr_buf_) std::cerr.rdbuf(cerr_buf_);
  cout_buf_ = cerr_buf_ = nullptr;
  if (!print_held) return;
  std::istringstream lines(held_err_.str());
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) std::cerr << "[rank " << rank_ << "] " << line << "\n";
  std::cerr.flush();
}

int MpiSession::finish(int exit_code) {
  if (!active_ || finished_) return exit_code;
  finished_ = true;
#ifdef ATTNRATE_WITH_MPI
  if (size_ > 1) {
    // Every rank that got here reports its code. A rank that failed alone before a cell exchange
    // leaves the others waiting there: it gives up after a while and aborts the job.
    std::vector<int> codes(static_cast<std::size_t>(size_));
    MPI_Request request;
    MPI_Iallgather(&exit_code, 1, MPI_INT, codes.data(), 1, MPI_INT, g_exit_comm, &request);
    const auto t0 = std::chrono::steady_clock::now();
    const double limit = exit_code == 0 ? -1.0 : 600.0;
    int done = 0;
    for (;;) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (done) break;
      if (limit > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > limit) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!done) {
      release_streams(true);
      std::cerr << "attnrate: rank " << rank_ << " of " << size_ << " stopped with exit code " << exit_code
                << " while other ranks still wait for its cells; aborting the job\n";
      MPI_Abort(MPI_COMM_WORLD, exit_code);
      return exit_code;
    }
    bool same = true;
    for (int c : codes) same = same && c == codes[0];
    release_streams(exit_code == 0 || !same);
    // mpirun ends the whole job when one process exits non-zero: when all ranks agree, only rank 0
    // carries the code, so it is not killed before its output is out.
    if (same && rank_ != 0) exit_code = 0;
  }
  std::cout.flush();
  std::cerr.flush();
  MPI_Comm_free(&g_exit_comm);
  MPI_Finalize();
#endif
  return exit_code;
}

MpiSession::~MpiSession() {
  if (!active_ || finished_) return;
  release_streams(true);
#ifdef ATTNRATE_WITH_MPI
  // finish() was skipped (an exception left main): the other ranks cannot be waited for.
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, 1);
  else MPI_Finalize();
#endif
}

}  // namespace attnrate
