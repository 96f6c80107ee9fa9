// Hostile inputs at the library boundary: sizes and limits refused instead of truncated,
// activation parameters outside what double precision represents, bounded readers, writers that
// never replace anything but regular files, the output-folder lock, outputs written as one set, and
// study sizes weighed against the memory budget. The whole-program
// counterparts (exit codes, messages, untouched files) are in tests/hostile_input.sh.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "estimators/common/input_error.hpp"
#include "studies/io/byte_size.hpp"
#include "studies/io/input_file.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/output_lock.hpp"
#include "studies/io/output_set.hpp"
#include "studies/io/study_memory.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/io/settings.hpp"
#include "theory/pairwise/activation.hpp"

using namespace attnrate;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// A scratch folder from mkdtemp, removed with its contents at scope exit.
struct Scratch {
  fs::path dir;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "attnrate-hostile-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path file(const std::string& name, const std::string& content) const {
    std::ofstream(dir / name, std::ios::binary) << content;
    return dir / name;
  }
};

template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError");
  return {};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool has_temp_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("byte sizes: suffixes are powers of 1024; nothing outside 1..2^63", "[hostile]") {
  CHECK(parse_byte_size("4096", "--x") == 4096);
  CHECK(parse_byte_size("8G", "--x") == (std::uint64_t{8} << 30));
  CHECK(parse_byte_size("8GiB", "--x") == (std::uint64_t{8} << 30));
  CHECK(parse_byte_size("8GB", "--x") == (std::uint64_t{8} << 30));
  CHECK(parse_byte_size("1.5K", "--x") == 1536);
  CHECK(parse_byte_size("8388608T", "--x") == (std::uint64_t{1} << 63));
  for (const char* bad : {"0", "-1", "abc", "1e3", "8X", "8388609T", "nan", "inf", "", "8 G"})
    CHECK_THAT(input_error_of([&] { parse_byte_size(bad, "--max-memory"); }),
               Contains("--max-memory must be a size in bytes") && Contains(std::string("got '") + bad + "'"));
  CHECK(byte_size_text(std::uint64_t{64} << 30) == "64G");
  CHECK(byte_size_text(std::uint64_t{64} << 10) == "64K");
  CHECK(byte_size_text(1000) == "1000");
  CHECK(format_bytes(1536.0) == "1.5 KiB");
  CHECK(format_bytes(12.0) == "12 bytes");
}

TEST_CASE("settings: integer getters refuse values outside the target type instead of truncating", "[hostile]") {
  Settings s({{"knots", "auto", ""}, {"M", "2", ""}, {"seeds", "1", ""}, {"max-memory", "auto", ""}});
  s.set("knots", "4294967297", "--knots");
  CHECK_THAT(input_error_of([&] { s.get_count("knots", 1, 1000); }), Contains("--knots must be in 1..1000, got 4294967297"));
  s.set("knots", "99999999999999999999999", "--knots");
  CHECK_THAT(input_error_of([&] { s.get_count("knots", 1, 1000); }), Contains("--knots must be in 1..1000"));
  s.set("knots", "12", "--knots");
  CHECK(s.get_count("knots", 1, 1000) == 12);
  s.set("M", "-1", "--M");
  CHECK_THAT(input_error_of([&] { s.get_size("M", 2, 100); }), Contains("--M must be in 2..100, got -1"));
  s.set("M", "18446744073709551616", "--M");
  CHECK_THAT(input_error_of([&] { s.get_size("M", 2, 100); }), Contains("--M must be in 2..100"));
  s.set("seeds", "99999999999999999999", "--seeds");
  CHECK_THAT(input_error_of([&] { s.get_int("seeds", 1, 5); }), Contains("--seeds must be in 1..5"));
  s.set("seeds", "0", "--seeds");
  CHECK_THAT(input_error_of([&] { s.get_int("seeds", 1, std::numeric_limits<long long>::max()); }),
             Contains("--seeds must be >= 1, got 0"));
  s.set("M", "2:18446744073709551615:x2", "--M");
  CHECK_THAT(input_error_of([&] { s.get_sizes("M", 2); }), Contains("--M entries must be <= 9007199254740992"));
  s.set("M", "5,3000000000", "--M");
  CHECK_THAT(input_error_of([&] { s.get_sizes("M", 2, 2147483647); }),
             Contains("--M entries must be <= 2147483647, got 3000000000"));
  s.set("max-memory", "8G", "--max-memory");
  CHECK(s.get_bytes("max-memory") == (std::uint64_t{8} << 30));
  CHECK(memory_budget(s).bytes == 8.0 * (1 << 30));
}

TEST_CASE("memory estimates name the budget and what to lower", "[hostile]") {
  MemoryEstimate need;
  need.add("Gram matrix", 3.0 * (1 << 20));
  CHECK_NOTHROW(need.check({4.0 * (1 << 20), "--max-memory 4M"}, "fit pairwise", "lower --knots"));
  CHECK_THAT(input_error_of([&] { need.check({1 << 20, "--max-memory 1M"}, "fit pairwise", "lower --knots"); }),
             Contains("fit pairwise needs about 3 MiB of memory (Gram matrix: 3 MiB), more than the budget of 1 MiB "
                      "(--max-memory 1M); lower --knots, or raise --max-memory"));
}

TEST_CASE("activation parameters: ranges that double precision can represent, with the reason", "[hostile]") {
  CHECK_NOTHROW(Activation::parse("weierstrass:0.16"));
  CHECK_NOTHROW(Activation::parse("weierstrass:127"));
  CHECK_NOTHROW(Activation::parse("kink:64"));
  CHECK_THAT(input_error_of([] { Activation::parse("weierstrass:0.159"); }), Contains("b >= 0.16") && Contains("2^52"));
  CHECK_THAT(input_error_of([] { Activation::parse("weierstrass:1e-300"); }), Contains("b >= 0.16"));
  CHECK_THAT(input_error_of([] { Activation::parse("weierstrass:1e308"); }), Contains("b <= 127") && Contains("underflows"));
  CHECK_THAT(input_error_of([] { Activation::parse("kink:65"); }), Contains("b <= 64") && Contains("overflows"));
  // Large smoothness: the default degree is capped in double, never an overflowed int.
  CHECK(Activation::parse("weierstrass:127").default_degree() == BSplineBasis::max_degree);
  CHECK(Activation::parse("kink:64").default_degree() == BSplineBasis::max_degree);
  // The smallest b still has a non-zero, non-constant phi.
  const Activation phi = Activation::parse("weierstrass:0.16");
  CHECK(phi(0.1) != phi(0.2));
}

TEST_CASE("input files: only regular files and FIFOs, within the size and line limits", "[hostile]") {
  Scratch tmp;
  const ReadLimits small{100, 8};
  CHECK_THAT(input_error_of([] { InputFile("/dev/zero", kDataReadLimits); }),
             Contains("/dev/zero: a character device, not a file to read"));
  CHECK_THAT(input_error_of([&] { InputFile(tmp.dir, kDataReadLimits); }), Contains(": a directory, not a file to read"));
  CHECK_THAT(input_error_of([&] { InputFile(tmp.dir / "missing", kDataReadLimits); }), Contains("cannot open"));
  const fs::path big = tmp.file("big.csv", std::string(101, 'x'));
  CHECK_THAT(input_error_of([&] { InputFile(big, small); }),
             Contains("big.csv: larger than 100 bytes") && Contains("--max-input-size"));
  const fs::path lines = tmp.file("lines.toml", "a = 1\nbbbbbbbbb = 2\n");
  CHECK_THAT(input_error_of([&] { read_text_file(lines, small); }),
             Contains("lines.toml:2: line longer than 8 bytes") && Contains("--max-line-length"));
  CHECK(read_text_file(lines, {100, 13}) == "a = 1\nbbbbbbbbb = 2\n");

  // A FIFO is read as a stream and cut off when it passes the limit.
  const fs::path fifo = tmp.dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << std::string(200, '\n'); });
  CHECK_THAT(input_error_of([&] { read_text_file(fifo, small); }), Contains("pipe: larger than 100 bytes"));
  writer.join();
}

TEST_CASE("data readers: long lines are refused where they start", "[hostile]") {
  Scratch tmp;
  const fs::path p = tmp.file("d.csv", "sample,token,x1,y\n0,0," + std::string(64, '1') + ",1\n");
  CHECK_THAT(input_error_of([&] { read_pairwise_csv(p, {1 << 20, 32}); }), Contains("d.csv:2: line longer than 32 bytes"));
  CHECK_THAT(input_error_of([&] { read_matrix_csv(p, 0, {1 << 20, 16}); }), Contains("d.csv:1: line longer than 16 bytes"));
  CHECK_THAT(input_error_of([&] { read_pairwise_csv(p, {16, 1 << 20}); }), Contains("d.csv: larger than 16 bytes"));
}

TEST_CASE("settings files: bounded, and directories or devices refused", "[hostile]") {
  Scratch tmp;
  Settings s({{"sigma", "1", ""}});
  CHECK_THAT(input_error_of([&] { s.load_toml(tmp.dir); }), Contains("a directory, not a file to read"));
  CHECK_THAT(input_error_of([&] { s.load_toml("/dev/zero"); }), Contains("a character device"));
  const fs::path p = tmp.file("s.toml", "sigma = 2\n");
  CHECK_THAT(input_error_of([&] { s.load_toml(p, {4, 100}); }), Contains("s.toml: larger than 4 bytes"));
  s.load_toml(p);
  CHECK(s.raw("sigma") == "2");
  s.load_toml(tmp.file("bom.toml", "\xEF\xBB\xBFsigma = 3\n"));  // an editor's byte order mark
  CHECK(s.raw("sigma") == "3");
  // A TOML float stays a float, as on the command line: an integer option refuses 5.0.
  Settings t({{"sigma", "1", ""}, {"seeds", "4", ""}});
  t.load_toml(tmp.file("f.toml", "sigma = 0.1\nseeds = 5.0\n"));
  CHECK(t.raw("sigma") == "0.1");
  CHECK(t.get_double("sigma", 0.0, 1.0) == 0.1);
  CHECK(t.raw("seeds") == "5.0");
  CHECK_THAT(input_error_of([&] { t.get_int("seeds", 1, 100); }), Contains("integer"));
}

TEST_CASE("atomic writes: only over regular files, through symlinks, temp files never left", "[hostile]") {
  Scratch tmp;
  const fs::path target = tmp.file("out.json", "old");
  const auto inode = [](const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_ino;
  };
  const auto before = inode(target);
  write_file_atomic(target, "new");
  CHECK(slurp(target) == "new");
  CHECK(inode(target) != before);  // renamed over, not rewritten in place

  SECTION("directories, FIFOs and dangling symlinks are refused before a temp file exists") {
    CHECK_THAT(input_error_of([&] { write_file_atomic(tmp.dir, "x"); }), Contains(": a directory; attnrate writes only"));
    const fs::path fifo = tmp.dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(input_error_of([&] { write_file_atomic(fifo, "x"); }), Contains("fifo: a FIFO (named pipe)"));
    CHECK(fs::is_fifo(fifo));
    fs::create_symlink(tmp.dir / "nowhere", tmp.dir / "dangling");
    CHECK_THAT(input_error_of([&] { write_file_atomic(tmp.dir / "dangling", "x"); }),
               Contains("a symbolic link that does not lead to a regular file"));
    fs::create_symlink(fifo, tmp.dir / "to_fifo");
    CHECK_THAT(input_error_of([&] { write_file_atomic(tmp.dir / "to_fifo", "x"); }),
               Contains("a symbolic link that does not lead to a regular file"));
    CHECK(!has_temp_files(tmp.dir));
  }
  SECTION("a symlink to a regular file is followed; the link stays") {
    fs::create_symlink(target, tmp.dir / "link.json");
    write_file_atomic(tmp.dir / "link.json", "through");
    CHECK(fs::is_symlink(tmp.dir / "link.json"));
    CHECK(slurp(target) == "through");
  }
  SECTION("an abandoned or failed write removes its temp file and keeps the old content") {
    {
      AtomicFile f(target);
      f.write("partial");
      CHECK(has_temp_files(tmp.dir));
    }
    CHECK(!has_temp_files(tmp.dir));
    CHECK(slurp(target) == "new");
    AtomicFile f(target);
    f.write("late");
    fs::remove(target);
    fs::create_directory(target);  // the target turned into a folder before the rename
    CHECK_THROWS_AS(f.commit(), InputError);
    CHECK(!has_temp_files(tmp.dir));
    CHECK(fs::is_directory(target));
  }
  SECTION("an output may not be an input of the run, also through links") {
    const fs::path data = tmp.file("data.csv", "x");
    fs::create_symlink(data, tmp.dir / "alias.csv");
    fs::create_hard_link(data, tmp.dir / "hard.csv");
    for (const char* name : {"data.csv", "alias.csv", "hard.csv"})
      CHECK_THAT(input_error_of([&] { check_outputs({{"--out", tmp.dir / name}}, {{"--data", data}}); }),
                 Contains("is the same file as --data"));
    CHECK_NOTHROW(check_outputs({{"--out", tmp.dir / "fit.json"}}, {{"--data", data}}));
  }
  CHECK(sidecar_path("run/data.csv", ".A.csv") == fs::path("run/data.A.csv"));
  CHECK(sidecar_path("fit.json", ".phi.csv") == fs::path("fit.phi.csv"));
}

TEST_CASE("output lock: one run per folder, released when the holder ends, no empty folder left", "[hostile]") {
  Scratch tmp;
  const fs::path out = tmp.dir / "results";
  {
    OutputLock first(out);
    CHECK(fs::is_directory(out));
    CHECK_THAT(input_error_of([&] { OutputLock second(out); }),
               Contains("--out " + out.string() + " is in use by another attnrate run (pid " + std::to_string(::getpid()) +
                        ")"));
  }
  CHECK(!fs::exists(out));  // created by the lock and left empty: removed again
  {
    OutputLock lock(out);
    tmp.file("results/summary.json", "{}");
  }
  CHECK(fs::is_regular_file(out / "summary.json"));  // a folder with outputs stays
  CHECK_NOTHROW(OutputLock(out));
  CHECK(fs::exists(out / OutputLock::kFileName));
  const fs::path file = tmp.file("plain", "x");
  CHECK_THAT(input_error_of([&] { OutputLock lock(file); }), Contains("is a regular file; it must be a folder"));
}

TEST_CASE("output set: the new set replaces the old one whole, or the old one stays", "[hostile]") {
  Scratch s;
  const fs::path out = s.dir / "run";
  fs::create_directories(out / "cells");
  std::ofstream(out / "cells" / "c0.json") << "checkpoint";
  {
    OutputSet set(out);
    write_file_atomic(set.staging() / "summary.json", "old summary");
    write_file_atomic(set.staging() / "old.png", "old figure");
    write_file_atomic(set.staging() / "sub" / "x.csv", "old table");
    set.commit();
  }
  CHECK(slurp(out / "summary.json") == "old summary");
  CHECK(slurp(out / "sub" / "x.csv") == "old table");
  CHECK(slurp(out / OutputSet::kManifestName) == "old.png\nsub/x.csv\nsummary.json\n");
  CHECK_FALSE(fs::exists(out / OutputSet::kStagingName));

  SECTION("a run that fails before commit leaves the old set and no staging folder") {
    try {
      OutputSet set(out);
      write_file_atomic(set.staging() / "summary.json", "new summary");
      write_file_atomic(set.staging() / "new.png", "half");
      throw std::runtime_error("plot failed");
    } catch (const std::runtime_error&) {
    }
    CHECK(slurp(out / "summary.json") == "old summary");
    CHECK(slurp(out / "old.png") == "old figure");
    CHECK_FALSE(fs::exists(out / "new.png"));
    CHECK_FALSE(fs::exists(out / OutputSet::kStagingName));
    CHECK(slurp(out / "cells" / "c0.json") == "checkpoint");
  }
  SECTION("a commit removes what the old set had and the new one lacks, never checkpoints") {
    OutputSet set(out);
    write_file_atomic(set.staging() / "summary.json", "new summary");
    write_file_atomic(set.staging() / "new.png", "new figure");
    set.commit();
    CHECK(slurp(out / "summary.json") == "new summary");
    CHECK(slurp(out / "new.png") == "new figure");
    CHECK_FALSE(fs::exists(out / "old.png"));
    CHECK_FALSE(fs::exists(out / "sub" / "x.csv"));
    CHECK(slurp(out / "cells" / "c0.json") == "checkpoint");
    CHECK_FALSE(fs::exists(out / OutputSet::kCommitName));
  }
  SECTION("a commit that died after its commit point is completed by the next run") {
    fs::create_directories(out / OutputSet::kCommitName);
    std::ofstream(out / OutputSet::kCommitName / "summary.json") << "new summary";
    std::ofstream(out / OutputSet::kCommitName / OutputSet::kManifestName) << "new.png\nsummary.json\n";
    std::ofstream(out / "new.png") << "new figure";  // moved before the crash
    OutputSet next(out);
    CHECK(slurp(out / "summary.json") == "new summary");
    CHECK(slurp(out / "new.png") == "new figure");
    CHECK_FALSE(fs::exists(out / "old.png"));
    CHECK_FALSE(fs::exists(out / OutputSet::kCommitName));
  }
  SECTION("a staging folder of a run that died is discarded") {
    fs::create_directories(out / OutputSet::kStagingName);
    std::ofstream(out / OutputSet::kStagingName / "summary.json") << "half";
    recover_output_set(out);
    CHECK_FALSE(fs::exists(out / OutputSet::kStagingName));
    CHECK(slurp(out / "summary.json") == "old summary");
  }
  SECTION("a folder where a file goes is refused before anything moves") {
    fs::remove(out / "old.png");
    fs::create_directories(out / "new.png");
    OutputSet set(out);
    write_file_atomic(set.staging() / "summary.json", "new summary");
    write_file_atomic(set.staging() / "new.png", "new figure");
    CHECK_THAT(input_error_of([&] { set.commit(); }), Contains("new.png: a directory"));
    CHECK(slurp(out / "summary.json") == "old summary");
  }
  SECTION("a hostile output list never reaches outside the folder") {
    const fs::path outside = s.file("outside", "keep");
    fs::create_directory_symlink(s.dir, out / "link");
    std::ofstream(out / OutputSet::kManifestName)
        << "../outside\n" << outside.string() << "\nlink/outside\n.attnrate.lock\ncells/c0.json\n";
    OutputSet set(out);
    write_file_atomic(set.staging() / "summary.json", "new summary");
    set.commit();
    CHECK(slurp(outside) == "keep");
    CHECK(slurp(out / "cells" / "c0.json") == "checkpoint");
  }
}

TEST_CASE("output set: list entries", "[hostile]") {
  CHECK(parse_output_manifest("a.png\n../x\n/etc/passwd\n.hidden\ncells/c.json\nsub/b.csv\n\nq/../r\n") ==
        std::vector<std::string>{"a.png", "sub/b.csv"});
}

TEST_CASE("study sizes: weighed against the memory budget before the run", "[hostile]") {
  const auto settings = [](const std::string& study, std::vector<std::pair<std::string, std::string>> opts) {
    std::vector<KeySpec> keys;
    for (const auto& [k, v] : opts) keys.push_back({k, v, ""});
    keys.push_back(study_memory_key());
    Settings st(keys);
    (void)study;
    return st;
  };
  Settings small = settings("minimax-rate", {{"N", "8"}, {"d", "5"}, {"M", "500:64000:x2"}, {"test-pairs", "100000"},
                                             {"knots", "auto"}});
  small.set("max-memory", "1G", "--max-memory");
  CHECK_NOTHROW(check_study_memory("minimax-rate", small));
  small.set("test-pairs", "1000000000", "--test-pairs");
  CHECK_THAT(input_error_of([&] { check_study_memory("minimax-rate", small); }),
             Contains("study minimax-rate: --test-pairs 1000000000 with --d 5 needs about 82") &&
                 Contains("the memory budget is 1 GiB (--max-memory 1G); lower --test-pairs, or raise --max-memory"));
  Settings heads = settings("heads", {{"N", "4"}, {"d", "8"}, {"heads", "256:2048:x2"}, {"n", "1000000"},
                                      {"test-n", "10000"}});
  heads.set("max-memory", "64G", "--max-memory");
  CHECK_THAT(input_error_of([&] { check_study_memory("heads", heads); }),
             Contains("--n 1000000 with --test-n 10000 needs about 14.6 TiB of kernel matrices"));
  // Ridge on 256 (8 + 1) = 2304 features, n = 4000: the GCV search's Gram matrix, eigenvectors and
  // dsyevd workspace, 4 x 2304^2 doubles = 162 MiB; both models' train and test features
  // 2 (4000 + 10000) 2304 doubles = 492 MiB.
  Settings ridge = settings("rfa-vs-mlp", {{"N", "2"}, {"d", "8"}, {"heads", "256"}, {"n", "1000,4000"},
                                           {"test-n", "10000"}});
  ridge.set("max-memory", "100M", "--max-memory");
  CHECK_THAT(input_error_of([&] { check_study_memory("rfa-vs-mlp", ridge); }),
             Contains("feature matrices 492 MiB, ridge Gram matrices 162 MiB"));
}
