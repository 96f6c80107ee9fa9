#pragma once
// Quoting for command lines that are shown to be pasted into a POSIX shell (summary.json's
// command_line, a claim's rerun command).
#include <string>

namespace attnrate {

/// `s` as one shell word: unchanged when it is non-empty and holds no character the shell
/// treats specially, else in single quotes (a ' inside written as '\'').
std::string shell_quote(const std::string& s);

/// argv[0..argc) as one shell line, each word quoted by shell_quote.
std::string shell_command_line(int argc, const char* const* argv);

}  // namespace attnrate
