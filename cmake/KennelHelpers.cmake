# kennel_layer(NAME DEPS ...)
# One static library per folder under src/: every foo.cc that is not a *_test.cc
# goes into kennel_NAME; every foo_test.cc beside it becomes its own GoogleTest
# binary NAME_foo_test linked against the layer. Globbing keeps each folder's
# CMakeLists.txt one line long; CONFIGURE_DEPENDS notices added files.
function(kennel_layer NAME)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc
       ${CMAKE_CURRENT_SOURCE_DIR}/internal/*.cc)
  set(_srcs)
  set(_tests)
  foreach(f ${_all})
    if(f MATCHES "_test\\.cc$")
      list(APPEND _tests ${f})
    else()
      list(APPEND _srcs ${f})
    endif()
  endforeach()
  add_library(kennel_${NAME} STATIC ${_srcs})
  target_include_directories(kennel_${NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(kennel_${NAME} PUBLIC ${ARG_DEPS})
  foreach(t ${_tests})
    get_filename_component(_base ${t} NAME_WE)
    set(_exe ${NAME}_${_base})
    add_executable(${_exe} ${t})
    target_link_libraries(${_exe} PRIVATE kennel_${NAME} GTest::gtest GTest::gtest_main
                          GTest::gmock)
    gtest_discover_tests(${_exe} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
  endforeach()
endfunction()
