#include "studies/sweep/study.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include <cstdio>
#include <iostream>

namespace attnrate {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_signal(int signal) { g_interrupted = signal; }
}  // namespace

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

nlohmann::json slope_claim_json(const std::string& id, const std::string& statement, double theory_slope,
                                const SlopeFit& fit, double tolerance, double max_ci_width, Verdict verdict) {
  nlohmann::json c;
  c["id"] = id;
  c["statement"] = statement;
  c["quantity"] = "slope";
  c["theory_value"] = theory_slope;
  c["theory_slope"] = theory_slope;
  c["measured"] = fit.slope;
  c["slope"] = fit.slope;
  c["intercept"] = fit.intercept;
  c["slope_se"] = fit.slope_se;
  c["ci_t"] = {fit.ci_t_lo, fit.ci_t_hi};
  c["ci_boot"] = {fit.ci_boot_lo, fit.ci_boot_hi};
  c["ci_level"] = fit.level;
  c["bootstrap_resamples"] = fit.bootstrap_resamples;
  c["cells_used"] = fit.n;
  c["tolerance"] = tolerance;
  c["max_ci_width"] = max_ci_width;
  c["verdict_rule"] =
      "judged on the hull of ci_t and ci_boot: inconclusive if wider than max_ci_width, consistent if the theory "
      "value lies within tolerance of it, inconsistent otherwise";
  c["verdict"] = to_string(verdict);
  return c;
}

int claims_exit_code(const nlohmann::json& claims) {
  for (const auto& c : claims)
    if (c.at("verdict") != "consistent") return 1;
  return 0;
}

}  // namespace attnrate
