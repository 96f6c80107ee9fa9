#pragma once
// One reading of TOML values as option text, shared by study configuration files
// (studies/io/settings.hpp) and claims files (theory/claims/claims_file.hpp), so that a value means
// the same in both and on the command line.
#include <optional>
#include <string>
#include <toml++/toml.h>

namespace attnrate {

/// A TOML scalar as the command line would spell it: integers in decimal; floats as the shortest
/// decimal that reads back as the same double, and still a float (5.0 is "5.0", so an integer
/// option refuses it as it refuses --seeds 5.0); strings as they are; booleans "true"/"false".
/// nullopt for a non-finite float and for any other node (arrays, tables, dates).
std::optional<std::string> toml_scalar_text(const toml::node& node);

/// toml_scalar_text, or for an array of scalars their texts joined by commas (a list option);
/// nullopt for an empty array or one with an element toml_scalar_text refuses.
std::optional<std::string> toml_option_text(const toml::node& node);

}  // namespace attnrate
