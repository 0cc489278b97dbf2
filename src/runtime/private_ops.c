// SPDX-License-Identifier: MIT
// Private operator new/delete recognition by name. The global operators
// are the only functions whose demangled names start with "operator new"
// or "operator delete"; class-specific ones carry their class
// ("DartReadable::operator new"), and stay in the malloc family they
// really use.
#include "runtime/private_ops.h"

#include "core/family.h"
#include "stack/symbolize.h"
#include "support/fmt.h"
#include "support/lock.h"

static bool starts_with(const char *s, const char *prefix) {
    return cf_streqn(s, prefix, cf_strlen(prefix));
}

static bool contains(const char *s, const char *needle) {
    size_t n = cf_strlen(needle);
    for (; *s != '\0'; s++)
        if (cf_streqn(s, needle, n))
            return true;
    return false;
}

unsigned cf_operator_family(const char *f, bool alloc) {
    bool array, aligned;
    if (starts_with(f, "operator ")) {
        const char *rest = f + 9;
        const char *word = alloc ? "new" : "delete";
        if (!starts_with(rest, word))
            return CF_FAM_NONE;
        rest += cf_strlen(word);
        array = starts_with(rest, "[]");
        if (!array && *rest != '(')
            return CF_FAM_NONE;
        aligned = contains(rest, "align_val_t");
    } else if (starts_with(f, alloc ? "_Zn" : "_Zd")) {
        // _Znwm _Znam _ZnwmSt11align_val_t ... / _ZdlPv _ZdaPv _ZdlPvm ...
        char kind = f[3];
        char second = f[4];
        if (alloc ? !(kind == 'w' || kind == 'a') : !(kind == 'l' || kind == 'a'))
            return CF_FAM_NONE;
        if (!alloc && second != 'P')
            return CF_FAM_NONE;
        array = kind == 'a';
        aligned = contains(f, "align_val_t");
    } else {
        return CF_FAM_NONE;
    }
    return cf_family_new(array, aligned);
}

// Answers per pc are cached: a program whose library keeps private
// operators may pass thousands of blocks across, each needing this answer.
#define CACHE_SLOTS 1024u
static struct {
    uintptr_t pc;
    unsigned char family; // CF_FAM_* + 1; 0 = empty slot
    bool alloc;
} cache[CACHE_SLOTS];
static cf_lock cache_lock;

unsigned cf_private_operator_family(uintptr_t pc, bool alloc) {
    if (pc == 0)
        return CF_FAM_NONE;
    unsigned slot = (unsigned)((pc >> 2) ^ (pc >> 13) ^ alloc) & (CACHE_SLOTS - 1);
    cf_lock_acquire(&cache_lock);
    bool hit = cache[slot].family != 0 && cache[slot].pc == pc && cache[slot].alloc == alloc;
    unsigned family = hit ? cache[slot].family - 1u : CF_FAM_NONE;
    cf_lock_release(&cache_lock);
    if (hit)
        return family;
    cf_frame_info f;
    family = CF_FAM_NONE;
    if (cf_symbolize(pc, true, &f) && f.function[0] != '\0')
        family = cf_operator_family(f.function, alloc);
    cf_lock_acquire(&cache_lock);
    cache[slot].pc = pc;
    cache[slot].alloc = alloc;
    cache[slot].family = (unsigned char)(family + 1);
    cf_lock_release(&cache_lock);
    return family;
}
