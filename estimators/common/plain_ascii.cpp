#include "estimators/common/plain_ascii.hpp"

#include <sstream>

#include "estimators/common/input_error.hpp"

namespace attnrate {

std::string_view without_utf8_bom(std::string_view text) noexcept {
  return text.starts_with("\xEF\xBB\xBF") ? text.substr(3) : text;
}

void require_plain_ascii(std::string_view text, const std::string& file, const std::string& what) {
  std::size_t line = 1, column = 1;
  for (unsigned char ch : text) {
    if (ch >= 0x80 || ch == 0) {
      std::ostringstream m;
      m << file << ":" << line << ":" << column << ": ";
      if (ch) m << "non-ASCII byte 0x" << std::hex << int(ch);
      else m << "NUL byte";
      m << "; " << what << " must be plain ASCII text";
      throw InputError(m.str());
    }
    if (ch == '\n') ++line, column = 1;
    else ++column;
  }
}

}  // namespace attnrate
