// SPDX-License-Identifier: MIT
// What a report knows of one frame: module and offset always, function,
// file and line when they can be found. Filled by the port's symbolizer
// (platform.h, section 5).
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

// The functions that fill it are part of the platform contract
// (platform/platform.h, section 5): each port has its own symbolizer.

// A symbolizer as the report and the checks built on stacks take it: a pure
// function of the pc, so tests can pass a table of made-up frames (the
// runtime passes the port's cf_symbolize, with JIT frames named from perf
// maps). Returns false when not even the module is known.
typedef bool (*cf_symbolizer)(uintptr_t pc, bool names, cf_frame_info *out);

// Symbolizes one pc through `sym` into `f`, cleared first (module "" when
// unknown). A NULL `sym` leaves everything but the pc empty. (stack/frame.c,
// built on every platform.)
void cf_frame_resolve(cf_symbolizer sym, uintptr_t pc, bool names, cf_frame_info *f);

#endif
