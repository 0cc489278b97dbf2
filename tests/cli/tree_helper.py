# SPDX-License-Identifier: MIT
# The launcher's Python step: reports whether libcrossfree.so is mapped in
# this interpreter, i.e. whether LD_PRELOAD reached it.
import os

with open("/proc/self/maps") as maps:
    mapped = any("libcrossfree.so" in line for line in maps)
print(f"python helper: pid {os.getpid()}, libcrossfree mapped: {'yes' if mapped else 'no'}")
