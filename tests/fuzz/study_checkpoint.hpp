#pragma once
// Fuzz harness body for one study's per-cell checkpoint reader: the study's own validator
// (read_checkpoint_field calls on its rows, group checks) as --resume runs it. Include it after
// defining
//   ATTNRATE_FUZZ_STUDY    the study's name, e.g. "minimax-rate"
//   ATTNRATE_FUZZ_OPTIONS  its options for a small run, e.g. {{"M", "200,400"}, {"seeds", "2"}}
//
// Set-up (once per process): the study runs once with those options in the scratch folder, so
// cells/ holds a valid checkpoint of every cell; the first one (in name order) is the one fuzzed
// and the others are removed. Then SIGINT is raised once, so every later run reads that
// checkpoint and stops before it computes a cell (the sweep engine's interruption).
//
// Each input: the first byte chooses the mode. Odd: the rest is parsed as JSON and, when it is an
// object, its "study", "cell", "fingerprint" and "checksum" are set to what this run expects, so
// the study's validator sees the mutated "value" (a fuzzer cannot forge the checksum). Even: the
// rest is the file as is (the engine's own checks). The study is then resumed.
// Contract: it never crashes, leaks or hits undefined behaviour, and it ends with Interrupted only
// (a corrupt checkpoint is reported and the cell would be recomputed; it never fails the run).
#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/registry.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/sweep.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
};

struct SilenceStreams {
  NullBuffer null;
  std::streambuf* saved_err = std::cerr.rdbuf(&null);
  std::streambuf* saved_out = std::cout.rdbuf(&null);
  ~SilenceStreams() {
    std::cerr.rdbuf(saved_err);
    std::cout.rdbuf(saved_out);
  }
};

struct StudyFixture {
  const attnrate::StudyDefinition* def = nullptr;
  attnrate::Settings settings{{}};
  std::filesystem::path out, cell_file;
  std::string cell, fingerprint;

  StudyFixture() {
    using namespace attnrate;
    def = &find_study(ATTNRATE_FUZZ_STUDY);
    settings = Settings(def->keys());
    const std::vector<std::pair<std::string, std::string>> options = ATTNRATE_FUZZ_OPTIONS;
    for (const auto& [k, v] : options) settings.set(k, v, "fuzz option " + k);
    def->check(settings);
    out = fuzz::scratch_dir() / "study";
    {
      SilenceStreams quiet;
      try {
        (void)def->run(settings, context());
      } catch (const std::exception&) {
        // Figures need gnuplot; the checkpoints are written before them.
      }
    }
    std::vector<std::filesystem::path> cells;
    for (const auto& e : std::filesystem::directory_iterator(out / "cells"))
      if (e.path().extension() == ".json") cells.push_back(e.path());
    if (cells.empty()) fuzz::finding("the set-up run wrote no checkpoint");
    std::sort(cells.begin(), cells.end());
    cell_file = cells.front();
    // Only the fuzzed checkpoint stays: the others are valid and would be re-read on every input
    // for no coverage; a missing cell is skipped like any unfinished one after the interruption.
    for (std::size_t i = 1; i < cells.size(); ++i) std::filesystem::remove(cells[i]);
    cell = cell_file.stem().string();
    const nlohmann::json valid = nlohmann::json::parse(std::ifstream(cell_file));
    fingerprint = valid.at("fingerprint").get<std::string>();
    install_interrupt_handler();
    std::raise(SIGINT);
    if (!interrupt_requested()) fuzz::finding("SIGINT did not set the interruption flag");
  }

  attnrate::StudyContext context() const {
    attnrate::StudyContext ctx{out, 1, true, false};
    return ctx;
  }
};

const StudyFixture& fixture() {
  static const StudyFixture f;
  return f;
}

}  // namespace

// The set-up run is not an input: it happens before the first one, outside libFuzzer's
// per-input timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const StudyFixture& f = fixture();
  if (size == 0) return 0;
  std::string content(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      j["study"] = f.def->name;
      j["cell"] = f.cell;
      j["fingerprint"] = f.fingerprint;
      if (j.contains("value")) j["checksum"] = attnrate::checkpoint_checksum(j["value"]);
      content = j.dump(1);
    }
  }
  const auto file = attnrate::fuzz::write_scratch(
      std::filesystem::relative(f.cell_file, attnrate::fuzz::scratch_dir()).string(),
      reinterpret_cast<const std::uint8_t*>(content.data()), content.size());
  (void)file;
  try {
    SilenceStreams quiet;
    (void)f.def->run(f.settings, f.context());
  } catch (const attnrate::Interrupted&) {
    return 0;
  } catch (const std::exception& e) {
    attnrate::fuzz::finding(std::string("resuming over the checkpoint threw: ") + e.what());
  }
  attnrate::fuzz::finding("the resumed run computed past the interruption");
}
