// SPDX-License-Identifier: MIT
// Finding the real functions behind crossfree's wrappers on Linux. libc's
// dlsym itself is found by reading libc's dynamic symbol table, because
// crossfree's own exported dlsym would answer any ordinary lookup.
#ifndef CF_PLATFORM_LINUX_RESOLVE_H
#define CF_PLATFORM_LINUX_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

// Address of the default-version definition of `name` in the loaded libc
// (the object whose file name starts with "libc.so"), or 0.
uintptr_t cf_linux_libc_symbol(const char *name);

// Address of the first definition of `name` (default version) in an
// object that the loader's list holds before crossfree's own (the one
// containing `self`): the executable's, an earlier preload's; 0 if none.
// A definition, not the stub an executable built without PIE has for a
// function whose address it takes. *ifunc: the address is an IFUNC's
// resolver, not the function.
uintptr_t cf_linux_symbol_before_self(const char *name, uintptr_t self, bool *ifunc);

// Address range of the loaded object containing `addr` (all its PT_LOAD
// segments); false if no object contains it.
int cf_linux_object_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);

#endif
