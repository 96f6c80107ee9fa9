#pragma once
// The check every TOML file passes before toml++ reads it: Debian's toml++ 3.3 has undefined
// behaviour on some non-ASCII code points (found by fuzzing), and a NUL byte ends no valid TOML.
#include <string>
#include <string_view>

namespace attnrate {

/// Throws InputError "FILE:LINE:COLUMN: non-ASCII byte 0xNN; WHAT must be plain ASCII text" (or
/// "NUL byte") at the first byte >= 0x80 or == 0 of `text`; `what` names the kind of file, e.g.
/// "claims files".
void require_plain_ascii(std::string_view text, const std::string& file, const std::string& what);

/// `text` without a leading UTF-8 byte order mark (EF BB BF), which some editors write: it is
/// not part of the text, and the data readers skip it too.
std::string_view without_utf8_bom(std::string_view text) noexcept;

}  // namespace attnrate
