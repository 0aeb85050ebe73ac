#!/usr/bin/env bash
# Installs the build (build/, or $CSEI_BUILD_DIR) into a fresh prefix and tests what was installed:
# the CMake package (an out-of-tree program, tests/install, built with find_package(csei) and run),
# the program (runs from the prefix, its workshop page found beside it), and the Python package
# (tests/python against the installed csei and csei_analysis).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CSEI_BUILD_DIR:-build}
prefix="$PWD/$build_dir/install-test"
rm -rf "$prefix" "$build_dir/install-consumer"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
echo "test-install: installed into $prefix"

# The package carries no flag that is this build's business.
if grep -nE -- '-fsanitize|-march|-Werror|-Wall|csei_options|csei_warnings' \
  "$prefix"/lib/cmake/csei/*.cmake; then
  echo "test-install: the installed package leaks build options" >&2
  exit 1
fi

# A C++ program against the installed package, compared with the installed program.
cmake -S tests/install -B "$build_dir/install-consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir/install-consumer" -j"$(nproc)" >/dev/null
scenario="$prefix/share/csei/scenarios/teaching/word_of_mouth.toml"
got=$("$build_dir/install-consumer/csei_consumer" "$scenario")
want=$("$prefix/bin/csei" run "$scenario" -o "$build_dir/install-consumer/run.h5" --format json |
  /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin);
print(json.dumps({"scenario": r["scenario"], "steps": r["steps"],
                  "adopters": [i["adopters"] for i in r["innovations"]]}))')
if [[ "$got" != "$want" ]]; then
  echo "test-install: the embedded run ($got) differs from csei run ($want)" >&2
  exit 1
fi
echo "test-install: out-of-tree program: $got"

# The installed program serves its own page (share/csei), not the source tree's.
log="$build_dir/install-consumer/workshop.log"
"$prefix/bin/csei" workshop --port 0 >"$log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "the page from" "$log" && break; sleep 0.1; done
kill "$pid"
wait "$pid" || true
if ! grep -q "the page from $prefix/share/csei/web" "$log"; then
  echo "test-install: the installed workshop does not serve $prefix/share/csei/web:" >&2
  cat "$log" >&2
  exit 1
fi

# The Python package, installed.
site=$(find "$prefix/lib" -maxdepth 2 -type d -name dist-packages | head -1)
CSEI_PYTHONPATH="$site" CSEI_BIN="$prefix/bin/csei" /usr/bin/python3 -m pytest -q tests/python
echo "test-install: passed"
