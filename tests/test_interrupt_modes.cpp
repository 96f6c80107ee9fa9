// What SIGINT and SIGTERM do in the two interrupt modes, each run in a forked child (the at_once
// mode ends the process): between cells only a flag is set; at once the temporary files of the
// unfinished outputs are removed and the process exits 128 + signal; inside InterruptsDeferred the
// signal waits for the end of the scope, whose outputs are then complete.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "studies/io/output.hpp"
#include "studies/sweep/study.hpp"

namespace {

namespace fs = std::filesystem;

// Runs body in a child process and returns its exit status (-1 if it did not exit normally).
int in_child(const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    std::_Exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("attnrate-interrupt-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("Interrupts between cells only set the flag", "[interrupt]") {
  const int status = in_child([] {
    attnrate::install_interrupt_handler();
    attnrate::set_interrupt_mode(attnrate::InterruptMode::between_cells);
    std::raise(SIGTERM);
    std::_Exit(attnrate::interrupt_requested() && attnrate::interrupt_signal() == SIGTERM ? 7 : 1);
  });
  REQUIRE(status == 7);
}

TEST_CASE("Interrupts at once remove the unfinished outputs and exit 128 + signal", "[interrupt]") {
  const fs::path dir = scratch("at-once");
  std::ofstream(dir / "out.json") << "old\n";
  for (int signal : {SIGINT, SIGTERM}) {
    const int status = in_child([&] {
      attnrate::install_interrupt_handler();
      attnrate::set_interrupt_mode(attnrate::InterruptMode::at_once);
      attnrate::AtomicFile f(dir / "out.json");
      f.write("half of the new content");
      std::raise(signal);
      std::_Exit(1);  // not reached
    });
    CHECK(status == 128 + signal);
    CHECK(files_in(dir) == 1);  // no out.json.tmp.* left
    std::ifstream in(dir / "out.json");
    std::string line;
    std::getline(in, line);
    CHECK(line == "old");
  }
  fs::remove_all(dir);
}

TEST_CASE("InterruptsDeferred: a signal waits for the scope, whose outputs are complete", "[interrupt]") {
  const fs::path dir = scratch("deferred");
  const int status = in_child([&] {
    attnrate::install_interrupt_handler();
    attnrate::set_interrupt_mode(attnrate::InterruptMode::at_once);
    {
      const attnrate::InterruptsDeferred one_set;
      attnrate::write_file_atomic(dir / "a.json", "a\n");
      std::raise(SIGINT);
      attnrate::write_file_atomic(dir / "b.csv", "b\n");
    }
    std::_Exit(1);  // not reached: the scope's end exits
  });
  CHECK(status == 130);
  CHECK(fs::exists(dir / "a.json"));
  CHECK(fs::exists(dir / "b.csv"));
  CHECK(files_in(dir) == 2);

  // Ended by an exception, the scope lets it go on (the run then reports its error).
  const int thrown = in_child([&] {
    attnrate::install_interrupt_handler();
    attnrate::set_interrupt_mode(attnrate::InterruptMode::at_once);
    try {
      const attnrate::InterruptsDeferred one_set;
      std::raise(SIGINT);
      throw std::runtime_error("disk full");
    } catch (const std::runtime_error&) {
      std::_Exit(9);
    }
  });
  CHECK(thrown == 9);
  fs::remove_all(dir);
}
