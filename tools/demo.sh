#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command from a fresh Debian machine to a crossfree report: installs
# what is missing, builds, and runs the seed example (a C++ library whose
# new[]'d buffer the host frees with free()) under crossfree. It also builds
# the crossfree command, which README.md's next commands use.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

cf_install "${CF_BUILD_PACKAGES[@]}"
build="$CF_ROOT/build"
cf_configure "$build"
# What the demo runs (the library and the two example hosts) and the
# command that README.md's "Using it on your program" runs next.
ninja -C "$build" src/libcrossfree.so tools/crossfree docs/examples/seed/seed_host_buggy \
    docs/examples/seed/seed_host_fixed >/dev/null

seed="$build/docs/examples/seed"
echo "== the fixed example (operator new/delete go through malloc/free): no report"
LD_PRELOAD="$build/src/libcrossfree.so" "$seed/seed_host_fixed"
echo
echo "== the seed's bug (new UICommand[10] freed with free()): crossfree reports it"
set +e
LD_PRELOAD="$build/src/libcrossfree.so" "$seed/seed_host_buggy"
status=$?
set -e
echo
echo "seed_host_buggy exited with status $status (134 = SIGABRT: crossfree stopped at the bad free)"
[ "$status" -eq 134 ]
echo "next: ${build#"$PWD"/}/tools/crossfree run -- PROGRAM (README.md, \"Using it on your program\")"
