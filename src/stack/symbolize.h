// SPDX-License-Identifier: MIT
// Turns program counters into report frames: module and offset always,
// function, file and line when they can be found. Error path only: it may
// allocate (callers hold the recursion guard, so its allocations go straight
// to the real allocator) but must never take a lock that the hot path holds.
#ifndef CF_STACK_SYMBOLIZE_H
#define CF_STACK_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cf_frame_info {
    uintptr_t pc;          // as captured (a return address except for frame 0 of a signal)
    char module[256];      // full path of the module, "" if unknown
    uintptr_t offset;      // pc minus the module's load bias: what addr2line -e MODULE takes
    char function[512];    // demangled function name, "" if unknown
    uintptr_t func_offset; // pc minus the symbol's start, when function is set
    char file[512];        // source file, "" if unknown
    unsigned line;         // 0 if unknown
    bool unloaded;         // module was dlclose'd since the pc was recorded
    bool jit;              // pc is in anonymous executable memory (JIT code)
} cf_frame_info;

// Fills `out` for `pc`. Module and offset come from the live module list,
// then from the history of unloaded modules. With `names` false, only the
// module and offset are filled (no allocation, no file access). Returns
// false when not even the module is known (then out->module is "").
bool cf_symbolize(uintptr_t pc, bool names, cf_frame_info *out);

// Records the currently loaded modules (path, load bias, address range) in
// the history of unloaded modules, so frames in a module that is later
// dlclose'd still print as module+offset. Called before each dlclose.
// Never allocates (history is an mmap'd array).
void cf_symbolize_note_modules(void);

// Forgets cached debug info (the next cf_symbolize re-reads the modules).
void cf_symbolize_reset(void);

// Offline symbolization, for `crossfree symbolize`: fills `out` for the
// address `offset` (as a report prints it: pc minus the load bias, a return
// address) in the ELF file `module`, read from disk. Separate debug files
// are found as for live frames, by build ID and .gnu_debuglink, in the
// debuginfo path. Returns false when neither a function nor a file was
// found. Takes the symbolizer's mutex; may allocate and open files.
bool cf_symbolize_file(const char *module, uintptr_t offset, cf_frame_info *out);

// Sets elfutils' debuginfo path (":.debug:/usr/lib/debug" when NULL, see
// dwfl_standard_find_debuginfo) for every later lookup, and forgets cached
// debug info. Returns false, changing nothing, if the path is too long.
bool cf_symbolize_set_debuginfo_path(const char *path);

#endif
