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
  spec.parameters = fingerprint_parameters(parameters);
  spec.revision = build_info().at("git_revision").get<std::string>();
  return spec;
}

nlohmann::json fingerprint_parameters(const nlohmann::json& parameters) {
  nlohmann::json identity = parameters;
  if (identity.is_object())
    for (const char* key : {"max-memory", "mark", "bootstrap", "seeds"}) identity.erase(key);
  return identity;
}

std::string run_fingerprint(const nlohmann::json& parameters) {
  return std::to_string(mix64(hash_name(fingerprint_parameters(parameters).dump()) ^
                              hash_name(build_info().at("git_revision").get<std::string>())));
}

namespace {

// Why a checkpoint's fingerprint differs, from what it records: the options whose values
// changed (at most three named), or the build; checkpoints without the record say less.
std::string fingerprint_mismatch(const nlohmann::json& j, const SweepSpec& spec) {
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (j.contains("parameters") && j.at("parameters").is_object() && spec.parameters.is_object()) {
    const nlohmann::json then = fingerprint_parameters(j.at("parameters"));  // as recorded by any build
    std::vector<std::string> changed;
    for (const auto& [key, now] : spec.parameters.items())
      if (!then.contains(key)) changed.push_back("--" + key + " not recorded, now " + text(now));
      else if (then.at(key) != now) changed.push_back("--" + key + " " + text(then.at(key)) + ", now " + text(now));
    for (const auto& [key, old] : then.items())
      if (!spec.parameters.contains(key)) changed.push_back("--" + key + " " + text(old) + ", now not an option");
    if (!changed.empty()) {
      std::string list;
      for (std::size_t k = 0; k < changed.size() && k < 3; ++k) list += (k ? "; " : "") + changed[k];
      if (changed.size() > 3) list += "; and " + std::to_string(changed.size() - 3) + " more";
      return "was written with other parameters (" + list + ")";
    }
    if (j.contains("revision") && j.at("revision").is_string() && j.at("revision") != spec.revision)
      return "was written by another build (revision " + j.at("revision").get<std::string>() + ", this one " +
             spec.revision + ")";
  }
  return "was written with other parameters or code";
}

}  // namespace

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
                                              const std::string& name, const CellValidator& validate,
                                              std::string* problem) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (ec || status.type() == std::filesystem::file_type::not_found) return std::nullopt;
  const auto warn = [&](const std::string& why) {
    if (problem) *problem = why;
    else std::cerr << "attnrate: checkpoint " << path.string() << " " << why << "; recomputing\n";
    return std::nullopt;
  };
  if (status.type() != std::filesystem::file_type::regular) return warn("is not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxCheckpointBytes) return warn("is too large or unreadable");
  try {
    std::ifstream in(path, std::ios::binary);
    const nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_object()) return warn("is not a JSON object");
    // What it holds before how it was made: another study's checkpoint has other parameters too.
    if (j.value("study", std::string()) != spec.study || j.value("cell", std::string()) != name)
      return warn("holds another cell (" + j.value("study", std::string("?")) + " " +
                  j.value("cell", std::string("?")) + ")");
    if (j.value("fingerprint", std::string()) != spec.fingerprint) return warn(fingerprint_mismatch(j, spec));
    if (!j.contains("value") || j.value("checksum", std::string()) != checkpoint_checksum(j.at("value")))
      return warn("fails its checksum");
    if (validate) validate(j.at("value"));
    return j.at("value");
  } catch (const std::exception& e) {
    std::string what = e.what();  // without nlohmann's "[json.exception.parse_error.101] " tag
    if (what.starts_with("[json.exception.")) what.erase(0, std::min(what.size(), what.find("] ") + 2));
    return warn("is corrupt (" + what + ")");
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
  // A folder where a checkpoint belongs cannot be replaced without deleting what it holds: stop
  // before any work (other things there, a FIFO or a link, are replaced when the cell is written).
  for (std::size_t i = 0; i < n; ++i) {
    std::error_code ec;
    const auto path = dir / (spec.names[i] + ".json");
    if (ctx.share.owns(i) && std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::directory)
      throw InputError("checkpoint " + path.string() + " is a folder; remove it (" + dir.string() +
                       " holds attnrate's checkpoints, one file per cell)");
  }
  std::vector<std::optional<nlohmann::json>> own(n);
  if (ctx.resume) {
    // One line per reason (a changed option makes every checkpoint stale), then the count reused.
    std::vector<std::pair<std::string, std::vector<std::string>>> problems;  // reason, files
    std::size_t owned = 0, reused = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!ctx.share.owns(i)) continue;
      ++owned;
      std::string problem;
      own[i] = read_checkpoint(dir / (spec.names[i] + ".json"), spec, spec.names[i], validate, &problem);
      if (own[i]) ++reused;
      if (problem.empty()) continue;
      auto it = std::find_if(problems.begin(), problems.end(), [&](const auto& p) { return p.first == problem; });
      if (it == problems.end()) it = problems.insert(problems.end(), {problem, {}});
      it->second.push_back(spec.names[i] + ".json");
    }
    // Every rank reports its own cells' checkpoints, as it reads them.
    for (const auto& [why, files] : problems)
      if (files.size() == 1)
        std::cerr << "attnrate: checkpoint " << (dir / files[0]).string() << " " << why << "; recomputing\n";
      else
        std::cerr << "attnrate: " << files.size() << " checkpoints in " << dir.string() << " (" << files[0]
                  << ", ...): each " << why << "; recomputing them\n";
    std::cerr << "attnrate: --resume: " << reused << " of " << owned << " cells of " << spec.label
              << (ctx.share.size > 1 ? " (rank " + std::to_string(ctx.share.rank) + "'s share)" : std::string())
              << " read from checkpoints\n";
  }

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
                                {"checksum", checkpoint_checksum(value)},
                                {"parameters", spec.parameters},
                                {"revision", spec.revision}};
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
