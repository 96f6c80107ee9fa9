#include "studies/sweep/sweep.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/io/output.hpp"
#include "studies/sweep/distributed.hpp"

namespace attnrate {

SweepSpec sweep_spec(const std::string& study, const nlohmann::json& parameters, const std::string& label) {
  SweepSpec spec;
  spec.study = study;
  spec.label = label.empty() ? study : label;
  spec.fingerprint = run_fingerprint(parameters);
  return spec;
}

std::string run_fingerprint(const nlohmann::json& parameters) {
  // Options that change no cell: --max-memory limits the run, coercivity's --mark is a line on
  // the figure; resuming with other values reuses the cells.
  nlohmann::json identity = parameters;
  if (identity.is_object())
    for (const char* key : {"max-memory", "mark"}) identity.erase(key);
  return std::to_string(
      mix64(hash_name(identity.dump()) ^ hash_name(build_info().at("git_revision").get<std::string>())));
}

std::string checkpoint_checksum(const nlohmann::json& value) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : value.dump()) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

int study_threads(const StudyContext& ctx) { return ctx.threads > 0 ? ctx.threads : omp_get_max_threads(); }

CellParallelism parallelism_within_memory(const StudyContext& ctx, double cell_bytes) {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return CellParallelism::within_cells;
  const double quarter = 0.25 * static_cast<double>(pages) * static_cast<double>(page);
  return static_cast<double>(study_threads(ctx)) * cell_bytes <= quarter ? CellParallelism::across_cells
                                                                         : CellParallelism::within_cells;
}

namespace {

std::atomic<int> g_sweep_threads{0}, g_running_cells{0};

// The occupancy idle_sweep_threads() reads, for the duration of one parallel sweep; Cell marks
// one cell as being computed.
struct SweepOccupancy {
  explicit SweepOccupancy(int threads) { g_sweep_threads = threads; }
  ~SweepOccupancy() { g_sweep_threads = 0; }
  SweepOccupancy(const SweepOccupancy&) = delete;
  SweepOccupancy& operator=(const SweepOccupancy&) = delete;
  struct Cell {
    Cell() { ++g_running_cells; }
    ~Cell() { --g_running_cells; }
    Cell(const Cell&) = delete;
    Cell& operator=(const Cell&) = delete;
  };
};

}  // namespace

int idle_sweep_threads() noexcept { return std::max(0, g_sweep_threads.load() - g_running_cells.load()); }

std::optional<nlohmann::json> read_checkpoint(const std::filesystem::path& path, const SweepSpec& spec,
                                              const std::string& name, const CellValidator& validate) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (ec || status.type() == std::filesystem::file_type::not_found) return std::nullopt;
  const auto warn = [&](const std::string& why) {
    std::cerr << "attnrate: checkpoint " << path.string() << " " << why << "; recomputing\n";
    return std::nullopt;
  };
  if (status.type() != std::filesystem::file_type::regular) return warn("is not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxCheckpointBytes) return warn("is too large or unreadable");
  try {
    std::ifstream in(path, std::ios::binary);
    const nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_object()) return warn("is not a JSON object");
    if (j.value("fingerprint", std::string()) != spec.fingerprint)
      return warn("was written with other parameters or code");
    if (j.value("study", std::string()) != spec.study || j.value("cell", std::string()) != name)
      return warn("holds another cell (" + j.value("study", std::string("?")) + " " +
                  j.value("cell", std::string("?")) + ")");
    if (!j.contains("value") || j.value("checksum", std::string()) != checkpoint_checksum(j.at("value")))
      return warn("fails its checksum");
    if (validate) validate(j.at("value"));
    return j.at("value");
  } catch (const std::exception& e) {
    return warn(std::string("is corrupt (") + e.what() + ")");
  }
}

std::vector<nlohmann::json> run_sweep(const StudyContext& ctx, const SweepSpec& spec, const CellFunction& run,
                                      const CellValidator& validate) {
  const std::size_t n = spec.names.size();
  {
    std::set<std::string> unique(spec.names.begin(), spec.names.end());
    if (unique.size() != n) throw InputError("run_sweep: cell names of study " + spec.study + " are not unique");
  }
  const auto dir = ctx.checkpoint_dir();
  std::filesystem::create_directories(dir);
  std::vector<std::optional<nlohmann::json>> own(n);
  if (ctx.resume)
    for (std::size_t i = 0; i < n; ++i)
      if (ctx.share.owns(i)) own[i] = read_checkpoint(dir / (spec.names[i] + ".json"), spec, spec.names[i], validate);

  Progress progress = ctx.progress_of(spec.label, n);
  for (std::size_t i = 0; i < n; ++i)
    if (own[i]) progress.done_one();
  std::exception_ptr failure;
  const int threads = study_threads(ctx);
  const auto compute = [&](std::size_t i, int cell_threads) {
    nlohmann::json value = run(i, cell_threads);
    // cells/ is the engine's own folder: what stands where a checkpoint belongs but is no regular
    // file (a FIFO, a link to a device) was reported and is replaced, never written through.
    const auto path = dir / (spec.names[i] + ".json");
    std::error_code ec;
    const auto type = std::filesystem::symlink_status(path, ec).type();
    if (!ec && type != std::filesystem::file_type::not_found && type != std::filesystem::file_type::regular &&
        type != std::filesystem::file_type::directory)
      std::filesystem::remove(path, ec);
    const nlohmann::json record{{"study", spec.study},
                                {"cell", spec.names[i]},
                                {"fingerprint", spec.fingerprint},
                                {"value", value},
                                {"checksum", checkpoint_checksum(value)}};
    write_file_atomic(dir / (spec.names[i] + ".json"), record.dump(1));
    return value;
  };
  if (spec.parallelism == CellParallelism::within_cells) {
    try {
      for (std::size_t i = 0; i < n; ++i) {
        if (!ctx.share.owns(i) || own[i]) continue;
        if (interrupt_requested()) break;
        own[i] = compute(i, threads);
        progress.done_one();
      }
    } catch (...) {
      failure = std::current_exception();
    }
  } else {
    const SweepOccupancy occupancy(threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::size_t i = 0; i < n; ++i) {
      if (!ctx.share.owns(i) || own[i] || interrupt_requested()) continue;
      bool skip = false;
#pragma omp critical(attnrate_sweep_failure)
      skip = static_cast<bool>(failure);
      if (skip) continue;
      try {
        const SweepOccupancy::Cell running;
        nlohmann::json value = compute(i, 1);
#pragma omp critical(attnrate_sweep_progress)
        {
          own[i] = std::move(value);
          progress.done_one();
        }
      } catch (...) {
#pragma omp critical(attnrate_sweep_failure)
        if (!failure) failure = std::current_exception();
      }
    }
  }
  progress.finish();
  if (!failure && interrupt_requested()) failure = std::make_exception_ptr(Interrupted());
  return gather_cells(ctx.share, std::move(own), failure);
}

}  // namespace attnrate
