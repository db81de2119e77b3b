# cmake -DMODULE=<name> -DSOURCES=<a|b|...> -DSTAMP=<file> -P check_module_includes.cmake
# A module may use the module API (server/module/), config and storage plumbing, xmpp/, xml/,
# base/ and other modules' headers; never the stream, transport or routing layers, the
# Server, the account store (server/module/accounts.hpp is its module-facing part), or the
# shard and TLS plumbing beneath them. Run by the build before each module
# compiles, so a wrong include is a build error naming the file and line.
set(forbidden "server/stream/" "server/transport/" "server/routing/" "server/server.hpp"
              "server/storage/accounts/" "net/shard.hpp" "net/tls_" "net/asio")
set(problems "")
string(REPLACE "|" ";" sources "${SOURCES}")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    foreach(bad IN LISTS forbidden)
      string(FIND "${line}" "\"${bad}" at)
      if(NOT at EQUAL -1)
        string(APPEND problems "\n  ${source}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
if(problems)
  message(FATAL_ERROR "module ${MODULE} reaches below the module API (use server/module/ instead):${problems}")
endif()
file(TOUCH "${STAMP}")
