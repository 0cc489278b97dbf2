#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building and testing crossfree needs on Debian/Ubuntu, then
# configures a build directory. Sourced by tools/demo.sh and tools/test.sh;
# installs only packages that are missing, so a second run needs no network.
set -euo pipefail

CF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build: compiler, meson, libunwind (never LLVM's libunwind-*-dev beside it:
# the two conflict), elfutils' libdw, jansson (the command's JSON), cmocka.
# Tests: the real programs and FFI hosts that run under crossfree.
CF_BUILD_PACKAGES=(gcc g++ meson ninja-build pkg-config libunwind-dev libdw-dev libjansson-dev
    libcmocka-dev)
CF_TEST_PACKAGES=(python3 python3-cffi sqlite3 git perl binutils clang-format
    luajit ruby ruby-ffi libjna-java mingw-w64 wine wine64)
# JNA's test needs a JDK and koffi's needs npm (koffi itself comes from the
# npm registry at test time); installed only when missing, so a machine's own
# JDK or Node.js is kept.
command -v javac >/dev/null || CF_TEST_PACKAGES+=(default-jdk-headless)
command -v npm >/dev/null || CF_TEST_PACKAGES+=(nodejs npm)
# `crossfree report`'s tests validate SARIF with python3-jsonschema and JUnit
# XML with xmllint (libxml2-utils).
CF_TEST_PACKAGES+=(python3-jsonschema libxml2-utils)
# tools/bench.py's scudo column preloads LLVM's Scudo allocator, which ships
# in libclang-rt-14-dev (no libunwind-14-dev with it); its asan-preload
# column uses gcc's own libasan, and dart_sass gets Dart from npm.
CF_TEST_PACKAGES+=(libclang-rt-14-dev)

cf_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "crossfree setup: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# cf_configure BUILD_DIR [meson options...]
cf_configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$CF_ROOT" "$@" >/dev/null
    else
        meson setup "$dir" "$CF_ROOT" "$@" >/dev/null
    fi
}
