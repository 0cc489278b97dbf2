// SPDX-License-Identifier: MIT
// One frame through a symbolizer passed in: what the report, the JSON
// report, suppressions and semantics=windows all start from. Portable: the
// platform's symbolizer is only ever a parameter here.
#include "stack/symbolize.h"

#include "support/fmt.h"

#include <string.h>

void cf_frame_resolve(cf_symbolizer sym, uintptr_t pc, bool names, cf_frame_info *f) {
    f->pc = pc;
    f->module[0] = f->function[0] = f->file[0] = '\0';
    f->offset = f->func_offset = 0;
    f->line = 0;
    f->unloaded = false;
    f->jit = false;
    f->n_inlined = 0;
    if (sym != NULL && !sym(pc, names, f))
        f->module[0] = '\0';
    f->pc = pc;
}

// The pool's used length: one past the end of the last string stored.
static size_t pool_used(const cf_frame_info *f) {
    if (f->n_inlined == 0)
        return 0;
    const cf_inline_frame *last = &f->inlined[f->n_inlined - 1];
    return last->file + cf_strlen(f->inline_text + last->file) + 1;
}

bool cf_frame_add_inline(cf_frame_info *f, const char *function, const char *file, unsigned line) {
    if (f->n_inlined >= CF_INLINE_MAX)
        return false;
    size_t at = pool_used(f);
    size_t fn_len = cf_strlen(function), file_len = cf_strlen(file);
    if (fn_len + file_len + 2 > sizeof f->inline_text - at)
        return false;
    cf_inline_frame *in = &f->inlined[f->n_inlined++];
    in->function = (uint16_t)at;
    memcpy(f->inline_text + at, function, fn_len + 1);
    in->file = (uint16_t)(at + fn_len + 1);
    memcpy(f->inline_text + in->file, file, file_len + 1);
    in->line = line;
    return true;
}
