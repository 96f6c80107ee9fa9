#include "studies/io/output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <armadillo>
#include <boost/version.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#ifndef ATTNRATE_GIT_REVISION
#define ATTNRATE_GIT_REVISION "unknown"
#endif
#ifndef ATTNRATE_VERSION
#define ATTNRATE_VERSION "0"
#endif

extern "C" char* openblas_get_config();

namespace attnrate {

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string());
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("write failed: " + tmp.string());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw std::runtime_error("fsync/close failed: " + tmp.string());
  std::filesystem::rename(tmp, path);
}

std::string format_double(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_finite(double v) { return std::isfinite(v) ? format_double(v) : std::string(); }

std::string CsvTable::str() const {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      const bool quote = cells[i].find_first_of(",\"\n") != std::string::npos;
      if (!quote) {
        out += cells[i];
        continue;
      }
      out += '"';
      for (char c : cells[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += '\n';
  };
  line(columns);
  for (const auto& r : rows) line(r);
  return out;
}

nlohmann::json build_info() {
  nlohmann::json j;
  j["attnrate_version"] = ATTNRATE_VERSION;
  j["git_revision"] = ATTNRATE_GIT_REVISION;
  j["compiler"] = std::string("g++ ") + __VERSION__;
  j["armadillo"] = arma::arma_version::as_string();
  j["boost"] = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
               std::to_string(BOOST_VERSION % 100);
  j["openblas"] = openblas_get_config();
  return j;
}

}  // namespace attnrate
