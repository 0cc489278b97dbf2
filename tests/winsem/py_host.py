#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The Windows-semantics plugin driven from Python ctypes: take a buffer
# from libplugin.so and free it with libc's free found in the process, as a
# ctypes script does. With semantics=windows and host=python, crossfree
# judges that free as Python's C runtime heap would on Windows.
#
#   py_host.py PLUGIN buffer|ui-command
import ctypes
import sys


def main(plugin_path, scenario):
    plugin = ctypes.CDLL(plugin_path)
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    if scenario == "buffer":
        plugin.make_buffer.argtypes = [ctypes.c_uint32]
        plugin.make_buffer.restype = ctypes.POINTER(ctypes.c_int)
        buf = plugin.make_buffer(10)
        print("buffer sum", sum(buf[i] for i in range(10)), flush=True)
        libc.free(buf)  # @py_free_buffer
    elif scenario == "ui-command":
        length = ctypes.c_uint32()
        plugin.get_ui_command.argtypes = [ctypes.POINTER(ctypes.c_uint32)]
        plugin.get_ui_command.restype = ctypes.c_void_p
        commands = plugin.get_ui_command(ctypes.byref(length))
        print("commands", length.value, flush=True)
        libc.free(commands)  # @py_free_commands
    else:
        print(f"py_host: unknown scenario {scenario!r}", file=sys.stderr)
        return 2
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
