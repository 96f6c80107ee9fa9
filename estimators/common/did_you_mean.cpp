#include "estimators/common/did_you_mean.hpp"

#include <algorithm>

namespace attnrate {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = 0;
  for (const auto& c : candidates) {
    // Close: at most half the longer name (at least 3) edits, so "tokens" finds "token-laws"
    // as "--tokens" finds "--token-laws".
    const std::size_t d = edit_distance(word, c), limit = std::max<std::size_t>(3, std::max(word.size(), c.size()) / 2);
    if (d <= limit && (best.empty() || d < best_d)) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string hint = closest_match(word, candidates);
  return hint.empty() ? std::string() : "; did you mean '" + hint + "'?";
}

}  // namespace attnrate
