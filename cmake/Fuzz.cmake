# Fuzz harnesses for the input readers: tests/fuzz/fuzz_<name>.cpp, each defining
# LLVMFuzzerTestOneInput, with a seed corpus in tests/fuzz/corpus/<name>/.
#
# - Always (with ATTNRATE_BUILD_TESTS, any compiler): fuzz_replay_<name> = harness + the replay
#   driver tests/fuzz/replay_main.cpp, and a ctest test fuzz.corpus.<name> that replays the
#   seed corpus once (CI runs no fuzzing, only the stored inputs).
# - ATTNRATE_FUZZ=ON (clang only): every library is instrumented with AddressSanitizer,
#   UndefinedBehaviorSanitizer (aborting on the first report) and libFuzzer coverage, and
#   fuzz_<name> is linked with libFuzzer's main. scripts/fuzz.sh configures such a build
#   (build-fuzz) and runs each harness for a bounded number of executions.
option(ATTNRATE_FUZZ "Build libFuzzer harnesses with ASan+UBSan (clang only; see scripts/fuzz.sh)" OFF)

file(GLOB ATTNRATE_FUZZ_HARNESSES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.cpp)
set(ATTNRATE_FUZZ_NAMES "")
foreach(src ${ATTNRATE_FUZZ_HARNESSES})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${stem})
  list(APPEND ATTNRATE_FUZZ_NAMES ${name})
endforeach()

if(ATTNRATE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ATTNRATE_FUZZ=ON needs clang (libFuzzer), but the C++ compiler is "
                        "${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}). Configure a separate build "
                        "directory with -DCMAKE_CXX_COMPILER=clang++ (Debian packages clang, "
                        "libclang-rt-14-dev, libomp-14-dev), or simply run scripts/fuzz.sh.")
  endif()
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address,undefined")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer,address,undefined")
  check_cxx_source_compiles(
    "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }"
    ATTNRATE_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT ATTNRATE_HAVE_LIBFUZZER)
    message(FATAL_ERROR "ATTNRATE_FUZZ=ON: ${CMAKE_CXX_COMPILER} cannot link -fsanitize=fuzzer,address,undefined. "
                        "Install clang's runtime libraries (Debian: libclang-rt-14-dev for clang 14).")
  endif()
  # Instrument everything that links attnrate_options (all libraries, the CLI and the harnesses),
  # so coverage guides the fuzzer into the readers and the sanitizers see their memory and UB.
  target_compile_options(attnrate_options INTERFACE
    -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(attnrate_options INTERFACE -fsanitize=address,undefined)
  # Debian's toml++ is a shared library, so its parser would run uninstrumented (no coverage
  # feedback, no ASan); compile it header-only into the fuzz build instead.
  get_target_property(_toml_opts tomlplusplus::tomlplusplus INTERFACE_COMPILE_OPTIONS)
  if(_toml_opts AND "${_toml_opts}" MATCHES "TOML_HEADER_ONLY=0")
    string(REPLACE "TOML_HEADER_ONLY=0" "TOML_HEADER_ONLY=1" _toml_opts "${_toml_opts}")
    list(REMOVE_ITEM _toml_opts -DTOML_SHARED_LIB=1)
    # Its internal debug assertions stay off, as in the release library attnrate links otherwise:
    # toml++ 3.3.0 asserts on a malformed table header such as "[:a]" (upstream
    # marzer/tomlplusplus#301), where the release library reports a parse error.
    list(APPEND _toml_opts "-DTOML_ASSERT(expr)=static_assert(true)")
    set_property(TARGET tomlplusplus::tomlplusplus PROPERTY INTERFACE_COMPILE_OPTIONS "${_toml_opts}")
  endif()
  foreach(name ${ATTNRATE_FUZZ_NAMES})
    add_executable(fuzz_${name} tests/fuzz/fuzz_${name}.cpp)
    target_link_libraries(fuzz_${name} PRIVATE attnrate_studies)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()

if(ATTNRATE_BUILD_TESTS)
  foreach(name ${ATTNRATE_FUZZ_NAMES})
    add_executable(fuzz_replay_${name} tests/fuzz/fuzz_${name}.cpp tests/fuzz/replay_main.cpp)
    target_link_libraries(fuzz_replay_${name} PRIVATE attnrate_studies)
    add_test(NAME fuzz.corpus.${name} COMMAND fuzz_replay_${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set_tests_properties(fuzz.corpus.${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endforeach()
endif()
