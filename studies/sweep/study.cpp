#include "studies/sweep/study.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "studies/io/output.hpp"

namespace attnrate {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;
volatile std::sig_atomic_t g_at_once = 0;
volatile std::sig_atomic_t g_deferring = 0;  // inside InterruptsDeferred in the at_once mode

void write_stderr(const char* text) {
  std::size_t n = 0;
  while (text[n] != '\0') ++n;
  (void)!::write(STDERR_FILENO, text, n);
}

// Async-signal-safe: write(2), unlink(2) (remove_unfinished_outputs) and _exit(2) only.
extern "C" void on_signal(int signal) {
  if (!g_at_once) {
    if (g_deferring && !g_interrupted) write_stderr("\nattnrate: interrupted; finishing the outputs first\n");
    g_interrupted = signal;
    return;
  }
  remove_unfinished_outputs();
  write_stderr(signal == SIGTERM ? "\nattnrate: interrupted (SIGTERM); unfinished outputs removed\n"
                                 : "\nattnrate: interrupted (SIGINT); unfinished outputs removed\n");
  ::_exit(128 + signal);
}
}  // namespace

void set_interrupt_mode(InterruptMode mode) { g_at_once = mode == InterruptMode::at_once ? 1 : 0; }

InterruptsDeferred::InterruptsDeferred() noexcept : saved_mode_(g_at_once) {
  g_deferring = saved_mode_;
  g_at_once = 0;
}

InterruptsDeferred::~InterruptsDeferred() {
  g_deferring = 0;
  g_at_once = saved_mode_;
  if (!saved_mode_ || !g_interrupted || std::uncaught_exceptions() > 0) return;
  remove_unfinished_outputs();  // any other output still open is unfinished
  const int signal = static_cast<int>(g_interrupted);
  std::cerr << "\nattnrate: interrupted (" << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ") while writing; the outputs were completed first\n";
  std::_Exit(128 + signal);
}

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool interrupt_requested() noexcept { return g_interrupted != 0; }

int interrupt_signal() noexcept { return g_interrupted ? static_cast<int>(g_interrupted) : SIGINT; }

void throw_if_interrupted() {
  if (g_interrupted) throw Interrupted();
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0) {
  start_ = last_print_ = std::chrono::steady_clock::now();
}

void Progress::done_one() {
  ++done_;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (!tty_ && since < 10.0 && done_ != total_) return;
  last_print_ = now;
  const double eta = done_ ? elapsed / done_ * (total_ - done_) : 0.0;
  char line[256];
  std::snprintf(line, sizeof line, "%s: %zu/%zu cells, %.1f s elapsed, ETA %.0f s", label_.c_str(), done_, total_,
                elapsed, eta);
  if (tty_) std::cerr << "\r\033[K" << line << std::flush;
  else std::cerr << line << "\n";
}

Progress StudyContext::progress_of(const std::string& label, std::size_t total) const {
  if (share.size == 1) return Progress(label, total, progress);
  return Progress(label + " (rank 0 of " + std::to_string(share.size) + ", own cells)", share.owned_count(total),
                  progress && share.root());
}

void Progress::finish() {
  if (enabled_ && tty_) std::cerr << "\n";
}

}  // namespace attnrate
