# STARLING_SANITIZE: "address,undefined" (ASan + UBSan) or "thread" (TSan), for the whole
# tree, so every library a test links is instrumented. STARLING_FUZZ: clang's libFuzzer
# instrumentation with ASan and UBSan (the fuzz/ targets link the fuzzer's main).
# UBSan findings abort (-fno-sanitize-recover), so a report fails the test that caused it.
set(STARLING_SANITIZE "" CACHE STRING "Sanitizers for the whole build: address,undefined or thread")
option(STARLING_FUZZ "Build the libFuzzer targets in fuzz/ (clang)" OFF)

set(sanitize "${STARLING_SANITIZE}")
if(STARLING_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "STARLING_FUZZ needs clang (CXX=clang++, or the \"fuzz\" preset)")
  endif()
  set(sanitize "address,undefined")
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(sanitize)
  if(NOT sanitize MATCHES "^(address,undefined|undefined,address|address|undefined|thread)$")
    message(FATAL_ERROR "STARLING_SANITIZE=${sanitize}: use address,undefined or thread")
  endif()
  add_compile_options(-fsanitize=${sanitize} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${sanitize})
  if(sanitize MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
    # clang 14's -fsanitize=function cannot instrument coroutines ("Cannot represent a
    # difference across sections"); it checks calls through mistyped function pointers,
    # which C++ code without C-style casts of functions does not make.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      add_compile_options(-fno-sanitize=function)
    endif()
  endif()
  message(STATUS "sanitizers: ${sanitize}")
endif()
