# Installation: `cmake --install build --prefix P` puts
#   P/bin/attnrate                              the program
#   P/lib/libattnrate_*.a                       the library (estimators, theory, plots, studies)
#   P/include/attnrate/<folder>/...hpp          its headers, by their source-tree paths
#   P/lib/cmake/attnrate/attnrateConfig.cmake   the package: find_package(attnrate) gives the
#                                               target attnrate::attnrate
# Included at the end of CMakeLists.txt, after cmake/MPI.cmake (whether MPI is linked is known).
include(CMakePackageConfigHelpers)
set(ATTNRATE_INSTALL_CMAKEDIR lib/cmake/attnrate)

install(TARGETS attnrate RUNTIME DESTINATION bin)
# Short exported names: attnrate::estimators, ..., and attnrate::attnrate for all of them.
foreach(part estimators theory plots studies options)
  set_target_properties(attnrate_${part} PROPERTIES EXPORT_NAME ${part})
endforeach()
install(TARGETS attnrate_core attnrate_studies attnrate_plots attnrate_theory attnrate_estimators attnrate_options
        EXPORT attnrateTargets ARCHIVE DESTINATION lib)
install(DIRECTORY estimators theory studies plots DESTINATION include/attnrate
        FILES_MATCHING PATTERN "*.hpp" PATTERN "cli" EXCLUDE)
install(EXPORT attnrateTargets NAMESPACE attnrate:: DESTINATION ${ATTNRATE_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/attnrateConfig.cmake.in ${CMAKE_BINARY_DIR}/attnrateConfig.cmake
                              INSTALL_DESTINATION ${ATTNRATE_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/attnrateConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/attnrateConfig.cmake ${CMAKE_BINARY_DIR}/attnrateConfigVersion.cmake
        DESTINATION ${ATTNRATE_INSTALL_CMAKEDIR})

# An outside project finds the installed package and runs a fit (tests/outside_project/).
if(ATTNRATE_BUILD_TESTS)
  add_test(NAME install.outside-project
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/outside_project/run.sh ${CMAKE_BINARY_DIR} ${CMAKE_COMMAND}
                   "${CMAKE_CXX_COMPILER}" "${CMAKE_GENERATOR}")
  set_tests_properties(install.outside-project PROPERTIES TIMEOUT 600)
endif()
