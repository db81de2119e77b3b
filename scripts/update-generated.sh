#!/usr/bin/env bash
# Regenerates what is generated from the code: starling.example.toml (option descriptors) and
# the README's protocol table (modules' declared specs). Tests fail until both are current.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${STARLING_BIN:-build/src/apps/starling/starling}
"$bin" config-example > starling.example.toml
table=$("$bin" compliance)
/usr/bin/python3 - "$table" <<'PY'
import re, sys
table = sys.argv[1] + "\n"
text = open("README.md").read()
text = re.sub(r"(<!-- compliance:begin[^\n]*-->\n).*?(<!-- compliance:end -->)",
              lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
open("README.md", "w").write(text)
PY
