// SPDX-License-Identifier: MIT
// What a report knows of one frame: module and offset always, function,
// file and line when they can be found. Filled by the port's symbolizer
// (platform.h, section 5).
#ifndef CF_STACK_SYMBOLIZE_H
#define CF_STACK_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Functions the compiler inlined at a pc, innermost first. Their names and
// files share one pool in the frame, so a frame stays small enough for the
// stacks of the threads that report (a name that does not fit ends the list).
#define CF_INLINE_MAX 8
#define CF_INLINE_TEXT 1536

typedef struct cf_inline_frame {
    uint16_t function; // offsets into cf_frame_info.inline_text
    uint16_t file;
    unsigned line; // 0 if unknown
} cf_inline_frame;

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
    // Inlined into `function` at this pc, innermost first. With any, file
    // and line above are where `function` calls the outermost of them.
    unsigned n_inlined;
    cf_inline_frame inlined[CF_INLINE_MAX];
    char inline_text[CF_INLINE_TEXT];
} cf_frame_info;

static inline const char *cf_inline_function(const cf_frame_info *f, unsigned i) {
    return f->inline_text + f->inlined[i].function;
}

static inline const char *cf_inline_file(const cf_frame_info *f, unsigned i) {
    return f->inline_text + f->inlined[i].file;
}

// Appends an inlined frame (outward from the ones already there). False,
// and nothing added, when the list or the pool is full.
bool cf_frame_add_inline(cf_frame_info *f, const char *function, const char *file, unsigned line);

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
