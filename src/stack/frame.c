// SPDX-License-Identifier: MIT
// One frame through a symbolizer passed in: what the report, the JSON
// report, suppressions and semantics=windows all start from. Portable: the
// platform's symbolizer is only ever a parameter here.
#include "stack/symbolize.h"

void cf_frame_resolve(cf_symbolizer sym, uintptr_t pc, bool names, cf_frame_info *f) {
    f->pc = pc;
    f->module[0] = f->function[0] = f->file[0] = '\0';
    f->offset = f->func_offset = 0;
    f->line = 0;
    f->unloaded = false;
    f->jit = false;
    if (sym != NULL && !sym(pc, names, f))
        f->module[0] = '\0';
    f->pc = pc;
}
