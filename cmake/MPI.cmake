# MPI scale-out of study cells (studies/sweep/distributed.hpp): `mpirun -np P attnrate
# verify|study ...` spreads the cells over the ranks and gathers them, results bit-identical to a
# single process. Optional: ATTNRATE_MPI=AUTO (default) uses MPI when found (Debian:
# libopenmpi-dev openmpi-bin), ON requires it, OFF builds without it. Without MPI the same
# binary runs single-process at no cost. Included at the end of CMakeLists.txt (after all targets).
set(ATTNRATE_MPI AUTO CACHE STRING "MPI scale-out of study cells: AUTO (when found), ON (required) or OFF")
set_property(CACHE ATTNRATE_MPI PROPERTY STRINGS AUTO ON OFF)

set(ATTNRATE_WITH_MPI OFF)
if(ATTNRATE_MPI STREQUAL "OFF")
  message(STATUS "attnrate: MPI scale-out off (ATTNRATE_MPI=OFF)")
else()
  if(ATTNRATE_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI QUIET COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(ATTNRATE_WITH_MPI ON)
    target_link_libraries(attnrate_studies PUBLIC MPI::MPI_CXX)
    target_compile_definitions(attnrate_studies PRIVATE ATTNRATE_WITH_MPI)
    target_compile_definitions(attnrate PRIVATE ATTNRATE_WITH_MPI)  # --version names the MPI library
    message(STATUS "attnrate: MPI scale-out on (MPI ${MPI_CXX_VERSION}, launcher ${MPIEXEC_EXECUTABLE})")
  else()
    message(STATUS "attnrate: MPI scale-out off (no MPI found; Debian: libopenmpi-dev openmpi-bin)")
  endif()
endif()

# Single process vs `mpirun -np 2`: identical summary.json and cells.csv (timing removed).
if(ATTNRATE_WITH_MPI AND ATTNRATE_BUILD_TESTS AND MPIEXEC_EXECUTABLE)
  add_test(NAME mpi.bit-identical
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/mpi/bit_identical.sh $<TARGET_FILE:attnrate> ${MPIEXEC_EXECUTABLE})
  set_tests_properties(mpi.bit-identical PROPERTIES TIMEOUT 600)
endif()
