#include "studies/io/output_set.hpp"

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "estimators/common/input_error.hpp"
#include "studies/io/input_file.hpp"
#include "studies/io/output.hpp"

namespace attnrate {
namespace fs = std::filesystem;

namespace {

// A file list is small (one line per output file); a larger one is not ours and is ignored.
constexpr ReadLimits kManifestLimits{std::uint64_t{4} << 20, 4096};

bool safe_entry(const std::string& line) {
  if (line.empty() || line.find_first_of(std::string("\r\0", 2)) != std::string::npos) return false;
  const fs::path p(line);
  if (p.is_absolute() || p.has_root_name()) return false;
  for (const auto& part : p) {
    const std::string s = part.string();
    if (s.empty() || s.front() == '.' || s == "cells") return false;
  }
  return true;
}

fs::file_type type_of(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type();
}

// Whether every folder between `dir` and `dir / rel` that exists is a real folder (no symbolic
// link, so nothing done at dir / rel can reach outside dir); `missing` tells whether one is absent.
bool parents_inside(const fs::path& dir, const fs::path& rel, bool* missing = nullptr) {
  fs::path at = dir;
  const fs::path parent = rel.parent_path();
  for (const auto& part : parent) {
    at /= part;
    const auto t = type_of(at);
    if (t == fs::file_type::not_found) {
      if (missing) *missing = true;
      return true;
    }
    if (t != fs::file_type::directory) return false;
  }
  return true;
}

// The file list in `path`, or nothing when there is no regular file there (a FIFO or a folder
// in its place is never read: it would block or fail).
std::vector<std::string> read_manifest(const fs::path& path) {
  if (type_of(path) != fs::file_type::regular) return {};
  try {
    return parse_output_manifest(read_text_file(path, kManifestLimits));
  } catch (const std::exception&) {
    return {};  // unreadable or too large: not a list this code wrote, so nothing to remove
  }
}

void sync_folder(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);  // best effort: some file systems refuse fsync on folders
    ::close(fd);
  }
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int e = errno;
    throw std::runtime_error("cannot move " + from.string() + " to " + to.string() + " (" + std::strerror(e) + ")");
  }
}

// Step 4 of the commit (output_set.hpp); idempotent, so recovery can run it again after a crash.
void finish_commit(const fs::path& dir) {
  const fs::path commit = dir / OutputSet::kCommitName;
  const fs::path new_list = commit / OutputSet::kManifestName;
  std::error_code ec;
  if (type_of(new_list) != fs::file_type::regular) {
    // Only a commit that already moved its list can lack it: nothing is left to do.
    fs::remove_all(commit, ec);
    return;
  }
  const std::vector<std::string> files = read_manifest(new_list);
  for (const auto& rel : files) {
    const fs::path from = commit / rel;
    if (type_of(from) != fs::file_type::regular) continue;  // moved before a crash
    bool missing = false;
    if (!parents_inside(dir, rel, &missing))
      throw InputError((dir / rel).parent_path().string() +
                       " is not a folder (a symbolic link or a file); remove it so the outputs can be written");
    if (missing) fs::create_directories((dir / rel).parent_path());
    rename_or_throw(from, dir / rel);
  }
  const std::set<std::string> kept(files.begin(), files.end());
  for (const auto& rel : read_manifest(dir / OutputSet::kManifestName)) {
    if (kept.count(rel) || !parents_inside(dir, rel)) continue;
    const auto t = type_of(dir / rel);
    // A stale output of the previous set; a link is removed itself, never what it leads to.
    if (t == fs::file_type::regular || t == fs::file_type::symlink) fs::remove(dir / rel, ec);
  }
  const auto old_list_type = type_of(dir / OutputSet::kManifestName);
  if (old_list_type != fs::file_type::not_found && old_list_type != fs::file_type::regular &&
      old_list_type != fs::file_type::symlink)
    throw InputError((dir / OutputSet::kManifestName).string() +
                     " is not a regular file; remove it so the output list can be written");
  rename_or_throw(new_list, dir / OutputSet::kManifestName);
  fs::remove_all(commit, ec);
  sync_folder(dir);
}

}  // namespace

std::vector<std::string> parse_output_manifest(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (safe_entry(line)) out.push_back(line);
  return out;
}

void recover_output_set(const fs::path& dir) {
  std::error_code ec;
  const auto staging = type_of(dir / OutputSet::kStagingName);
  if (staging != fs::file_type::not_found) fs::remove_all(dir / OutputSet::kStagingName, ec);
  const auto commit = type_of(dir / OutputSet::kCommitName);
  if (commit == fs::file_type::directory) finish_commit(dir);
  else if (commit != fs::file_type::not_found) fs::remove(dir / OutputSet::kCommitName, ec);
}

OutputSet::OutputSet(fs::path dir, bool active)
    : dir_(std::move(dir)), staging_(dir_ / kStagingName), active_(active) {
  if (!active_) return;
  recover_output_set(dir_);
  std::error_code ec;
  fs::create_directories(staging_, ec);
  if (ec) throw std::runtime_error("cannot create " + staging_.string() + " (" + ec.message() + ")");
}

OutputSet::~OutputSet() {
  if (!active_ || committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void OutputSet::commit() {
  if (!active_) return;
  // 1. The new set's file list, sorted so that equal sets give equal lists.
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(staging_); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), staging_).generic_string();
    if (rel == kManifestName) continue;
    if (!safe_entry(rel))
      throw std::runtime_error("internal: output " + rel + " has a name the output set cannot carry");
    files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  std::string list;
  for (const auto& f : files) list.append(f).append("\n");
  write_file_atomic(staging_ / kManifestName, list);

  // 2. Every place a file goes must take it; refused before anything moves.
  for (const auto& rel : files) {
    if (!parents_inside(dir_, rel))
      throw InputError((dir_ / rel).parent_path().string() +
                       " is not a folder (a symbolic link or a file); remove it so the outputs can be written");
    const auto t = type_of(dir_ / rel);
    if (t != fs::file_type::not_found && t != fs::file_type::regular && t != fs::file_type::symlink)
      throw InputError((dir_ / rel).string() + ": " + file_type_name(t) +
                       "; attnrate replaces only regular files, remove it and rerun");
  }

  // 3. The commit point.
  std::error_code ec;
  if (type_of(dir_ / kCommitName) != fs::file_type::not_found) fs::remove_all(dir_ / kCommitName, ec);
  rename_or_throw(staging_, dir_ / kCommitName);
  sync_folder(dir_);
  committed_ = true;

  // 4. Into place.
  finish_commit(dir_);
}

std::string previous_output_set(const fs::path& dir) {
  std::error_code ec;
  const fs::path path = dir / "summary.json";
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (std::uintmax_t{64} << 20)) return {};
  try {
    std::ifstream in(path);
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.contains("study") && j.at("study").is_string()) return "study " + j.at("study").get<std::string>();
    if (j.contains("claims")) return "verify";
    if (j.contains("command") && j.at("command").is_string()) return j.at("command").get<std::string>();
  } catch (const std::exception&) {
  }
  return {};
}

std::string replaced_outputs_warning(const fs::path& dir, const std::string& command, const std::string& whose) {
  const std::string before = previous_output_set(dir);
  if (before.empty() || before == command) return {};
  return "--out " + dir.string() + " holds the outputs of " + before + "; " + whose +
         " replace them (their checkpoints in cells/ stay, never reused)";
}

bool in_output_set(const fs::path& dir, const fs::path& file) {
  std::error_code ec;
  for (const auto& rel : read_manifest(dir / OutputSet::kManifestName))
    if (fs::equivalent(dir / rel, file, ec)) return true;
  return false;
}

}  // namespace attnrate
