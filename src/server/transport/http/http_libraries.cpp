// Boost.JSON and Boost.URL compiled into the server once, header-only (Debian's
// libboost1.81-dev ships their sources; no extra library to link).
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
