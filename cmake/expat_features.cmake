# What the installed expat offers, checked against its header and library rather than its
# version number, because Debian backports features into 2.5.0 (bookworm's 2.5.0-1+deb12u1
# lacks XML_SetReparseDeferralEnabled; later bookworm security updates have it).
# Sets STARLING_EXPAT_HAS_REPARSE_DEFERRAL to 1 or 0 in the caller's scope and says which.
# Checked at every configure, not cached, so an upgraded expat is seen by an existing build
# folder (and a binary built without it still finds the function at run time: see
# StreamParser::make_expat).
include(CheckSymbolExists)
include(CMakePushCheckState)

function(starling_check_expat_features)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_INCLUDES ${EXPAT_INCLUDE_DIRS})
  set(CMAKE_REQUIRED_LIBRARIES ${EXPAT_LIBRARIES})
  set(CMAKE_REQUIRED_QUIET ON)
  unset(STARLING_EXPAT_REPARSE_DEFERRAL_FOUND CACHE)
  check_symbol_exists(XML_SetReparseDeferralEnabled "expat.h" STARLING_EXPAT_REPARSE_DEFERRAL_FOUND)
  cmake_pop_check_state()
  if(STARLING_EXPAT_REPARSE_DEFERRAL_FOUND)
    set(STARLING_EXPAT_HAS_REPARSE_DEFERRAL 1 PARENT_SCOPE)
    message(STATUS "expat: XML_SetReparseDeferralEnabled found; expat's own deferral is switched off")
  else()
    set(STARLING_EXPAT_HAS_REPARSE_DEFERRAL 0 PARENT_SCOPE)
    message(STATUS "expat: no XML_SetReparseDeferralEnabled (libexpat1-dev older than 2.5.0-1+deb12u2); "
                   "the stream parser defers by itself, and turns a newer library's deferral off at run time")
  endif()
endfunction()
