#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Cross-builds libcrossfree.dylib for one macOS architecture with zig cc
# (installing PyPI's ziglang under the build directory if needed; exit 77 if
# it cannot be had), then checks what a build can check without a Mac: the
# file type and CPU, the __DATA,__interpose tuples, the exports, the load
# commands, and that the portable sources are the Linux build's. Finally it
# damages copies of the dylib and requires each check to catch its damage.
import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import macho  # noqa: E402

SKIP = 77
# The version these checks were written against; CROSSFREE_ZIGLANG overrides.
ZIGLANG = os.environ.get("CROSSFREE_ZIGLANG", "ziglang==0.17.1")

LIBSYSTEM = "/usr/lib/libSystem.B.dylib"
LIBCXX = "/usr/lib/libc++.1.dylib"

# The specification: every function crossfree must interpose on macOS, the
# library it is imported from, and whether the import is weak (newer than
# the deployment target, or in libc++). Replacement i is _cf_mac_<name>.
STRONG_C = [
    "malloc", "calloc", "realloc", "reallocf", "free", "posix_memalign", "aligned_alloc",
    "valloc", "malloc_size", "malloc_zone_malloc", "malloc_zone_calloc", "malloc_zone_valloc",
    "malloc_zone_memalign", "malloc_zone_realloc", "malloc_zone_free",
    "malloc_zone_batch_malloc", "malloc_zone_batch_free", "malloc_destroy_zone", "dlclose",
]
WEAK_C = [
    "malloc_type_malloc", "malloc_type_calloc", "malloc_type_realloc", "malloc_type_free",
    "malloc_type_valloc", "malloc_type_aligned_alloc", "malloc_type_posix_memalign",
    "malloc_zone_malloc_with_options", "malloc_type_zone_malloc", "malloc_type_zone_calloc",
    "malloc_type_zone_valloc", "malloc_type_zone_memalign", "malloc_type_zone_realloc",
    "malloc_type_zone_free", "malloc_type_zone_malloc_with_options",
]
CXX = [
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t", "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm",
    "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t", "_ZdlPvSt11align_val_t",
    "_ZdaPvSt11align_val_t", "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t",
]
EXPECTED_TUPLES = {}
EXPECTED_TUPLES.update({n: (LIBSYSTEM, False) for n in STRONG_C})
EXPECTED_TUPLES.update({n: (LIBSYSTEM, True) for n in WEAK_C})
EXPECTED_TUPLES.update({n: (LIBCXX, True) for n in CXX})

# zig's linker exports these two linker-made symbols from every dylib.
LINKER_EXPORTS = {"__mh_dylib_header", "___dso_handle"}
# A few functions of the portable core that must be in the image.
CORE_SYMBOLS = ["_cf_table_insert", "_cf_rt_on_free", "_cf_depot_put", "_cf_family_of_alloc",
                "_cf_report_format"]

ARCHES = {
    "x86_64": (macho.CPU_TYPE_X86_64, macho.CPU_SUBTYPE_X86_64_ALL),
    "aarch64": (macho.CPU_TYPE_ARM64, macho.CPU_SUBTYPE_ARM64_ALL),
}


# ---------------------------------------------------------------------------
# The checks, on a parsed image

def public_api(header_path):
    """Function names the public header declares."""
    with open(header_path) as f:
        text = f.read()
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    return sorted(set(re.findall(r"\b(crossfree_[a-z_]+)\s*\(", text)))


def interpose_table(img):
    """[(replacement symbol, replacee symbol, dylib, weak)] as dyld will read them."""
    sect = img.section("__DATA", "__interpose")
    if sect is None:
        raise macho.MachOError("no __DATA,__interpose section")
    if sect.size % 16 != 0:
        raise macho.MachOError(f"__interpose is {sect.size} bytes, not a whole number of tuples")
    rebased = set(img.rebases())
    binds = {b.address: b for b in img.binds()}
    rows = []
    for i in range(sect.size // 16):
        slot = sect.addr + 16 * i
        if slot not in rebased or slot in binds:
            raise macho.MachOError(f"tuple {i}: the replacement is not a pointer into the image")
        target = img.read_u64(slot)
        names = [s.name for s in img.defined_symbols_at(target)
                 if img.section_of_symbol(s) is not None
                 and img.section_of_symbol(s).sectname == "__text"]
        if not names:
            raise macho.MachOError(f"tuple {i}: the replacement {target:#x} is no function")
        exported = any(s.external for s in img.defined_symbols_at(target))
        b = binds.get(slot + 8)
        if b is None or (slot + 8) in rebased:
            raise macho.MachOError(f"tuple {i}: the replacee is not bound to an imported symbol")
        rows.append((sorted(names)[0], b.symbol, img.dylib_of_ordinal(b.ordinal), b.weak,
                     exported))
    return rows


def check_image(img, arch, minos, api):
    """Returns (errors, interpose rows)."""
    errors = []
    cputype, subtype = ARCHES[arch]
    if img.filetype != macho.MH_DYLIB:
        errors.append(f"file type {img.filetype}, not MH_DYLIB")
    if img.cputype != cputype or (img.cpusubtype & macho.CPU_SUBTYPE_MASK) != subtype:
        errors.append(f"CPU {img.cputype:#x}/{img.cpusubtype:#x}, expected {cputype:#x}/{subtype}")
    for flag, name in ((macho.MH_DYLDLINK, "MH_DYLDLINK"), (macho.MH_TWOLEVEL, "MH_TWOLEVEL")):
        if not img.flags & flag:
            errors.append(f"header flag {name} missing")
    # Thread-local variables would make dyld call malloc from inside the
    # malloc wrapper on each thread's first access (docs/macos.md).
    if img.flags & macho.MH_HAS_TLV_DESCRIPTORS:
        errors.append("the image has thread-local variables (MH_HAS_TLV_DESCRIPTORS)")
    for s in img.sections():
        if s.type in (macho.S_THREAD_LOCAL_REGULAR, macho.S_THREAD_LOCAL_ZEROFILL,
                      macho.S_THREAD_LOCAL_VARIABLES):
            errors.append(f"thread-local section {s.segname},{s.sectname}")
    bv = img.build_version
    if bv is None or bv[0] != macho.PLATFORM_MACOS:
        errors.append(f"LC_BUILD_VERSION missing or not macOS: {bv}")
    elif macho.MachO.version_text(bv[1]) != minos:
        errors.append(f"minimum macOS {macho.MachO.version_text(bv[1])}, expected {minos}")
    if arch == "aarch64" and not img.has_command(macho.LC_CODE_SIGNATURE):
        errors.append("no code signature (macOS on arm64 refuses unsigned code)")
    libs = sorted(name for _, name in img.dylibs)
    if libs != sorted([LIBSYSTEM, LIBCXX]):
        errors.append(f"links {libs}, expected exactly libSystem and libc++")

    rows = []
    try:
        rows = interpose_table(img)
    except macho.MachOError as e:
        errors.append(str(e))
    seen = {}
    for repl, replacee, dylib, weak, exported in rows:
        c_name = replacee[1:] if replacee.startswith("_") else replacee
        if c_name in seen:
            errors.append(f"{replacee} is interposed twice")
        seen[c_name] = True
        want = EXPECTED_TUPLES.get(c_name)
        if want is None:
            errors.append(f"unexpected tuple for {replacee} (add it to the specification)")
            continue
        if repl != "_cf_mac_" + c_name:
            errors.append(f"{replacee} is replaced by {repl}, expected _cf_mac_{c_name}")
        if dylib != want[0]:
            errors.append(f"{replacee} is imported from {dylib}, expected {want[0]}")
        if weak != want[1]:
            errors.append(f"{replacee} import is {'weak' if weak else 'strong'}, expected "
                          f"{'weak' if want[1] else 'strong'}")
        if exported:
            errors.append(f"wrapper {repl} is exported")
    for name in EXPECTED_TUPLES:
        if name not in seen:
            errors.append(f"no tuple interposes {name}")

    try:
        exports = set(img.exports())
    except macho.MachOError as e:
        errors.append(str(e))
        exports = set()
    want = {"_" + n for n in api}
    if not want <= exports:
        errors.append(f"public API not exported: {sorted(want - exports)}")
    extra = exports - want - LINKER_EXPORTS
    if extra:
        errors.append(f"exports beyond the public API: {sorted(extra)}")
    ext_defined = {s.name for s in img.symbols if s.defined and s.external}
    if ext_defined - want - LINKER_EXPORTS:
        errors.append(f"external symbols beyond the public API: "
                      f"{sorted(ext_defined - want - LINKER_EXPORTS)}")
    try:
        for b in img.binds() + img.lazy_binds():
            if b.ordinal < 1:
                errors.append(f"{b.symbol} is bound by {img.dylib_of_ordinal(b.ordinal)}")
    except macho.MachOError as e:
        errors.append(str(e))
    defined = {s.name for s in img.symbols if s.defined}
    for name in CORE_SYMBOLS:
        if name not in defined:
            errors.append(f"core function {name} is not in the image")
    return errors, rows


def format_table(rows):
    lines = [f"{'replacee':40} {'from':24} {'weak':5} replacement"]
    for repl, replacee, dylib, weak, _ in rows:
        lines.append(f"{replacee:40} {os.path.basename(dylib):24} {'yes' if weak else '':5} {repl}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Damaged copies: each must fail the check that guards against it

def mutations(data, img):
    """Yields (what, damaged bytes, text the errors must contain)."""
    sect = img.section("__DATA", "__interpose")
    seg = next(s for s in img.segments if s.vmaddr <= sect.addr < s.vmaddr + s.vmsize)
    at = seg.fileoff + sect.addr - seg.vmaddr
    d = bytearray(data)
    a, b = d[at:at + 8], d[at + 16:at + 24]
    d[at:at + 8], d[at + 16:at + 24] = b, a
    yield "two replacements swapped", bytes(d), "is replaced by"

    info = img.dyld_info
    bind = data[info[2]:info[2] + info[3]]
    k = bind.find(b"_malloc_size\0")
    d = bytearray(data)
    d[info[2] + k:info[2] + k + 12] = b"_malloc_sizf"
    yield "a replacee renamed", bytes(d), "no tuple interposes malloc_size"

    d = bytearray(data)
    struct.pack_into("<i", d, 4, macho.CPU_TYPE_X86_64 if img.cputype == macho.CPU_TYPE_ARM64
                     else macho.CPU_TYPE_ARM64)
    yield "the CPU type changed", bytes(d), "CPU"

    trie = data[info[8]:info[8] + info[9]]
    k = trie.find(b"owner")
    d = bytearray(data)
    d[info[8] + k:info[8] + k + 5] = b"ownex"
    yield "an export renamed", bytes(d), "exports beyond the public API"

    d = bytearray(data)
    struct.pack_into("<I", d, 24, img.flags | macho.MH_HAS_TLV_DESCRIPTORS)
    yield "thread-local variables flagged", bytes(d), "thread-local"


def self_test(data, arch, minos, api):
    img = macho.MachO(data)
    failures = 0
    for what, damaged, expect in mutations(data, img):
        try:
            errors, _ = check_image(macho.MachO(damaged), arch, minos, api)
        except macho.MachOError as e:
            errors = [str(e)]
        caught = any(expect in e for e in errors)
        print(f"  damaged copy ({what}): {'caught' if caught else 'NOT CAUGHT'}"
              + (f": {[e for e in errors if expect in e][0]}" if caught else f" {errors}"))
        failures += not caught
    return failures


# ---------------------------------------------------------------------------
# Same code as the Linux tests

PLATFORM_FILE = re.compile(r"/src/platform/|/src/stack/(capture|symbolize)[^/]*\.c$")
# Shared POSIX platform code (src/platform/posix) is macOS's as much as Linux's.
MACOS_FILE = re.compile(r"/src/platform/(macos|posix)/|/src/stack/[^/]*_macos\.c$")


def target_sources(build_dir, name, kind):
    with open(os.path.join(build_dir, "meson-info", "intro-targets.json")) as f:
        targets = json.load(f)
    for t in targets:
        if t["name"] == name and t["type"] == kind:
            return {os.path.realpath(s) for ts in t["target_sources"] for s in ts["sources"]}
    raise SystemExit(f"no {kind} target {name} in {build_dir}")


def check_same_sources(linux_build, macos_build):
    errors = []
    linux = target_sources(linux_build, "crossfree_core", "static library")
    mac = target_sources(macos_build, "crossfree", "shared library")
    portable = {s for s in linux if not PLATFORM_FILE.search(s)}
    if not portable:
        errors.append("the Linux core has no portable sources?")
    for s in sorted(portable - mac):
        errors.append(f"portable source not built for macOS: {s}")
    for s in sorted(mac - portable):
        if not MACOS_FILE.search(s):
            errors.append(f"macOS build compiles a file that is neither portable nor macOS's: {s}")
    return errors, len(portable), len(mac - portable)


# ---------------------------------------------------------------------------
# zig and the cross build

def python3_on_path():
    return shutil.which("python3") or sys.executable


def can_import_zig(env):
    return subprocess.run([python3_on_path(), "-c", "import ziglang"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def zig_env(cache):
    """An environment in which the cross files' `python3 -m ziglang` works, or None."""
    os.makedirs(cache, exist_ok=True)
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = os.path.join(cache, "zig-cache")
    env["ZIG_LOCAL_CACHE_DIR"] = os.path.join(cache, "zig-cache")
    if can_import_zig(env):
        return env
    target = os.path.join(cache, "py")
    env["PYTHONPATH"] = target + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(os.path.join(cache, "install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # both architectures' tests may get here at once
        if can_import_zig(env):
            return env
        for py in dict.fromkeys([sys.executable, "/usr/bin/python3", python3_on_path()]):
            if not py or not os.path.exists(py):
                continue
            print(f"installing {ZIGLANG} into {target} with {py} -m pip", flush=True)
            pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                   "--target", target, ZIGLANG]
            r = subprocess.run(pip, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode == 0 and can_import_zig(env):
                return env
            print(r.stdout[-2000:])
    return None


def run(cmd, env):
    print("+ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout[-6000:])
        raise SystemExit(f"command failed with status {r.returncode}")
    return r.stdout


def cross_target(cross_file):
    with open(cross_file) as f:
        m = re.search(r"'-target', '([a-z0-9_]+)-macos\.([0-9.]+)'", f.read())
    if m is None:
        raise SystemExit(f"no -target ARCH-macos.VERSION in {cross_file}")
    minos = m.group(2) + ".0" * (2 - m.group(2).count("."))
    return m.group(1), minos


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", required=True, choices=sorted(ARCHES))
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True, help="the Linux build directory")
    ap.add_argument("--meson", default="meson")
    args = ap.parse_args()

    cache = os.path.join(args.build_root, "tests", "macos")
    env = zig_env(cache)
    if env is None:
        print(f"SKIP: cannot install {ZIGLANG} from PyPI (no network?)")
        return SKIP
    cross = os.path.join(args.source_root, "cross", f"zig-macos-{args.arch}.txt")
    arch, minos = cross_target(cross)
    if arch != args.arch:
        raise SystemExit(f"{cross} targets {arch}, not {args.arch}")

    build = os.path.join(cache, f"build-{args.arch}")
    meson = args.meson.split()
    if os.path.exists(os.path.join(build, "build.ninja")):
        run(meson + ["setup", "--reconfigure", build, args.source_root], env)
    else:
        run(meson + ["setup", "--cross-file", cross, "-Dtests=false", build, args.source_root],
            env)
    out = run(meson + ["compile", "-C", build], env)
    warnings = [line for line in out.splitlines() if "warning:" in line]
    dylib = os.path.join(build, "src", "platform", "macos", "libcrossfree.dylib")
    with open(dylib, "rb") as f:
        data = f.read()

    api = public_api(os.path.join(args.source_root, "include", "crossfree", "crossfree.h"))
    img = macho.MachO(data)
    errors, rows = check_image(img, args.arch, minos, api)
    same_errors, n_portable, n_mac = check_same_sources(args.build_root, build)
    errors += same_errors
    errors += [f"compiler warning: {w}" for w in warnings]

    signed = "ad-hoc signed" if img.has_command(macho.LC_CODE_SIGNATURE) else "unsigned"
    print(f"{dylib}: {len(data)} bytes, Mach-O MH_DYLIB, cputype {img.cputype:#x}, "
          f"minimum macOS {minos}, {signed}, links {', '.join(n for _, n in img.dylibs)}")
    print(f"exports: {', '.join(sorted(img.exports()))}")
    print(f"sources: the Linux core's {n_portable} portable files + {n_mac} macOS files")
    print(f"__DATA,__interpose: {len(rows)} tuples")
    print(format_table(rows))
    print("self-test of the checks on damaged copies:")
    errors += ["a damaged copy passed the checks"] * self_test(data, args.arch, minos, api)
    for e in errors:
        print(f"FAIL: {e}")
    print(f"{args.arch}: {'FAILED' if errors else 'all checks passed'}")
    return 1 if errors else 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
