// SPDX-License-Identifier: MIT
// The public API (include/crossfree/crossfree.h) over the runtime. Program
// families are tracked like built-in ones but never quarantined or
// released by crossfree: the program's own allocator owns their memory.
#include "crossfree/crossfree.h"

#include "core/family.h"
#include "core/quarantine.h"
#include "runtime/runtime.h"
#include "runtime/winsem.h"
#include "support/fmt.h"

#define CF_API __attribute__((visibility("default")))

CF_API int crossfree_owner(const void *p, crossfree_block_info *info) {
    cf_record r;
    cf_qentry q;
    if (p == NULL || info == NULL || !cf_rt_enter())
        return 0;
    bool freed = false;
    if (!cf_rt_lookup(p, &r)) {
        if (!cf_quarantine_find((uintptr_t)p, &q))
            return 0;
        r = q.rec;
        freed = true;
    }
    info->family = cf_family_name(cf_record_family(&r));
    info->allocator = cf_alloc_fn_words((cf_alloc_fn)cf_record_alloc_fn(&r), cf_record_family(&r));
    info->size = (size_t)cf_record_size(&r);
    info->thread = cf_record_tid(&r);
    info->freed = freed;
    return 1;
}

CF_API unsigned crossfree_register_family(const char *name, const char *alloc_words,
                                          const char *free_words) {
    return cf_family_register(name, alloc_words, free_words);
}

static bool is_registered(unsigned family) {
    return family >= CF_FAM_CUSTOM_FIRST && family < CF_FAM_MAX &&
           cf_strcmp(cf_family_name(family), "unknown") != 0;
}

CF_API void crossfree_note_alloc(unsigned family, const void *p, size_t size) {
    if (p == NULL || !is_registered(family) || !cf_rt_enter())
        return;
    cf_rt_on_alloc_family(CF_ALLOC_CUSTOM, family, (void *)(uintptr_t)p, size);
}

CF_API int crossfree_note_free(unsigned family, const void *p) {
    if (p == NULL || !is_registered(family) || !cf_rt_enter())
        return 1;
    return cf_rt_on_free(CF_DEALLOC_CUSTOM, family, (void *)(uintptr_t)p) ? 1 : 0;
}

CF_API int crossfree_host_allocator(const char *function_glob) {
    if (function_glob == NULL || !cf_rt_enter())
        return 0;
    return cf_winsem_add_host_allocator(function_glob) ? 1 : 0;
}
