#pragma once
// Reading claims files (TOML, format in docs/claims.md). A file holds [[claim]] tables; every
// field is checked against what the studies offer (a StudyCatalog the caller builds from the
// study registry), so that nothing runs until every claim of every file is valid. Messages
// carry file:line and, for unknown names, the closest valid one.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "theory/claims/claim.hpp"

namespace attnrate {

/// What a study offers to claims: its option names and, per quantity, the keys a claim may
/// select on.
struct StudyCatalogEntry {
  std::string name;
  std::vector<std::string> options;
  std::map<std::string, std::vector<std::string>> quantities;
};
using StudyCatalog = std::vector<StudyCatalogEntry>;

/// Largest claims file read (bytes); larger files are refused before parsing.
inline constexpr std::size_t kMaxClaimsFileBytes = 1 << 20;

/// Parses one claims file's text. `file_name` is used in messages only. Throws InputError whose
/// message lists every problem found, one per line, as "file:line: what" (unknown study,
/// quantity, option or select key with a did-you-mean; wrong types; a missing field; a bad id;
/// duplicate ids within the text; non-ASCII bytes; TOML syntax errors).
std::vector<Claim> parse_claims(std::string_view text, const std::string& file_name, const StudyCatalog& catalog);

/// Reads a claims file, or every *.toml file of a folder (sorted by name, not recursive).
/// Refuses what is not a regular file or a folder, files over kMaxClaimsFileBytes and folders
/// without *.toml files.
std::vector<Claim> load_claims(const std::filesystem::path& path, const StudyCatalog& catalog);

/// Throws InputError naming both places when two claims share an id.
void check_unique_ids(const std::vector<Claim>& claims);

}  // namespace attnrate
