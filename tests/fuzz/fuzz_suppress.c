// SPDX-License-Identifier: MIT
// Fuzzes a suppressions file (the suppressions= option) as the library
// reads it at start-up: the parser, then every rule matched against the
// three stacks of a made-up error of each kind, then the summary of the
// rules used that the library prints at exit.
#include "fuzz.h"

#include <stdio.h>

#include "core/family.h"
#include "core/table.h"
#include "report/suppress.h"
#include "stack/depot.h"

static char messages[1 << 16];

#define PC_APP ((uintptr_t)0x401000)
#define PC_UI ((uintptr_t)0x7f0000001000)
#define PC_LIBC ((uintptr_t)0x7f0000002000)
#define PC_PLUGIN ((uintptr_t)0x7f0000003000)
#define PC_NOWHERE ((uintptr_t)0xdead0000)

static bool fake_symbolize(uintptr_t pc, bool names, cf_frame_info *f) {
    static const struct {
        uintptr_t pc;
        const char *module;
        const char *function;
    } known[] = {
        {PC_APP, "/opt/app/bin/app", "release_buffer(char*)"},
        {PC_UI, "/usr/lib/libui.so.2", "ui::make_buffer(int) const"},
        {PC_LIBC, "/lib/x86_64-linux-gnu/libc.so.6", ""},
        {PC_PLUGIN, "/tmp/plugins/libpl.so", "std::function<void (int)>::operator()(int) const"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].pc != pc)
            continue;
        snprintf(f->module, sizeof f->module, "%s", known[i].module);
        if (names)
            snprintf(f->function, sizeof f->function, "%s", known[i].function);
        return true;
    }
    return false;
}

static const uintptr_t free_pcs[] = {PC_APP, PC_NOWHERE};
static const uintptr_t alloc_pcs[] = {PC_LIBC, PC_UI, PC_APP};
static const uintptr_t first_free_pcs[] = {PC_NOWHERE, PC_PLUGIN};
static uint32_t alloc_stack, first_free_stack;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (!cf_depot_init((size_t)16 << 20))
        abort();
    alloc_stack = cf_depot_put(alloc_pcs, 3);
    first_free_stack = cf_depot_put(first_free_pcs, 2);
    return 0;
}

static cf_error make_error(cf_error_kind kind) {
    cf_error e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.addr = 0x1000;
    e.dealloc_fn = CF_DEALLOC_FREE;
    e.dealloc_family = CF_FAM_MALLOC;
    e.pcs = free_pcs;
    e.n_pcs = 2;
    if (kind != CF_ERR_INVALID_FREE) {
        e.has_alloc = true;
        e.alloc = cf_record_make(0x1000, 8, CF_FAM_NEW_ARRAY, CF_ALLOC_NEW_ARRAY, alloc_stack, 0);
    }
    if (kind == CF_ERR_DOUBLE_FREE) {
        e.has_prev_free = true;
        e.prev_free.free_stack = first_free_stack;
        e.prev_free.dealloc_fn = CF_DEALLOC_FREE;
        e.prev_free.rec = e.alloc;
    }
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The runtime reads at most CF_SUPP_FILE_MAX bytes of the file.
    if (size > CF_SUPP_FILE_MAX)
        size = CF_SUPP_FILE_MAX;
    // An exact-size heap copy: a read past the end is caught.
    char *text = malloc(size > 0 ? size : 1);
    if (text == NULL)
        abort();
    if (size > 0)
        memcpy(text, data, size);
    cf_buf errors;
    cf_buf_init(&errors, messages, sizeof messages);
    cf_suppressions_clear();
    cf_suppressions_parse("fuzz.supp", text, size, &errors);
    if (cf_suppressions_count() > CF_SUPP_MAX_RULES)
        abort();
    static const cf_error_kind kinds[] = {CF_ERR_MISMATCH, CF_ERR_DOUBLE_FREE, CF_ERR_INVALID_FREE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        cf_error e = make_error(kinds[i]);
        (void)cf_suppressions_match(&e, fake_symbolize);
    }
    cf_buf used;
    cf_buf_init(&used, messages, sizeof messages);
    cf_suppressions_log_used(&used);
    free(text);
    return 0;
}
