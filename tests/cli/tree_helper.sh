#!/bin/sh
# SPDX-License-Identifier: MIT
# The launcher's shell step: runs the helper binary (which frees new[]
# memory with free) and says whether the shell itself has libcrossfree.
echo "shell helper: start"
if grep -q libcrossfree.so /proc/$$/maps; then
    echo "shell helper: libcrossfree mapped"
fi
"$1" mismatch
echo "shell helper: done, helper exited with $?"
