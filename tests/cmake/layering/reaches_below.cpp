// Not compiled: the input of the layering check's own test (tests/CMakeLists.txt), a module
// source that includes the stream layer, which the check must refuse.
#include "server/module/module.hpp"
#include "server/stream/c2s/c2s_stream.hpp"
