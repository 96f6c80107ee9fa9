#pragma once
// "Did you mean ...?" for unknown names in user input (options, studies, keys, claim fields).
#include <string>
#include <vector>

namespace attnrate {

/// Closest candidate by Levenshtein distance, if within max(3, |word| / 2); empty otherwise.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// "; did you mean 'x'?" for the closest candidate, or "" when none is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace attnrate
