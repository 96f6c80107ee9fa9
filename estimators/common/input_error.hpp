#pragma once
// The one exception type for bad user input (options, config files, data files).
// Raised at the boundary with a message a user can act on; the CLI maps it to exit code 2.
#include <stdexcept>
#include <string>

namespace attnrate {

class InputError : public std::invalid_argument {
 public:
  explicit InputError(const std::string& what) : std::invalid_argument(what) {}
};

}  // namespace attnrate
