# starling_add_library(name SOURCES ... DEPS ...): one folder, one target, so a wrong
# dependency between layers is a link error.
function(starling_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  starling_warnings(${name})
endfunction()

function(starling_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  # g++ 12 misreports Asio's coroutine frame allocator (operator new/delete pairs of
  # awaitable_frame_base) as mismatched.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
  endif()
endfunction()

# Asio is compiled once (src/net/asio.cpp); everything that includes it must agree.
add_compile_definitions(BOOST_ASIO_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED
                        BOOST_ASIO_DISABLE_BOOST_REGEX)
