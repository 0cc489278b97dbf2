// SPDX-License-Identifier: MIT
// The family table. Built-in families are constant; registered families are
// appended once and never removed, so readers need no lock.
#include "core/family.h"

#include <stdatomic.h>

#include "support/fmt.h"
#include "support/lock.h"

static const struct {
    const char *name;
    const char *dealloc_words;
    cf_alloc_fn alloc;
    cf_dealloc_fn dealloc;
} builtin[CF_FAM_BUILTIN_COUNT] = {
    [CF_FAM_NONE] = {"none", "?", CF_ALLOC_CUSTOM, CF_DEALLOC_CUSTOM},
    [CF_FAM_MALLOC] = {"malloc", "free()", CF_ALLOC_MALLOC, CF_DEALLOC_FREE},
    [CF_FAM_NEW] = {"new", "operator delete", CF_ALLOC_NEW, CF_DEALLOC_DELETE},
    [CF_FAM_NEW_ARRAY] = {"new[]", "operator delete[]", CF_ALLOC_NEW_ARRAY,
                          CF_DEALLOC_DELETE_ARRAY},
    [CF_FAM_NEW_ALIGN] = {"new(align)", "operator delete(align_val_t)", CF_ALLOC_NEW_ALIGN,
                          CF_DEALLOC_DELETE_ALIGN},
    [CF_FAM_NEW_ARRAY_ALIGN] = {"new[](align)", "operator delete[](align_val_t)",
                                CF_ALLOC_NEW_ARRAY_ALIGN, CF_DEALLOC_DELETE_ARRAY_ALIGN},
    [CF_FAM_COTASKMEM] = {"CoTaskMem", "CoTaskMemFree", CF_ALLOC_COTASKMEMALLOC,
                          CF_DEALLOC_COTASKMEMFREE},
};

cf_alloc_fn cf_family_alloc_fn(unsigned family) {
    return family < CF_FAM_BUILTIN_COUNT ? builtin[family].alloc : CF_ALLOC_CUSTOM;
}

cf_dealloc_fn cf_family_dealloc_fn(unsigned family) {
    return family < CF_FAM_BUILTIN_COUNT ? builtin[family].dealloc : CF_DEALLOC_CUSTOM;
}

static const struct {
    cf_family family;
    const char *words;
} alloc_fns[CF_ALLOC_FN_COUNT] = {
    [CF_ALLOC_MALLOC] = {CF_FAM_MALLOC, "malloc()"},
    [CF_ALLOC_CALLOC] = {CF_FAM_MALLOC, "calloc()"},
    [CF_ALLOC_REALLOC] = {CF_FAM_MALLOC, "realloc()"},
    [CF_ALLOC_REALLOCARRAY] = {CF_FAM_MALLOC, "reallocarray()"},
    [CF_ALLOC_MEMALIGN] = {CF_FAM_MALLOC, "memalign()"},
    [CF_ALLOC_POSIX_MEMALIGN] = {CF_FAM_MALLOC, "posix_memalign()"},
    [CF_ALLOC_ALIGNED_ALLOC] = {CF_FAM_MALLOC, "aligned_alloc()"},
    [CF_ALLOC_VALLOC] = {CF_FAM_MALLOC, "valloc()"},
    [CF_ALLOC_PVALLOC] = {CF_FAM_MALLOC, "pvalloc()"},
    [CF_ALLOC_NEW] = {CF_FAM_NEW, "operator new"},
    [CF_ALLOC_NEW_ARRAY] = {CF_FAM_NEW_ARRAY, "operator new[]"},
    [CF_ALLOC_NEW_ALIGN] = {CF_FAM_NEW_ALIGN, "operator new(align_val_t)"},
    [CF_ALLOC_NEW_ARRAY_ALIGN] = {CF_FAM_NEW_ARRAY_ALIGN, "operator new[](align_val_t)"},
    [CF_ALLOC_COTASKMEMALLOC] = {CF_FAM_COTASKMEM, "CoTaskMemAlloc"},
    [CF_ALLOC_COTASKMEMREALLOC] = {CF_FAM_COTASKMEM, "CoTaskMemRealloc"},
    [CF_ALLOC_CUSTOM] = {CF_FAM_NONE, NULL},
    [CF_ALLOC_INTERNAL] = {CF_FAM_MALLOC, "malloc() (inside a library crossfree called)"},
    [CF_ALLOC_PRIVATE] = {CF_FAM_MALLOC, "malloc() (inside crossfree)"},
};

static const struct {
    cf_family family;
    const char *words;
} dealloc_fns[CF_DEALLOC_FN_COUNT] = {
    [CF_DEALLOC_FREE] = {CF_FAM_MALLOC, "free()"},
    [CF_DEALLOC_REALLOC] = {CF_FAM_MALLOC, "realloc()"},
    [CF_DEALLOC_DELETE] = {CF_FAM_NEW, "operator delete"},
    [CF_DEALLOC_DELETE_ARRAY] = {CF_FAM_NEW_ARRAY, "operator delete[]"},
    [CF_DEALLOC_DELETE_ALIGN] = {CF_FAM_NEW_ALIGN, "operator delete(align_val_t)"},
    [CF_DEALLOC_DELETE_ARRAY_ALIGN] = {CF_FAM_NEW_ARRAY_ALIGN, "operator delete[](align_val_t)"},
    [CF_DEALLOC_COTASKMEMFREE] = {CF_FAM_COTASKMEM, "CoTaskMemFree"},
    [CF_DEALLOC_COTASKMEMREALLOC] = {CF_FAM_COTASKMEM, "CoTaskMemRealloc"},
    [CF_DEALLOC_CUSTOM] = {CF_FAM_NONE, NULL},
};

#define CUSTOM_NAME_MAX 48
typedef struct custom_family {
    char name[CUSTOM_NAME_MAX];
    char alloc_words[CUSTOM_NAME_MAX];
    char dealloc_words[CUSTOM_NAME_MAX];
} custom_family;

static custom_family custom[CF_FAM_MAX - CF_FAM_CUSTOM_FIRST];
static atomic_uint custom_count;
static cf_lock custom_lock;

cf_family cf_family_of_alloc(cf_alloc_fn fn) {
    return (unsigned)fn < CF_ALLOC_FN_COUNT ? alloc_fns[fn].family : CF_FAM_NONE;
}

cf_family cf_family_of_dealloc(cf_dealloc_fn fn) {
    return (unsigned)fn < CF_DEALLOC_FN_COUNT ? dealloc_fns[fn].family : CF_FAM_NONE;
}

static const custom_family *custom_of(unsigned family) {
    if (family < CF_FAM_CUSTOM_FIRST)
        return NULL;
    unsigned i = family - CF_FAM_CUSTOM_FIRST;
    return i < atomic_load_explicit(&custom_count, memory_order_acquire) ? &custom[i] : NULL;
}

const char *cf_family_name(unsigned family) {
    if (family < CF_FAM_BUILTIN_COUNT)
        return builtin[family].name;
    const custom_family *c = custom_of(family);
    return c != NULL ? c->name : "unknown";
}

const char *cf_alloc_fn_words(cf_alloc_fn fn, unsigned family) {
    if ((unsigned)fn < CF_ALLOC_FN_COUNT && alloc_fns[fn].words != NULL)
        return alloc_fns[fn].words;
    const custom_family *c = custom_of(family);
    return c != NULL ? c->alloc_words : "an unknown allocator";
}

const char *cf_dealloc_fn_words(cf_dealloc_fn fn, unsigned family) {
    if ((unsigned)fn < CF_DEALLOC_FN_COUNT && dealloc_fns[fn].words != NULL)
        return dealloc_fns[fn].words;
    const custom_family *c = custom_of(family);
    if (c != NULL)
        return c->dealloc_words;
    return family < CF_FAM_BUILTIN_COUNT ? builtin[family].dealloc_words : "an unknown deallocator";
}

unsigned cf_family_register(const char *name, const char *alloc_words, const char *dealloc_words) {
    if (name == NULL || alloc_words == NULL || dealloc_words == NULL || name[0] == '\0')
        return 0;
    cf_lock_acquire(&custom_lock);
    unsigned n = atomic_load_explicit(&custom_count, memory_order_relaxed);
    unsigned id = 0;
    for (unsigned i = 0; i < n; i++) {
        if (cf_strcmp(custom[i].name, name) == 0) {
            id = CF_FAM_CUSTOM_FIRST + i;
            break;
        }
    }
    if (id == 0 && n < CF_FAM_MAX - CF_FAM_CUSTOM_FIRST) {
        cf_strlcpy(custom[n].name, name, CUSTOM_NAME_MAX);
        cf_strlcpy(custom[n].alloc_words, alloc_words, CUSTOM_NAME_MAX);
        cf_strlcpy(custom[n].dealloc_words, dealloc_words, CUSTOM_NAME_MAX);
        atomic_store_explicit(&custom_count, n + 1, memory_order_release);
        id = CF_FAM_CUSTOM_FIRST + n;
    }
    cf_lock_release(&custom_lock);
    return id;
}
