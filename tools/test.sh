#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command from a fresh Debian machine to every test: installs what is
# missing, builds in build-test/, checks formatting, runs meson test, and
# ends with one "N passed, N failed, N skipped" line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

cf_install "${CF_BUILD_PACKAGES[@]}" "${CF_TEST_PACKAGES[@]}"
cf_setup_aarch64 # the aarch64 suite: arm64 libraries through multiarch
build="$CF_ROOT/build-test"
cf_configure "$build" -Dwerror=true
ninja -C "$build"

status=0
echo "== clang-format"
mapfile -t sources < <(cd "$CF_ROOT" && git ls-files '*.c' '*.h' '*.cc' '*.cpp' 2>/dev/null ||
    find src include tests tools docs -name '*.[ch]' -o -name '*.cc' -o -name '*.cpp')
if (cd "$CF_ROOT" && clang-format --dry-run --Werror "${sources[@]}"); then
    echo "clang-format: all ${#sources[@]} files formatted"
else
    echo "clang-format: files above are not formatted (run clang-format -i on them)"
    status=1
fi

echo "== meson test"
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=1
results=("$build/meson-logs/testlog.json")

# The fuzz targets (tests/fuzz) need clang and libFuzzer: a second build,
# each target fuzzed for 25 s (docs/reliability.md runs them longer).
# Skipped when the caller asks for particular tests.
if [ $# -eq 0 ]; then
    echo "== fuzz (clang, libFuzzer)"
    fuzz="$CF_ROOT/build-fuzz"
    if [ -f "$fuzz/build.ninja" ]; then
        meson setup --reconfigure "$fuzz" "$CF_ROOT" -Dfuzz=true -Dtests=false >/dev/null
    else
        CC=clang-14 CXX=clang++-14 meson setup "$fuzz" "$CF_ROOT" -Dfuzz=true -Dtests=false >/dev/null
    fi
    ninja -C "$fuzz"
    meson test -C "$fuzz" --suite fuzz --print-errorlogs --verbose || status=1
    results+=("$fuzz/meson-logs/testlog.json")
fi

/usr/bin/python3 - "${results[@]}" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            r = json.loads(line)["result"]
            counts[r] = counts.get(r, 0) + 1
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"crossfree: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
exit $status
