#pragma once
// Byte sizes as users write them: "8G", "512M", "1.5G", "4096". Suffixes K, M, G, T are powers
// of 1024 (optionally followed by "B" or "iB": "8GiB", "8GB" are 8 GiB too).
#include <cstdint>
#include <string>

namespace attnrate {

/// Parses a byte size in 1 .. 2^63. Throws InputError "<option> must be a size such as 512M or
/// 8G ..., got '<text>'" otherwise.
std::uint64_t parse_byte_size(const std::string& text, const std::string& option);

/// The exact size in the form parse_byte_size reads, with the largest suffix that divides it:
/// 68719476736 -> "64G", 1000 -> "1000".
std::string byte_size_text(std::uint64_t bytes);

/// "1.5 GiB", "512 MiB", "12 bytes": three significant digits, binary units.
std::string format_bytes(double bytes);

}  // namespace attnrate
