#!/usr/bin/env bash
# Proves the expat configure check: with a header that lacks XML_SetReparseDeferralEnabled
# (as Debian 12's libexpat1-dev 2.5.0-1+deb12u1 does) the check says so, names the package,
# and the stream parser still builds and, run against the installed library (which may be
# newer and defer by default), delivers a stanza with its last byte; with the system header
# the check agrees with the header.
# Usage: run.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
rm -rf "$work" && mkdir -p "$work/old-expat"
system_header=$(echo '#include <expat.h>' | g++ -E -H -x c++ - 2>&1 >/dev/null | awk '/expat\.h$/ && !found {print $2; found = 1}')
[ -f "$system_header" ] || { echo "no expat.h found"; exit 1; }
cp "$(dirname "$system_header")/expat_external.h" "$work/old-expat/"
# The declaration is two lines: XMLPARSEAPI(XML_Bool) then the name.
sed '/^XMLPARSEAPI(XML_Bool)$/{N;/XML_SetReparseDeferralEnabled/d}' "$system_header" > "$work/old-expat/expat.h"
if grep -q XML_SetReparseDeferralEnabled "$work/old-expat/expat.h"; then
  echo "FAIL: could not make a header without XML_SetReparseDeferralEnabled"; exit 1
fi

out=$(cmake -S "$src/tests/cmake/expat_check" -B "$work/old" -DSTARLING_SOURCE="$src" \
        -DEXPAT_HEADERS="$work/old-expat" -DCOMPILE_PARSER=ON 2>&1)
echo "$out" | grep 'expat:'
[ "$(cat "$work/old/result.txt")" = 0 ] || { echo "FAIL: the old header was taken for a new one"; exit 1; }
echo "$out" | grep -q 'libexpat1-dev' || { echo "FAIL: the message does not name the package"; exit 1; }
cmake --build "$work/old" > "$work/old-build.log" 2>&1 || { cat "$work/old-build.log"; echo "FAIL: the parser does not compile without the symbol"; exit 1; }
echo "stream_parser.cpp compiles against the old header"
# Run against the library installed here, which may well defer (see deferral_probe.cpp).
"$work/old/deferral_probe"

cmake -S "$src/tests/cmake/expat_check" -B "$work/system" -DSTARLING_SOURCE="$src" \
      -DEXPAT_HEADERS="$(dirname "$system_header")" 2>&1 | grep 'expat:'
expected=0
grep -q XML_SetReparseDeferralEnabled "$system_header" && expected=1
[ "$(cat "$work/system/result.txt")" = "$expected" ] || { echo "FAIL: the system header (has it: $expected) was misjudged"; exit 1; }
echo "PASS"
