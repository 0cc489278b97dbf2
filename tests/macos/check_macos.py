#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Cross-builds libcrossfree.dylib and the crossfree command for one macOS
# architecture with zig cc (installing PyPI's ziglang under the build
# directory if needed; exit 77 if it cannot be had), then checks what a
# build can check without a Mac. The dylib: the file type and CPU, the
# __DATA,__interpose tuples, the exports, the load commands, and that the
# portable sources are the Linux build's. The command: an executable for
# the CPU that imports from libSystem only and has `crossfree run`'s macOS
# strings (DYLD_INSERT_LIBRARIES, libcrossfree.dylib, the path to libdir
# that `meson install` gives) and not Linux's. Finally it damages copies of
# both and requires each check to catch its damage. The command links
# jansson built from source (subprojects/jansson.wrap), whose tarball
# tools/setup.sh fetches from Debian's source package; exit 77 if it cannot.
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

# The crossfree command. `crossfree run` on macOS must name these (as whole
# string literals: the variable it sets and the file it looks for) and none
# of Linux's; a few imports show that it sets the variable and execs.
COMMAND_STRINGS = ["DYLD_INSERT_LIBRARIES", "libcrossfree.dylib"]
LINUX_ONLY_STRINGS = ["LD_PRELOAD", "/proc/self/exe"]
COMMAND_IMPORTS = ["_getenv", "_setenv", "_execvp", "__NSGetExecutablePath"]
# The library's own option parser (run checks -o with it), linked statically.
COMMAND_CORE_SYMBOLS = ["_cf_options_parse", "_cf_options_set_defaults"]

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


def damage_test(label, damaged_copies, check):
    """Runs check (file bytes -> errors) on each (what, bytes, expected text)
    of damaged_copies; an error holding the text must come out of each.
    Returns (copies not caught, copies made)."""
    failures = made = 0
    for what, damaged, expect in damaged_copies:
        made += 1
        try:
            errors = check(damaged)
        except macho.MachOError as e:
            errors = [str(e)]
        caught = [e for e in errors if expect in e]
        print(f"  damaged {label} ({what}): "
              + (f"caught: {caught[0]}" if caught else f"NOT CAUGHT {errors}"))
        failures += not caught
    return failures, made


def self_test(data, arch, minos, api):
    failures, _ = damage_test("copy", mutations(data, macho.MachO(data)),
                              lambda d: check_image(macho.MachO(d), arch, minos, api)[0])
    return failures


# ---------------------------------------------------------------------------
# The crossfree command

def check_command(img, arch, minos, bindir_to_libdir):
    """Errors in the command's image; bindir_to_libdir is where `meson install`
    puts the dylib, relative to the command (run looks there first)."""
    errors = []
    cputype, subtype = ARCHES[arch]
    if img.filetype != macho.MH_EXECUTE:
        errors.append(f"command: file type {img.filetype}, not MH_EXECUTE")
    if img.cputype != cputype or (img.cpusubtype & macho.CPU_SUBTYPE_MASK) != subtype:
        errors.append(f"command: CPU {img.cputype:#x}/{img.cpusubtype:#x}, "
                      f"expected {cputype:#x}/{subtype}")
    for flag, name in ((macho.MH_DYLDLINK, "MH_DYLDLINK"), (macho.MH_TWOLEVEL, "MH_TWOLEVEL"),
                       (macho.MH_PIE, "MH_PIE")):
        if not img.flags & flag:
            errors.append(f"command: header flag {name} missing")
    bv = img.build_version
    if bv is None or bv[0] != macho.PLATFORM_MACOS:
        errors.append(f"command: LC_BUILD_VERSION missing or not macOS: {bv}")
    elif macho.MachO.version_text(bv[1]) != minos:
        errors.append(f"command: minimum macOS {macho.MachO.version_text(bv[1])}, "
                      f"expected {minos}")
    if arch == "aarch64" and not img.has_command(macho.LC_CODE_SIGNATURE):
        errors.append("command: no code signature (macOS on arm64 refuses unsigned code)")
    libs = [name for _, name in img.dylibs]
    if libs != [LIBSYSTEM]:
        errors.append(f"command: links {libs}, expected exactly {LIBSYSTEM}")
    # The command must not interpose anything itself.
    if img.section("__DATA", "__interpose") is not None:
        errors.append("command: has a __DATA,__interpose section")
    try:
        imports = {b.symbol: img.dylib_of_ordinal(b.ordinal)
                   for b in img.binds() + img.lazy_binds()}
    except macho.MachOError as e:
        errors.append(f"command: {e}")
        imports = {}
    for name in COMMAND_IMPORTS:
        if imports.get(name) != LIBSYSTEM:
            errors.append(f"command: {name} is not imported from libSystem "
                          f"({imports.get(name, 'not imported')})")
    for name, lib in sorted(imports.items()):
        if lib != LIBSYSTEM:
            errors.append(f"command: {name} is bound by {lib}, not libSystem")
    strings = set(img.cstrings())
    for text in COMMAND_STRINGS + [bindir_to_libdir]:
        if text not in strings:
            errors.append(f"command: no string literal {text!r}")
    for text in LINUX_ONLY_STRINGS:
        if text in strings:
            errors.append(f"command: has Linux's string literal {text!r}")
    defined = {s.name for s in img.symbols if s.defined}
    for name in COMMAND_CORE_SYMBOLS:
        if name not in defined:
            errors.append(f"command: core function {name} is not in the image")
    return errors


def command_mutations(data, img):
    """Yields (what, damaged bytes, text the errors must contain)."""
    sect = img.section("__TEXT", "__cstring")
    k = -1 if sect is None else data.find(b"\0DYLD_INSERT_LIBRARIES\0", sect.offset,
                                          sect.offset + sect.size) + 1
    if k > 0:
        d = bytearray(data)
        d[k:k + 21] = b"DYLD_INSERT_LIBRARIEZ"
        yield "the variable renamed", bytes(d), "'DYLD_INSERT_LIBRARIES'"

        d = bytearray(data)
        d[k:k + 11] = b"LD_PRELOAD\0"
        yield "LD_PRELOAD set instead", bytes(d), "'LD_PRELOAD'"

    d = bytearray(data)
    struct.pack_into("<I", d, 12, macho.MH_DYLIB)
    yield "the file type changed", bytes(d), "MH_EXECUTE"

    d = bytearray(data)
    struct.pack_into("<i", d, 4, macho.CPU_TYPE_X86_64 if img.cputype == macho.CPU_TYPE_ARM64
                     else macho.CPU_TYPE_ARM64)
    yield "the CPU type changed", bytes(d), "command: CPU"

    info = img.dyld_info
    for off, size in ((info[6], info[7]), (info[4], info[5]), (info[2], info[3])):
        k = data.find(b"_execvp\0", off, off + size)  # lazy, weak or plain binds
        if k >= 0:
            d = bytearray(data)
            d[k:k + 7] = b"_execvq"
            yield "an import renamed", bytes(d), "_execvp is not imported"
            break


COMMAND_MUTATIONS = 5


def command_self_test(data, arch, minos, bindir_to_libdir):
    """Returns (damaged copies that passed, damaged copies that could not be made)."""
    failures, made = damage_test(
        "command", command_mutations(data, macho.MachO(data)),
        lambda d: check_command(macho.MachO(d), arch, minos, bindir_to_libdir))
    return failures, COMMAND_MUTATIONS - made


def installed_layout(macos_build, command, dylib, env, meson):
    """Where `meson install` puts the command and the dylib, and the
    dylib's directory relative to the command's (errors if either is missing)."""
    installed = json.loads(run(meson + ["introspect", "--installed", macos_build], env,
                               quiet=True))
    dest = {os.path.realpath(k): v for k, v in installed.items()}
    errors = []
    for path in (command, dylib):
        if os.path.realpath(path) not in dest:
            errors.append(f"meson install does not install {os.path.relpath(path, macos_build)}")
    if errors:
        return errors, None, None, None
    bin_path = dest[os.path.realpath(command)]
    lib_path = dest[os.path.realpath(dylib)]
    rel = os.path.relpath(os.path.dirname(lib_path), os.path.dirname(bin_path))
    return errors, bin_path, lib_path, rel


def check_command_build(build, dylib, linux_build, arch, minos, env, meson):
    """Checks the built command and its install layout, prints what it found
    and runs the self-test. Returns the errors."""
    target = find_target(build, "crossfree", "executable")
    if target is None:
        return [f"command: the macOS build ({build}) has no crossfree executable"]
    command = target["filename"][0]
    with open(command, "rb") as f:
        data = f.read()
    img = macho.MachO(data)
    errors, bin_path, lib_path, rel = installed_layout(build, command, dylib, env, meson)
    errors += check_same_command_sources(linux_build, build)
    if rel is None:
        return errors
    errors += check_command(img, arch, minos, rel)
    signed = "ad-hoc signed" if img.has_command(macho.LC_CODE_SIGNATURE) else "unsigned"
    kind = "MH_EXECUTE" if img.filetype == macho.MH_EXECUTE else f"file type {img.filetype}"
    imports = {b.symbol for b in img.binds() + img.lazy_binds()}
    strings = set(img.cstrings())
    print(f"{command}: {len(data)} bytes, Mach-O {kind}, cputype {img.cputype:#x}, {signed}, "
          f"links {', '.join(n for _, n in img.dylibs)}")
    print(f"  imports {len(imports)} symbols, among them "
          f"{', '.join(n for n in COMMAND_IMPORTS if n in imports)}")
    print("  string literals present: "
          + ", ".join(t for t in COMMAND_STRINGS + [rel] if t in strings)
          + "; absent: " + ", ".join(t for t in LINUX_ONLY_STRINGS if t not in strings))
    print(f"  meson install: {bin_path}, {lib_path} (run looks in {rel}/ first)")
    print("self-test of the command checks on damaged copies:")
    passed, not_made = command_self_test(data, arch, minos, rel)
    errors += ["a damaged command passed the checks"] * passed
    if not_made:
        errors.append(f"{not_made} damaged copies of the command could not be made "
                      "(the string or import they damage is missing)")
    return errors


# ---------------------------------------------------------------------------
# Same code as the Linux tests

# The Linux core's files that are not portable: the platform layer (every
# OS's code lives under src/platform/<os>/) and the x86_64 Linux unwinder
# with its CFI reader (built only where CF_FAST_UNWIND is 1).
PLATFORM_FILE = re.compile(r"/src/platform/|/src/stack/cfi\.c$")
# Shared POSIX platform code (src/platform/posix) is macOS's as much as Linux's.
MACOS_FILE = re.compile(r"/src/platform/(macos|posix)/")


def find_target(build_dir, name, kind):
    """The target's entry in meson's intro-targets.json, or None."""
    with open(os.path.join(build_dir, "meson-info", "intro-targets.json")) as f:
        targets = json.load(f)
    return next((t for t in targets if t["name"] == name and t["type"] == kind), None)


def target_sources(build_dir, name, kind):
    t = find_target(build_dir, name, kind)
    if t is None:
        raise SystemExit(f"no {kind} target {name} in {build_dir}")
    return {os.path.realpath(s) for ts in t["target_sources"] for s in ts["sources"]}


def check_same_command_sources(linux_build, macos_build):
    """The command is built from Linux's files but for `symbolize`."""
    linux = target_sources(linux_build, "crossfree", "executable")
    mac = target_sources(macos_build, "crossfree", "executable")
    errors = []
    for s in sorted(linux - mac):
        if not s.endswith("/tools/cmd_symbolize.c"):
            errors.append(f"command: Linux's {s} is not built for macOS")
    for s in sorted(mac - linux):
        if not s.endswith("/tools/cmd_symbolize_macos.c"):
            errors.append(f"command: macOS builds {s}, which Linux's command does not")
    return errors


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


def jansson_source(source_root, cache, meson):
    """Makes subprojects/jansson-* ready for Meson: the tarball fetched by
    tools/setup.sh (cf_fetch_jansson) if missing, then extracted with our
    meson.build. Returns None, or why it cannot be had."""
    subprojects = os.path.join(source_root, "subprojects")
    ours = os.path.join(subprojects, "packagefiles", "jansson", "meson.build")
    with open(os.path.join(subprojects, "jansson.wrap")) as f:
        directory = re.search(r"^directory = (\S+)", f.read(), re.M).group(1)
    tree = os.path.join(subprojects, directory)
    with open(os.path.join(cache, "jansson.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # both architectures' tests may get here at once
        r = subprocess.run(["bash", "-c", 'source "$1/tools/setup.sh" && cf_fetch_jansson', "bash",
                            source_root], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        print(r.stdout, end="", flush=True)
        if r.returncode != 0:
            lines = r.stdout.strip().splitlines()
            return lines[-1] if lines else f"cf_fetch_jansson failed with status {r.returncode}"
        # An extracted tree keeps the meson.build it was extracted with:
        # extract it again when ours has changed since.
        built = os.path.join(tree, "meson.build")
        if os.path.exists(built):
            with open(built, "rb") as a, open(ours, "rb") as b:
                if a.read() != b.read():
                    shutil.rmtree(tree)
        if not os.path.exists(built):
            r = subprocess.run(meson + ["subprojects", "download", "--sourcedir", source_root,
                                        "jansson"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0 or not os.path.exists(built):
                print(r.stdout)
                return f"meson could not extract {directory} from the tarball"
    return None


def run(cmd, env, quiet=False):
    print("+ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE if quiet else subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout[-6000:])
        print(r.stderr[-6000:] if quiet else "")
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
    meson = args.meson.split()
    missing = jansson_source(args.source_root, cache, meson)
    if missing is not None:
        print(f"SKIP: the command needs jansson's source for macOS: {missing}")
        return SKIP
    cross = os.path.join(args.source_root, "cross", f"zig-macos-{args.arch}.txt")
    arch, minos = cross_target(cross)
    if arch != args.arch:
        raise SystemExit(f"{cross} targets {arch}, not {args.arch}")

    build = os.path.join(cache, f"build-{args.arch}")
    if os.path.exists(os.path.join(build, "build.ninja")):
        run(meson + ["setup", "--reconfigure", build, args.source_root], env)
    else:
        run(meson + ["setup", "--cross-file", cross, "-Dtests=false", build, args.source_root],
            env)
    out = run(meson + ["compile", "-C", build], env)
    warnings = [line for line in out.splitlines() if "warning:" in line]
    dylib = os.path.join(build, "src", "libcrossfree.dylib")
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

    errors += check_command_build(build, dylib, args.build_root, args.arch, minos, env, meson)
    for e in errors:
        print(f"FAIL: {e}")
    print(f"{args.arch}: {'FAILED' if errors else 'all checks passed'}")
    return 1 if errors else 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
