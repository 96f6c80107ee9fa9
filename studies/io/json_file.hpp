#pragma once
// JSON files a user passes in (a fit.json, a truth.json): read through the bounded reader
// (input_file.hpp) and parsed, with a syntax error reported at its line and column.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "studies/io/input_file.hpp"

namespace attnrate {

/// The JSON value in `path`. Throws InputError for what read_text_file refuses, and for a syntax
/// error as "<path>:<line>:<column>: not valid JSON (<parser message>); <hint>" (line and column
/// 1-based, of the byte where parsing stopped).
nlohmann::json read_json_file(const std::filesystem::path& path, const ReadLimits& limits, const std::string& hint);

}  // namespace attnrate
