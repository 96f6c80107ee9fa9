#include "studies/io/shell_quote.hpp"

namespace attnrate {

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n\r'\"$`\\*?;&|<>()[]{}!#~=%^") == std::string::npos) return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

std::string shell_command_line(int argc, const char* const* argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + shell_quote(argv[i]);
  return line;
}

}  // namespace attnrate
