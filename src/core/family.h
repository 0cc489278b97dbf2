// SPDX-License-Identifier: MIT
// Allocator families, the functions that allocate and deallocate in each,
// and the words reports use for them. Pure data and logic: no platform
// calls, so the whole matching table is unit tested directly.
#ifndef CF_CORE_FAMILY_H
#define CF_CORE_FAMILY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum cf_family {
    CF_FAM_NONE = 0,
    CF_FAM_MALLOC,
    CF_FAM_NEW,
    CF_FAM_NEW_ARRAY,
    CF_FAM_NEW_ALIGN,
    CF_FAM_NEW_ARRAY_ALIGN,
    CF_FAM_COTASKMEM,
    CF_FAM_BUILTIN_COUNT,
    // Families registered at run time through the public API follow.
    CF_FAM_CUSTOM_FIRST = CF_FAM_BUILTIN_COUNT,
    CF_FAM_MAX = 64,
} cf_family;

typedef enum cf_alloc_fn {
    CF_ALLOC_MALLOC = 0,
    CF_ALLOC_CALLOC,
    CF_ALLOC_REALLOC,
    CF_ALLOC_REALLOCARRAY,
    CF_ALLOC_MEMALIGN,
    CF_ALLOC_POSIX_MEMALIGN,
    CF_ALLOC_ALIGNED_ALLOC,
    CF_ALLOC_VALLOC,
    CF_ALLOC_PVALLOC,
    CF_ALLOC_NEW,
    CF_ALLOC_NEW_ARRAY,
    CF_ALLOC_NEW_ALIGN,
    CF_ALLOC_NEW_ARRAY_ALIGN,
    CF_ALLOC_COTASKMEMALLOC,
    CF_ALLOC_COTASKMEMREALLOC,
    CF_ALLOC_CUSTOM,   // the family's registered allocation name
    CF_ALLOC_INTERNAL, // a library crossfree called, under the recursion guard
    CF_ALLOC_PRIVATE,  // crossfree's private code (runtime/hooks.c), under the guard
    CF_ALLOC_FN_COUNT,
} cf_alloc_fn;

typedef enum cf_dealloc_fn {
    CF_DEALLOC_FREE = 0,
    CF_DEALLOC_REALLOC,
    CF_DEALLOC_DELETE,
    CF_DEALLOC_DELETE_ARRAY,
    CF_DEALLOC_DELETE_ALIGN,
    CF_DEALLOC_DELETE_ARRAY_ALIGN,
    CF_DEALLOC_COTASKMEMFREE,
    CF_DEALLOC_COTASKMEMREALLOC,
    CF_DEALLOC_CUSTOM,
    CF_DEALLOC_FN_COUNT,
} cf_dealloc_fn;

// A block allocated while crossfree's own code ran: crossfree's, not the
// program's.
static inline bool cf_alloc_fn_is_own(unsigned fn) {
    return fn == CF_ALLOC_INTERNAL || fn == CF_ALLOC_PRIVATE;
}

// The family a built-in allocation/deallocation function belongs to.
cf_family cf_family_of_alloc(cf_alloc_fn fn);
cf_family cf_family_of_dealloc(cf_dealloc_fn fn);

// The questions every layer asks about a family, answered here only.
// A C++ family: made by one of operator new's four shapes.
static inline bool cf_family_is_new(unsigned family) {
    return family >= CF_FAM_NEW && family <= CF_FAM_NEW_ARRAY_ALIGN;
}
// The C++ family of a shape of operator new.
static inline cf_family cf_family_new(bool array, bool aligned) {
    return (cf_family)(CF_FAM_NEW + (array ? 1 : 0) + (aligned ? 2 : 0));
}
// What allocates and what releases a built-in family's blocks by default
// (operator new[] and operator delete[] for new[], ...). A registered
// family's are CF_ALLOC_CUSTOM and CF_DEALLOC_CUSTOM.
cf_alloc_fn cf_family_alloc_fn(unsigned family);
cf_dealloc_fn cf_family_dealloc_fn(unsigned family);

// Stable family name ("malloc", "new[]", ...), used in JSON and options.
const char *cf_family_name(unsigned family);
// Words for reports: "calloc()", "operator new[]", "free()", ...
// For CF_ALLOC_CUSTOM/CF_DEALLOC_CUSTOM the family's registered names.
const char *cf_alloc_fn_words(cf_alloc_fn fn, unsigned family);
const char *cf_dealloc_fn_words(cf_dealloc_fn fn, unsigned family);

// Registers a program-defined family; returns its id, or 0 when the table
// is full or a name is empty. Names are copied (truncated to 47 bytes).
unsigned cf_family_register(const char *name, const char *alloc_words, const char *dealloc_words);

#endif
