# SPDX-License-Identifier: MIT
"""How the test scripts start a program with crossfree preloaded, natively or
in a cross build (meson test sets MESON_EXE_WRAPPER there, for example
`qemu-aarch64` from cross/aarch64-linux-gnu.txt), and which addr2line reads
the program's machine code. Standard library only."""

import os
import shlex
import shutil

# ELF e_machine values of the targets crossfree is cross-built for here.
EM_X86_64, EM_AARCH64 = 62, 183
ADDR2LINE = {EM_AARCH64: "aarch64-linux-gnu-addr2line"}


def wrapper():
    """The cross build's exe_wrapper as an argv list, or [] when native."""
    return shlex.split(os.environ.get("MESON_EXE_WRAPPER", ""))


def command(cmd, env, lib):
    """Returns the argv that runs cmd with lib preloaded, changing env (a
    dict) to match.

    Natively that is cmd itself with LD_PRELOAD in env. Under qemu-user the
    emulator is a host program that must not preload an aarch64 library:
    LD_PRELOAD goes to the guest alone through qemu's -E (the rest of env is
    the guest's too, since qemu-user passes its environment on)."""
    env.pop("LD_PRELOAD", None)
    wrap = wrapper()
    if wrap and os.path.basename(wrap[0]).startswith("qemu-"):
        return wrap + ["-E", f"LD_PRELOAD={lib}"] + list(cmd)
    env["LD_PRELOAD"] = lib
    return wrap + list(cmd)


def elf_machine(path):
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


def addr2line(module):
    """The addr2line that reads module's machine code, or None."""
    tool = ADDR2LINE.get(elf_machine(module), "addr2line")
    return shutil.which(tool)
