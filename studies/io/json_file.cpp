#include "studies/io/json_file.hpp"

#include <algorithm>

#include "estimators/common/input_error.hpp"

namespace attnrate {

namespace {

// "line:column" of byte `at` of text (both from 1).
std::string position(const std::string& text, std::size_t at) {
  std::size_t line = 1, column = 1;
  for (std::size_t k = 0; k < std::min(at, text.size()); ++k) {
    if (text[k] == '\n')
      ++line, column = 1;
    else
      ++column;
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

nlohmann::json read_json_file(const std::filesystem::path& path, const ReadLimits& limits, const std::string& hint) {
  const std::string text = read_text_file(path, limits);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann counts bytes from 1; e.byte is one past the byte where parsing stopped.
    std::string what = e.what();
    if (const auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    throw InputError(path.string() + ":" + position(text, e.byte > 0 ? e.byte - 1 : 0) + ": not valid JSON (" + what +
                     "); " + hint);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond the doubles ("number overflow parsing '1e400'"): nlohmann gives no position,
    // so the number's first occurrence in the text stands for it.
    const std::string what = e.what();
    const auto q0 = what.find('\''), q1 = what.rfind('\'');
    std::string where = path.string();
    std::string number;
    if (q0 != std::string::npos && q1 > q0) {
      number = what.substr(q0 + 1, q1 - q0 - 1);
      if (const auto at = text.find(number); at != std::string::npos) where += ":" + position(text, at);
    }
    throw InputError(where + ": the number " + (number.empty() ? std::string("") : number + " ") +
                     "is beyond the range of a double (about 1.8e308); " + hint);
  }
}

}  // namespace attnrate
