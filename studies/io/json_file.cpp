#include "studies/io/json_file.hpp"

#include <algorithm>

#include "estimators/common/input_error.hpp"

namespace attnrate {

nlohmann::json read_json_file(const std::filesystem::path& path, const ReadLimits& limits, const std::string& hint) {
  const std::string text = read_text_file(path, limits);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann counts bytes from 1; e.byte is one past the byte where parsing stopped.
    const std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t k = 0; k < at; ++k) {
      if (text[k] == '\n')
        ++line, column = 1;
      else
        ++column;
    }
    std::string what = e.what();
    if (const auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    throw InputError(path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": not valid JSON (" +
                     what + "); " + hint);
  }
}

}  // namespace attnrate
