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
# `crossfree run`'s exit-status test builds a cgo program with Go.
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || CF_TEST_PACKAGES+=(golang-go)
# Perl's FFI::Platypus and PHP's FFI are FFI hosts of tests/ffi.
CF_TEST_PACKAGES+=(libffi-platypus-perl php8.2-cli)
# thread_names-rust builds a Rust program with std::thread::Builder names
# (rustup's rustc when there is one).
command -v rustc >/dev/null || [ -x "$HOME/.cargo/bin/rustc" ] || CF_TEST_PACKAGES+=(rustc)
# `crossfree report`'s tests validate SARIF with python3-jsonschema and JUnit
# XML with xmllint (libxml2-utils).
CF_TEST_PACKAGES+=(python3-jsonschema libxml2-utils)
# tests/bench/bench.py's scudo column preloads LLVM's Scudo allocator, which
# ships in libclang-rt-14-dev (no libunwind-14-dev with it); its asan-preload
# column uses gcc's own libasan, and dart_sass gets Dart from npm.
CF_TEST_PACKAGES+=(libclang-rt-14-dev)
# tests/allocators runs programs with jemalloc, tcmalloc and mimalloc
# preloaded, linked in (the -dev packages: shared libraries and, for jemalloc
# and tcmalloc, static archives) and, from crates.io, Rust's mimalloc crate.
CF_TEST_PACKAGES+=(libjemalloc2 libjemalloc-dev libtcmalloc-minimal4 libgoogle-perftools-dev
    libmimalloc2.0 libmimalloc-dev)
# The symbolizer's file:line test builds its programs with clang too (clang
# emits no .debug_aranges, which libdw alone relies on). The fuzz targets
# (tests/fuzz, build-fuzz/) are built with clang-14 and link libFuzzer from
# libclang-rt-14-dev (libclang_rt.fuzzer-x86_64.a; libfuzzer-14-dev is only
# needed for -lFuzzer, which they do not use).
CF_TEST_PACKAGES+=(clang-14)
# tests/dotnet: .NET as an FFI host, Mono's runtime and C# compiler.
CF_TEST_PACKAGES+=(mono-runtime mono-mcs)

# The aarch64 suite (tests/aarch64): Debian's cross compilers, qemu-user to
# run the programs, and the arm64 builds of the libraries crossfree links,
# installed by cf_setup_aarch64 below.
CF_TEST_PACKAGES+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user)
# Multiarch (Multi-Arch: same, so they sit beside the amd64 -dev packages):
# libunwind-dev:arm64 is the nongnu libunwind like the amd64 one (still no
# LLVM libunwind-*-dev beside it), libc6:arm64 gives qemu-aarch64 its loader
# at /lib/ld-linux-aarch64.so.1 (qemu 7.2's -L /usr/aarch64-linux-gnu hangs
# a forked child), and jansson is for the crossfree command.
CF_AARCH64_PACKAGES=(libc6:arm64 libstdc++6:arm64 libunwind-dev:arm64 libdw-dev:arm64
    libcmocka-dev:arm64 libjansson-dev:arm64)
# tests/faults' signal-in-bookkeeping stops a thread with gdb inside
# crossfree's quarantine lock and delivers a signal there.
CF_TEST_PACKAGES+=(gdb)

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

# Adds arm64 to dpkg's architectures (once) and installs the arm64
# libraries of CF_AARCH64_PACKAGES that are missing.
cf_setup_aarch64() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "crossfree setup: dpkg --add-architecture arm64"
        $sudo dpkg --add-architecture arm64
        $sudo apt-get update -qq
    fi
    cf_install "${CF_AARCH64_PACKAGES[@]}"
    cf_fetch_arm64_programs
}

# Real arm64 programs for tests/aarch64/real_programs.py (aarch64-real): they
# are not installed (python3.11:arm64 or sqlite3:arm64 would replace the amd64
# python3 and sqlite3 the rest of the tests use), but downloaded with
# `apt-get download` and unpacked with `dpkg-deb -x` into a directory of
# their own, with the arm64 libraries they load that multiarch does not
# already give. python3.11 with its stdlib (ctypes: libffi8; sqlite3 module:
# libsqlite3-0), the sqlite3 shell, perl and bash, three C++ programs
# built on libstdc++: protoc (libprotobuf), ninja and source-highlight
# (iostreams, Boost.Regex, ICU; its language files are architecture-free),
# and two that run threads: ripgrep (Rust) and zstd.
CF_ARM64_PROGRAM_PACKAGES=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libffi8
    libexpat1 libuuid1 libsqlite3-0 sqlite3 libreadline8 libtinfo6 protobuf-compiler libprotoc32
    libprotobuf32 ninja-build perl-base bash source-highlight libsource-highlight4v5
    libboost-regex1.74.0 libicu72 ripgrep libpcre2-8-0 zstd libzstd1 liblz4-1)
CF_ARM64_PROGRAM_PACKAGES_ALL=(libsource-highlight-common)

# Where they go: CF_ARM64_PROGRAMS, else ~/.cache/crossfree/arm64-programs
# (shared by every clone on the machine). real_programs.py reads the same.
cf_arm64_programs_dir() {
    local home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
    echo "${CF_ARM64_PROGRAMS:-${XDG_CACHE_HOME:-$home/.cache}/crossfree/arm64-programs}"
}

# Fills DIR/root (DIR: cf_arm64_programs_dir) with CF_ARM64_PROGRAM_PACKAGES
# at apt's candidate versions, unless DIR/root/PACKAGES already names those
# very .deb files (then no network). The stdlib is byte-compiled by the arm64
# python itself under qemu, so test runs compile nothing. Never fails the
# set-up: when the packages cannot be had it writes why to DIR/UNAVAILABLE,
# which real_programs.py prints when it skips.
cf_fetch_arm64_programs() {
    local dir want tmp out sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    dir=$(cf_arm64_programs_dir)
    mkdir -p "$dir"
    local pkgs=("${CF_ARM64_PROGRAM_PACKAGES[@]/%/:arm64}" "${CF_ARM64_PROGRAM_PACKAGES_ALL[@]}")
    if ! out=$(apt-get download --print-uris "${pkgs[@]}" 2>&1); then
        echo "apt-get download --print-uris ${pkgs[*]}: $(echo "$out" | tail -n 1)" \
            >"$dir/UNAVAILABLE"
        echo "crossfree setup: arm64 programs unavailable: $(cat "$dir/UNAVAILABLE")" >&2
        return 0
    fi
    want=$(echo "$out" | awk '{ print $2 }' | sort)
    if [ -f "$dir/root/PACKAGES" ] && [ "$want" = "$(cat "$dir/root/PACKAGES")" ]; then
        rm -f "$dir/UNAVAILABLE"
        return 0
    fi
    echo "crossfree setup: unpacking arm64 ${pkgs[*]} into $dir/root"
    tmp=$(mktemp -d "$dir/tmp.XXXXXX")
    chmod 755 "$tmp" # apt's download user must be able to write there
    # Lists older than the mirror name .debs it no longer has: update once.
    if ! out=$(cd "$tmp" && apt-get download -q "${pkgs[@]}" 2>&1) &&
        ! { $sudo apt-get update -qq >/dev/null 2>&1 &&
            out=$(cd "$tmp" && apt-get download -q "${pkgs[@]}" 2>&1); }; then
        echo "apt-get download ${pkgs[*]}: $(echo "$out" | tail -n 1)" >"$dir/UNAVAILABLE"
        echo "crossfree setup: arm64 programs unavailable: $(cat "$dir/UNAVAILABLE")" >&2
        rm -rf "$tmp"
        return 0
    fi
    mkdir "$tmp/root"
    local deb
    for deb in "$tmp"/*.deb; do
        dpkg-deb -x "$deb" "$tmp/root"
    done
    local py="$tmp/root/usr/bin/python3.11"
    if [ -x /lib/ld-linux-aarch64.so.1 ] && command -v qemu-aarch64 >/dev/null; then
        local libs="$tmp/root/usr/lib/aarch64-linux-gnu:$tmp/root/lib/aarch64-linux-gnu"
        qemu-aarch64 -E "LD_LIBRARY_PATH=$libs" "$py" -m compileall -q -j0 \
            "$tmp/root/usr/lib/python3.11" >/dev/null ||
            echo "crossfree setup: compileall of the arm64 stdlib failed (runs will compile it)" >&2
    fi
    echo "$want" >"$tmp/root/PACKAGES"
    rm -rf "$dir/root" "$dir/UNAVAILABLE"
    mv "$tmp/root" "$dir/root"
    rm -rf "$tmp"
}

# The macOS cross build (tests/macos) has no jansson to link, so Meson builds
# it as a subproject (subprojects/jansson.wrap) from the upstream tarball in
# Debian's source package. cf_fetch_jansson puts that tarball in
# subprojects/packagecache/ unless it is there already, first adding a
# deb-src entry for this machine's release (on the mirror its own deb entry
# uses) when apt knows no source packages. It fails, saying why on stderr,
# when the tarball cannot be had or is not the one the wrap names.
cf_fetch_jansson() {
    local wrap="$CF_ROOT/subprojects/jansson.wrap"
    local cache="$CF_ROOT/subprojects/packagecache"
    local file hash
    file=$(sed -n 's/^source_filename *= *//p' "$wrap")
    hash=$(sed -n 's/^source_hash *= *//p' "$wrap")
    if [ -f "$cache/$file" ] && echo "$hash  $cache/$file" | sha256sum -c --status; then
        return 0
    fi
    local known
    known=$(apt-cache showsrc jansson 2>/dev/null || true)
    if [[ "$known" != *"Package: jansson"* ]]; then
        cf_add_deb_src || return 1
    fi
    local tmp out
    tmp=$(mktemp -d)
    chmod 755 "$tmp" # apt's download user must be able to write there
    if ! out=$(cd "$tmp" && apt-get source --download-only -qq jansson 2>&1) ||
        [ ! -f "$tmp/$file" ]; then
        echo "crossfree setup: apt-get source jansson did not give $file:" \
            "$(echo "$out" | tail -n 1)" >&2
        rm -rf "$tmp"
        return 1
    fi
    if ! echo "$hash  $tmp/$file" | sha256sum -c --status; then
        echo "crossfree setup: $file from apt is not the one subprojects/jansson.wrap names" \
            "(sha256 $(sha256sum "$tmp/$file" | cut -d' ' -f1), expected $hash)" >&2
        rm -rf "$tmp"
        return 1
    fi
    mkdir -p "$cache"
    mv "$tmp/$file" "$cache/$file"
    rm -rf "$tmp"
    echo "crossfree setup: $cache/$file from Debian's source package"
}

# Adds /etc/apt/sources.list.d/crossfree-src.sources: source packages of
# this release's main component, from the mirror of the machine's own deb
# entry (a deb822 .sources file or a one-line sources.list), then updates.
cf_add_deb_src() {
    local release uri signed
    release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ -z "$release" ]; then
        echo "crossfree setup: /etc/os-release names no release (VERSION_CODENAME)" >&2
        return 1
    fi
    # The first deb822 stanza with Types: deb for the release: its URIs and Signed-By.
    read -r uri signed < <(awk -v release="$release" '
        function done() { if (deb && hit && u != "" && found == "") found = u " " s }
        FNR == 1 || /^[[:space:]]*$/ { done(); deb = hit = 0; u = s = "" }
        tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == release) hit = 1 }
        tolower($1) == "uris:" { u = $2 }
        tolower($1) == "signed-by:" { s = $2 }
        END { done(); print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null) || true
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list |
            awk -v release="$release" '$1 == "deb" && $3 == release { print $2; exit }')
    fi
    if [ -z "$uri" ]; then
        echo "crossfree setup: no deb entry for $release in /etc/apt to take a mirror from" >&2
        return 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    local entry="Types: deb-src
URIs: $uri
Suites: $release
Components: main
"
    [ -z "$signed" ] || entry+="Signed-By: $signed
"
    local list=/etc/apt/sources.list.d/crossfree-src.sources out
    echo "crossfree setup: adding deb-src $uri $release main to apt's sources"
    if ! echo -n "$entry" | $sudo tee "$list" >/dev/null 2>&1; then
        echo "crossfree setup: cannot write $list (root needed)" >&2
        return 1
    fi
    if ! out=$($sudo apt-get update -qq 2>&1); then
        echo "crossfree setup: apt-get update failed: $(echo "$out" | tail -n 1)" >&2
        return 1
    fi
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
