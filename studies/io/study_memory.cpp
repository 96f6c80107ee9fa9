#include "studies/io/study_memory.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "studies/io/byte_size.hpp"
#include "studies/io/memory_budget.hpp"

namespace attnrate {
namespace {

constexpr double kDouble = 8.0;
// Basis functions beyond the pieces: degree + 1 at most (degree <= 10).
constexpr double kExtraBasis = 11.0;

// One big array: which options size it, what it is, its bytes, the options that shrink it.
struct Need {
  std::string sizes;  // "--test-pairs 1000000 with --d 5"
  std::string what;   // "test token pairs"
  double bytes = 0;
  std::string remedy;  // "--test-pairs"
};

std::string num(double v) {
  std::ostringstream s;
  s.precision(15);
  s << v;
  return s.str();
}

// Largest entry of a list or grid option (a single value is a list of one); 0 when absent.
double largest(const Settings& s, const std::string& key) {
  const auto v = s.get_sizes(key, 0);
  return v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end()));
}

double count(const Settings& s, const std::string& key) { return static_cast<double>(s.get_size(key, 0, ~0ULL)); }

// Training samples of the pairwise model: X is d x (M N), Y has M N entries (pairwise_model.hpp).
Need pairwise_samples(double M, double N, double d, const std::string& options) {
  return {"--M " + num(M) + " with " + options, "training tokens", kDouble * M * N * (d + 1), "--M"};
}

// Fresh token pairs for the L2(rho) error or Gram matrix: d x 2T plus T interactions.
Need token_pairs(const std::string& key, double T, double d) {
  return {"--" + key + " " + num(T) + " with --d " + num(d), "fresh token pairs", kDouble * T * (2 * d + 1), "--" + key};
}

// The normal matrix and the L2(rho) Gram matrix of K pieces (and their factors).
Need spline_normal_equations(double K) {
  const double p = K + kExtraBasis;
  return {"--knots " + num(K), "normal equations", 4 * kDouble * p * p, "--knots"};
}

// Attention inputs: per sample a query and N keys of dimension d.
Need attention_inputs(double n, double test_n, double N, double d, const std::string& n_option) {
  return {"--" + n_option + " " + num(n) + " and --test-n " + num(test_n) + " with --N " + num(N) + ", --d " + num(d),
          "attention inputs", kDouble * (n + test_n) * (N + 1) * d, "--" + n_option + " or --test-n"};
}

// Random-feature matrices, n x heads (d+1) for training and test, `models` of them.
Need feature_matrices(double n, double test_n, double heads, double d, double models, const std::string& heads_text) {
  return {"--heads " + heads_text + " with --d " + num(d) + ", --n " + num(n) + ", --test-n " + num(test_n),
          "feature matrices", kDouble * models * (n + test_n) * heads * (d + 1), "--heads, --n or --test-n"};
}

// Ridge on the smaller side: a Gram matrix, its eigenvectors and LAPACK's dsyevd workspace
// (1 + 6 side + 2 side^2 doubles) for the GCV / k-fold search: 4 side^2 at the peak.
Need ridge_gram(double n, double features, const std::string& heads_text) {
  const double side = std::min(n, features);
  return {"--n " + num(n) + " with --heads " + heads_text, "ridge Gram matrices", 4 * kDouble * side * side,
          "--n or --heads"};
}

// Kernel ridge: the n x n training kernel (and its factor) and the test x n cross kernel.
Need kernel_matrices(double n, double test_n) {
  return {"--n " + num(n) + " with --test-n " + num(test_n), "kernel matrices", kDouble * (2 * n * n + test_n * n),
          "--n or --test-n"};
}

std::vector<Need> pairwise_known(const std::string& study, const Settings& s) {
  const double N = count(s, "N"), d = count(s, "d");
  std::vector<Need> out;
  const std::string nd = "--N " + num(N) + ", --d " + num(d);
  if (study == "coercivity") {
    out.push_back(pairwise_samples(largest(s, "M"), N, d, nd));
    out.push_back(token_pairs("gram-pairs", count(s, "gram-pairs"), d));
    out.push_back(spline_normal_equations(count(s, "knots")));
    return out;
  }
  out.push_back(pairwise_samples(largest(s, "M"), N, d, nd));
  out.push_back(token_pairs("test-pairs", count(s, "test-pairs"), d));
  if (s.raw("knots") != "auto") out.push_back(spline_normal_equations(largest(s, "knots")));
  if (study == "minimax-rate" && s.has_key("schedule") && s.raw("schedule") == "adaptive") {
    // One system per fold at the top of the K grid (at most max-knots, auto M / ln(M)^2), plus the
    // combined ones and a solve's copies.
    const double M = largest(s, "M");
    const double top = s.raw("max-knots") != "auto" ? count(s, "max-knots")
                                                     : std::max(1.0, std::floor(M / (std::log(M) * std::log(M))));
    const double p = top + kExtraBasis;
    out.push_back({"--M " + num(M) + " with --schedule adaptive (K up to " + num(top) + ")",
                   "per-fold normal equations", kDouble * (count(s, "folds") + 4) * p * p, "--max-knots or --M"});
  }
  return out;
}

// dimension-free, smoothness and rank-condition: the series fit with A unknown (and A known).
std::vector<Need> pairwise_series(const std::string& study, const Settings& s) {
  double N = count(s, "N"), d = 0, M = largest(s, "M");
  std::string options;
  if (study == "dimension-free") {
    d = count(s, "d");
    const double dmax = std::max(d, largest(s, "d-values")), Nmax = std::max(N, largest(s, "N-values"));
    // The widest series member: the d series at N, or the N series at d.
    const bool d_series = dmax * (N + 1) >= Nmax * (d + 1);
    options = d_series ? "--N " + num(N) + ", --d-values up to " + num(dmax)
                       : "--N-values up to " + num(Nmax) + ", --d " + num(d);
    if (d_series) d = dmax;
    else N = Nmax;
  } else if (study == "rank-condition") {
    d = largest(s, "d-values");
    options = "--N " + num(N) + ", --d-values up to " + num(d);
  } else {  // smoothness
    d = count(s, "d");
    M = std::max(M, largest(s, "M-known"));
    options = "--N " + num(N) + ", --d " + num(d);
  }
  std::vector<Need> out{pairwise_samples(M, N, d, options), token_pairs("test-pairs", count(s, "test-pairs"), d)};
  if (study == "smoothness") out.front().remedy = "--M or --M-known";
  return out;
}

std::vector<Need> rfa(const std::string& study, const Settings& s) {
  const double test_n = count(s, "test-n");
  if (study == "kernel-limit") {
    const double n = largest(s, "n"), N = largest(s, "N"), d = count(s, "d");
    return {attention_inputs(n, test_n, N, d, "n"), kernel_matrices(n, test_n)};
  }
  if (study == "heads") {
    const double n = count(s, "n"), N = count(s, "N"), d = count(s, "d"), H = largest(s, "heads");
    return {attention_inputs(n, test_n, N, d, "n"), feature_matrices(n, test_n, H, d, 1, "up to " + num(H)),
            kernel_matrices(n, test_n)};
  }
  // rfa-vs-mlp, biased-weights, target-complexity: ridge on random features.
  const double n = largest(s, "n"), N = largest(s, "N"), d = largest(s, "d"), H = count(s, "heads");
  const double models = study == "rfa-vs-mlp" ? 2 : 1;  // the RF-MLP has as many features as RFA
  return {attention_inputs(n, test_n, N, d, "n"), feature_matrices(n, test_n, H, d, models, num(H)),
          ridge_gram(n, H * (d + 1), num(H))};
}

std::vector<Need> needs_of(const std::string& study, const Settings& s) {
  if (study == "minimax-rate" || study == "approximation" || study == "coercivity") return pairwise_known(study, s);
  if (study == "dimension-free" || study == "smoothness" || study == "rank-condition") return pairwise_series(study, s);
  if (study == "rfa-vs-mlp" || study == "biased-weights" || study == "target-complexity" || study == "kernel-limit" ||
      study == "heads")
    return rfa(study, s);
  return {};
}

}  // namespace

KeySpec study_memory_key() {
  return {"max-memory", "auto",
          "memory budget, e.g. 8G (auto: 3/4 of physical memory); runs whose largest arrays need more are refused "
          "before they start",
          "SIZE|auto"};
}

void check_study_memory(const std::string& study, const Settings& s) {
  const MemoryBudget budget = memory_budget(s);
  const std::vector<Need> needs = needs_of(study, s);
  double total = 0;
  for (const auto& n : needs) total += n.bytes;
  if (!(total > budget.bytes)) return;
  const Need& big = *std::max_element(needs.begin(), needs.end(),
                                      [](const Need& a, const Need& b) { return a.bytes < b.bytes; });
  std::string msg = "study " + study + ": " + big.sizes + " needs about " + format_bytes(big.bytes) + " of " + big.what;
  msg += " (estimate for the largest cell: " + format_bytes(total) + " in all; ";
  bool first = true;
  for (const auto& n : needs) {
    if (!first) msg += ", ";
    first = false;
    msg += n.what + " " + format_bytes(n.bytes);
  }
  msg += "); the memory budget is " + format_bytes(budget.bytes) + " (" + budget.origin + "); lower " + big.remedy +
         ", or raise --max-memory";
  throw InputError(msg);
}

}  // namespace attnrate
