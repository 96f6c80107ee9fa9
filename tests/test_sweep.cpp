// The sweep engine (studies/sweep/sweep.hpp): results in cell order whatever the thread count
// and parallelism, checkpoints reused only when they prove what they hold (study, cell name,
// fingerprint, checksum, the study's validation), and everything else recomputed.
#include <unistd.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/sweep/sweep.hpp"

using namespace attnrate;

namespace {

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("attnrate-sweep-" + std::to_string(::getpid()));
  SweepSpec spec;
  std::atomic<int> computed{0};
  Fixture() {
    std::filesystem::remove_all(dir);
    spec.study = "toy";
    spec.label = "toy";
    spec.fingerprint = "fp-1";
    for (int i = 0; i < 12; ++i) spec.names.push_back("cell" + std::to_string(i));
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  // A cell's value depends only on its index (its own seeded stream).
  nlohmann::json cell(std::size_t i) {
    ++computed;
    Rng rng(derive_seed(7, {i}));
    return {{"i", i}, {"x", rng.normal()}};
  }
  std::vector<nlohmann::json> run(int threads, bool resume, const CellValidator& validate = {}) {
    StudyContext ctx{dir, threads, resume, false};
    return run_sweep(ctx, spec, [this](std::size_t i, int) { return cell(i); }, validate);
  }
  std::filesystem::path path(int i) const { return dir / "cells" / ("cell" + std::to_string(i) + ".json"); }
};

}  // namespace

TEST_CASE("run_sweep: results in cell order, identical at any thread count and parallelism", "[sweep]") {
  Fixture f;
  const auto one = f.run(1, false);
  REQUIRE(one.size() == 12);
  for (std::size_t i = 0; i < one.size(); ++i) CHECK(one[i].at("i") == i);
  CHECK(f.run(2, false) == one);
  f.spec.parallelism = CellParallelism::within_cells;
  CHECK(f.run(2, false) == one);
  // The checkpoint records what it holds.
  std::ifstream in(f.path(3));
  const auto j = nlohmann::json::parse(in);
  CHECK(j.at("study") == "toy");
  CHECK(j.at("cell") == "cell3");
  CHECK(j.at("fingerprint") == "fp-1");
  CHECK(j.at("value") == one[3]);
  CHECK(j.at("checksum") == checkpoint_checksum(one[3]));
}

TEST_CASE("parallelism_within_memory: concurrent cells only while threads x cell fit in a quarter of memory",
          "[sweep]") {
  const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  REQUIRE(memory > 0);
  for (int threads : {1, 2, 8}) {
    const StudyContext ctx{std::filesystem::temp_directory_path(), threads, false, false};
    CHECK(parallelism_within_memory(ctx, 0.0) == CellParallelism::across_cells);
    CHECK(parallelism_within_memory(ctx, 0.25 * memory / threads * 0.99) == CellParallelism::across_cells);
    CHECK(parallelism_within_memory(ctx, 0.25 * memory / threads * 1.01) == CellParallelism::within_cells);
  }
}

TEST_CASE("run_fingerprint: the parameters that change cells, not --max-memory, --mark, --bootstrap or --seeds", "[sweep]") {
  const nlohmann::json base = {
      {"M", "500,1000"}, {"max-memory", "auto"}, {"mark", 0.01}, {"bootstrap", 2000}, {"seeds", 4}};
  nlohmann::json other = base;
  other["max-memory"] = "1G";
  other["mark"] = 0.5;
  other["bootstrap"] = 500;
  other["seeds"] = 8;  // the cells of repetitions 0..3 are the same (tests/resume_seeds.sh, every study)
  CHECK(run_fingerprint(other) == run_fingerprint(base));
  other["M"] = "500,2000";
  CHECK(run_fingerprint(other) != run_fingerprint(base));
}

TEST_CASE("run_sweep --resume reuses valid checkpoints and recomputes everything else", "[sweep]") {
  Fixture f;
  const auto first = f.run(2, false);
  f.computed = 0;
  CHECK(f.run(2, true) == first);
  CHECK(f.computed == 0);  // all reused

  // A checkpoint copied over another cell's name (the cell name inside does not match).
  std::filesystem::copy_file(f.path(5), f.path(4), std::filesystem::copy_options::overwrite_existing);
  // An edited value (the checksum no longer matches).
  {
    std::ifstream in(f.path(6));
    auto j = nlohmann::json::parse(in);
    in.close();
    j["value"]["x"] = 1e300;
    std::ofstream(f.path(6)) << j.dump();
  }
  // A checkpoint of another run (fingerprint) and a truncated one.
  {
    std::ifstream in(f.path(7));
    auto j = nlohmann::json::parse(in);
    in.close();
    j["fingerprint"] = "fp-other";
    std::ofstream(f.path(7)) << j.dump();
    std::ofstream(f.path(8)) << "{\"study\": \"toy\", \"cel";
  }
  // A FIFO in place of a checkpoint is not opened (a read would block).
  std::filesystem::remove(f.path(9));
  REQUIRE(::mkfifo(f.path(9).c_str(), 0600) == 0);
  f.computed = 0;
  const auto again = f.run(2, true);
  CHECK(again == first);
  CHECK(f.computed == 5);  // cells 4, 6, 7, 8 and 9 recomputed
  std::filesystem::remove(f.path(9));
}

TEST_CASE("run_sweep: a checkpoint the study's validation rejects is recomputed", "[sweep]") {
  Fixture f;
  const auto first = f.run(1, false);
  f.computed = 0;
  int rejected = 0;
  const auto again = f.run(1, true, [&](const nlohmann::json& v) {
    if (v.at("i") == 2) {
      ++rejected;
      throw InputError("cell 2 rejected");
    }
  });
  CHECK(again == first);
  CHECK(rejected == 1);
  CHECK(f.computed == 1);
}

TEST_CASE("run_sweep: the first failure is rethrown, names must be unique", "[sweep]") {
  Fixture f;
  StudyContext ctx{f.dir, 2, false, false};
  CHECK_THROWS_WITH(run_sweep(ctx, f.spec,
                              [](std::size_t i, int) -> nlohmann::json {
                                if (i == 5) throw std::runtime_error("cell 5 failed");
                                return i;
                              }),
                    "cell 5 failed");
  f.spec.names[1] = f.spec.names[0];
  CHECK_THROWS_AS(run_sweep(ctx, f.spec, [](std::size_t i, int) -> nlohmann::json { return i; }), InputError);
  CHECK(checkpoint_checksum(nlohmann::json{{"a", 1}}) != checkpoint_checksum(nlohmann::json{{"a", 2}}));
  CHECK(checkpoint_checksum(nlohmann::json{{"a", 1}}).size() == 16);
}

TEST_CASE("read_checkpoint says which options changed, or that the build did", "[sweep]") {
  Fixture f;
  f.spec.parameters = {{"M", "500,1000"}, {"sigma", 2}, {"restarts", 4}, {"seeds", 4}};  // seeds: as older builds recorded
  f.spec.revision = "abc123";
  f.run(1, false);
  const CellValidator none;
  std::string problem;
  REQUIRE(read_checkpoint(f.path(0), f.spec, "cell0", none, &problem));
  CHECK(problem.empty());
  // The same run with other options: their old and new values are named.
  SweepSpec now = f.spec;
  now.parameters = fingerprint_parameters(f.spec.parameters);  // as sweep_spec records them
  now.fingerprint = "fp-2";
  now.parameters["sigma"] = 1.5;
  now.parameters["M"] = "500,2000";
  CHECK_FALSE(read_checkpoint(f.path(0), now, "cell0", none, &problem));
  CHECK(problem == "was written with other parameters (--M 500,1000, now 500,2000; --sigma 2, now 1.5)");
  // An option added or dropped since.
  now.parameters = fingerprint_parameters(f.spec.parameters);
  now.parameters.erase("restarts");
  now.parameters["tau"] = 0.5;
  CHECK_FALSE(read_checkpoint(f.path(0), now, "cell0", none, &problem));
  CHECK(problem == "was written with other parameters (--tau not recorded, now 0.5; --restarts 4, now not an option)");
  // The same options from another build (a recorded --seeds, which the fingerprint leaves out, is
  // not a change).
  now.parameters = fingerprint_parameters(f.spec.parameters);
  now.revision = "def456";
  CHECK_FALSE(read_checkpoint(f.path(0), now, "cell0", none, &problem));
  CHECK(problem == "was written by another build (revision abc123, this one def456)");
  // A checkpoint that records neither (written before they were recorded).
  {
    std::ifstream in(f.path(1));
    auto j = nlohmann::json::parse(in);
    in.close();
    j.erase("parameters");
    j.erase("revision");
    std::ofstream(f.path(1)) << j.dump();
  }
  CHECK_FALSE(read_checkpoint(f.path(1), now, "cell1", none, &problem));
  CHECK(problem == "was written with other parameters or code");
  // Another study's checkpoint is named as such, though its parameters differ too.
  SweepSpec other = f.spec;
  other.study = "other";
  other.fingerprint = "fp-9";
  other.parameters["sigma"] = 7;
  CHECK_FALSE(read_checkpoint(f.path(0), other, "cell0", none, &problem));
  CHECK(problem == "holds another cell (toy cell0)");
}

TEST_CASE("run_sweep: a folder where a checkpoint belongs stops the run before any cell", "[sweep]") {
  Fixture f;
  std::filesystem::create_directories(f.path(3));
  for (bool resume : {false, true}) {
    f.computed = 0;
    CHECK_THROWS_AS(f.run(2, resume), InputError);
    CHECK(f.computed == 0);
  }
  CHECK(std::filesystem::is_directory(f.path(3)));  // never deleted
}
