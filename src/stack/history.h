// SPDX-License-Identifier: MIT
// The history of loaded modules: where each module was mapped, recorded
// before every unload, so that a frame recorded in a module that has been
// unloaded since still prints as module+offset (and, on ports that can,
// with names read again from the file). Portable: the ports' symbolizers
// fill it from their own module lists (dl_iterate_phdr, dyld).
#ifndef CF_STACK_HISTORY_H
#define CF_STACK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/symbolize.h"

#define CF_HISTORY_BUILD_ID_CAP 40

typedef struct cf_history_entry {
    uintptr_t bias;     // load bias (ELF) or slide (Mach-O): file address = pc - bias
    uintptr_t lo, hi;   // span of the module's mapped segments
    uint64_t last_seen; // generation of the latest snapshot that saw it
    size_t build_id_len;
    unsigned char build_id[CF_HISTORY_BUILD_ID_CAP];
    char path[sizeof(((cf_frame_info *)0)->module)];
} cf_history_entry;

// Starts a snapshot of the loaded modules: its generation, to pass to
// cf_history_note for each, or 0 when the history has no memory (mmap'd on
// first use, never malloc'd: snapshots are taken in the dlclose wrapper).
uint64_t cf_history_begin(void);

// Records one loaded module `m` (its last_seen is ignored) in the snapshot
// `gen`. A module already known (same span start and path) is updated in
// place; when the history is full, the entry seen longest ago is reused,
// never one this snapshot recorded. Takes the history's spin lock only.
void cf_history_note(uint64_t gen, const cf_history_entry *m);

// Copies the newest entry whose span holds `pc` into *out; false if none.
bool cf_history_find(uintptr_t pc, cf_history_entry *out);

#endif
