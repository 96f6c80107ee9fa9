// Replay driver for the fuzz harnesses when libFuzzer is not available (any compiler): feeds
// every regular file of the given files and directories (recursively, in sorted path order) to
// LLVMFuzzerTestOneInput once. Under ctest this replays the seed corpora (tests/fuzz/corpus/*),
// so a reader change that crashes, or breaks a contract the harness checks, on a stored input
// fails the test suite. Exit status: 0 if every input ran, 1 on a usage error or when no input
// was found (a wrong corpus path must not pass silently); a finding aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& arg) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(arg)) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(arg))
      if (e.is_regular_file()) files.push_back(e.path());
  } else if (std::filesystem::is_regular_file(arg)) {
    files.push_back(arg);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 1;
  }
  std::size_t total = 0;
  for (int a = 1; a < argc; ++a) {
    const auto files = inputs_of(argv[a]);
    if (files.empty()) {
      std::fprintf(stderr, "%s: no input files in '%s'\n", argv[0], argv[a]);
      return 1;
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "%s: cannot read '%s'\n", argv[0], f.c_str());
        return 1;
      }
      std::fprintf(stderr, "replay %s (%zu bytes)\n", f.c_str(), bytes.size());
      // A copy in its own exactly-sized allocation (non-null also when empty, as libFuzzer
      // passes it), so AddressSanitizer sees any read past the end.
      const std::unique_ptr<std::uint8_t[]> data(new std::uint8_t[bytes.size()]);
      std::copy(bytes.begin(), bytes.end(), data.get());
      LLVMFuzzerTestOneInput(data.get(), bytes.size());
      ++total;
    }
  }
  std::printf("replayed %zu inputs without a finding\n", total);
  return 0;
}
