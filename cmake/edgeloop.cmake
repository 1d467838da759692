# Helpers shared by every module's CMakeLists.txt.
include(GoogleTest)

# edgeloop_library(NAME SOURCES ... [DEPS ...])
# A static library edgeloop_NAME. DEPS are linked PUBLIC so dependants see them.
function(edgeloop_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(edgeloop_${name} STATIC ${ARG_SOURCES})
  target_link_libraries(edgeloop_${name} PUBLIC ${ARG_DEPS})
endfunction()

# edgeloop_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s])
# A GoogleTest binary; every TEST in it becomes a CTest test carrying LABELS (default "unit").
# Labels: "integration" (real servers or several processes), "slow" (a quick run,
# `make test-quick`, skips it; CI runs everything), "noasan" (too slow under the sanitizers).
function(edgeloop_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} edgeloop_testsupport GTest::gtest GTest::gtest_main Threads::Threads)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # gtest_add_tests scans the sources at configure time, so labels can be set as a real list
  # (gtest_discover_tests flattens list-valued properties).
  gtest_add_tests(TARGET ${name} SOURCES ${ARG_SOURCES} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TEST_LIST tests)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  set_tests_properties(${tests} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
