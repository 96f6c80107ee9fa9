# The Python module `attnrate` (docs/python.md): a pybind11 extension attnrate._core over the
# libraries, plus the package's .py files, assembled in <build>/python/attnrate so that
# PYTHONPATH=<build>/python imports it. Optional and on by default (ATTNRATE_BUILD_PYTHON): without
# pybind11 or Python's headers the build goes on without it and says why.
#
# The interpreter: Debian's /usr/bin/python3 when it exists (its python3-numpy, -pandas, -scipy,
# -sklearn and -pytest are the packages scripts/install-deps.sh installs), not whatever `python3`
# comes first on PATH (a pyenv or venv shim without them). -DPython3_EXECUTABLE=... overrides.
if(NOT ATTNRATE_BUILD_PYTHON)
  return()
endif()
# A sanitized extension cannot be loaded by an ordinary interpreter (the runtime must come first).
if(CMAKE_CXX_FLAGS MATCHES "-fsanitize")
  message(STATUS "attnrate: Python module not built: sanitizer flags in CMAKE_CXX_FLAGS")
  return()
endif()

if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python interpreter of the attnrate module and its tests")
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module)
if(NOT Python3_Interpreter_FOUND OR NOT Python3_Development.Module_FOUND)
  message(STATUS "attnrate: Python module not built: no Python 3 interpreter with its headers "
                 "(Debian: python3-dev; or -DATTNRATE_BUILD_PYTHON=OFF to silence this)")
  return()
endif()
# Found after Python3, pybind11 uses that interpreter (its FindPython mode).
find_package(pybind11 CONFIG QUIET)
if(NOT pybind11_FOUND)
  message(STATUS "attnrate: Python module not built: pybind11 not found (Debian: pybind11-dev python3-pybind11; "
                 "scripts/install-deps.sh installs them; or -DATTNRATE_BUILD_PYTHON=OFF to silence this)")
  return()
endif()
message(STATUS "attnrate: Python module for ${Python3_EXECUTABLE} (Python ${Python3_VERSION}, pybind11 ${pybind11_VERSION})")

set(ATTNRATE_PYTHON_DIR ${CMAKE_BINARY_DIR}/python/attnrate)
file(GLOB ATTNRATE_PYTHON_BINDING_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/src/*.cpp)
# NO_EXTRAS: no link-time optimisation of the thin binding layer (the work is in the libraries).
pybind11_add_module(attnrate_python MODULE NO_EXTRAS ${ATTNRATE_PYTHON_BINDING_SRC})
target_link_libraries(attnrate_python PRIVATE attnrate_studies)
target_compile_definitions(attnrate_python PRIVATE ATTNRATE_VERSION="${PROJECT_VERSION}")
set_target_properties(attnrate_python PROPERTIES OUTPUT_NAME _core LIBRARY_OUTPUT_DIRECTORY ${ATTNRATE_PYTHON_DIR}
                                                 CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)

# The package's pure-Python files, copied beside the extension (rebuilt when one changes).
file(GLOB ATTNRATE_PYTHON_PY CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/attnrate/*.py)
set(_attnrate_py_copies)
foreach(py ${ATTNRATE_PYTHON_PY})
  get_filename_component(name ${py} NAME)
  add_custom_command(OUTPUT ${ATTNRATE_PYTHON_DIR}/${name} COMMAND ${CMAKE_COMMAND} -E copy_if_different ${py}
                             ${ATTNRATE_PYTHON_DIR}/${name} DEPENDS ${py} COMMENT "Copying python/attnrate/${name}")
  list(APPEND _attnrate_py_copies ${ATTNRATE_PYTHON_DIR}/${name})
endforeach()
add_custom_target(attnrate_python_files ALL DEPENDS ${_attnrate_py_copies})
add_dependencies(attnrate_python attnrate_python_files)

# pytest through ctest, on the built package, when the interpreter has what the tests import.
if(ATTNRATE_BUILD_TESTS)
  execute_process(COMMAND ${Python3_EXECUTABLE} -c "import numpy, pandas, scipy, sklearn, pytest"
                  RESULT_VARIABLE _attnrate_py_rc OUTPUT_QUIET ERROR_QUIET)
  if(_attnrate_py_rc EQUAL 0)
    add_test(NAME python.pytest
             COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/tests/python
             WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    set_tests_properties(python.pytest PROPERTIES TIMEOUT 600 ENVIRONMENT
                         "PYTHONPATH=${CMAKE_BINARY_DIR}/python;ATTNRATE_CLI=$<TARGET_FILE:attnrate>;PYTHONDONTWRITEBYTECODE=1")
  else()
    message(STATUS "attnrate: test python.pytest not added: ${Python3_EXECUTABLE} lacks numpy, pandas, scipy, "
                   "sklearn or pytest (Debian: python3-numpy python3-pandas python3-scipy python3-sklearn python3-pytest)")
  endif()
endif()
