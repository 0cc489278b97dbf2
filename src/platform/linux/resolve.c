// SPDX-License-Identifier: MIT
// ELF dynamic symbol lookup in an already loaded object, through its GNU
// hash table (or the SysV one). Runs before anything else in crossfree, so
// it uses only dl_iterate_phdr, which takes the loader lock but never
// allocates.
#include "platform/linux/resolve.h"

#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>

#include "platform/platform.h"
#include "support/fmt.h"

typedef struct lookup {
    const char *name;
    uintptr_t self; // cf_linux_symbol_before_self: an address in crossfree
    uintptr_t result;
    bool ifunc; // the result is an IFUNC's resolver
} lookup;

static bool is_libc(const char *path) {
    const char *base = path;
    for (const char *p = path; *p != '\0'; p++)
        if (*p == '/')
            base = p + 1;
    return cf_streqn(base, "libc.so", 7);
}

static uint32_t gnu_hash(const char *s) {
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        h = h * 33 + *p;
    return h;
}

static uint32_t sysv_hash(const char *s) {
    uint32_t h = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        h = (h << 4) + *p;
        uint32_t g = h & 0xf0000000u;
        if (g != 0)
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

// The loader relocates most d_ptr entries in place; some architectures
// keep them as file offsets. Anything below the load bias is unrelocated.
static uintptr_t dyn_ptr(uintptr_t bias, ElfW(Addr) p) {
    return (uintptr_t)p < bias ? bias + (uintptr_t)p : (uintptr_t)p;
}

static bool symbol_matches(const ElfW(Sym) * sym, const char *strtab, const ElfW(Half) * versym,
                           size_t idx, const char *name) {
    if (sym->st_shndx == SHN_UNDEF || sym->st_value == 0)
        return false;
    unsigned type = ELF64_ST_TYPE(sym->st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT)
        return false;
    // Hidden (non-default) versions like dlsym@GLIBC_2.2.5 are compat entries.
    if (versym != NULL && (versym[idx] & 0x8000) != 0)
        return false;
    return cf_strcmp(strtab + sym->st_name, name) == 0;
}

// Looks `l->name` up in the object of `info`; true when it defines it
// (l->result set).
static bool find_in_object(const struct dl_phdr_info *info, lookup *l) {
    uintptr_t bias = (uintptr_t)info->dlpi_addr;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(bias + info->dlpi_phdr[i].p_vaddr);
    if (dyn == NULL)
        return false;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const uint32_t *gnu = NULL;
    const uint32_t *sysv = NULL;
    const ElfW(Half) *versym = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            symtab = (const ElfW(Sym) *)dyn_ptr(bias, dyn->d_un.d_ptr);
            break;
        case DT_STRTAB:
            strtab = (const char *)dyn_ptr(bias, dyn->d_un.d_ptr);
            break;
        case DT_GNU_HASH:
            gnu = (const uint32_t *)dyn_ptr(bias, dyn->d_un.d_ptr);
            break;
        case DT_HASH:
            sysv = (const uint32_t *)dyn_ptr(bias, dyn->d_un.d_ptr);
            break;
        case DT_VERSYM:
            versym = (const ElfW(Half) *)dyn_ptr(bias, dyn->d_un.d_ptr);
            break;
        default:
            break;
        }
    }
    if (symtab == NULL || strtab == NULL)
        return false;
    if (gnu != NULL) {
        uint32_t nbuckets = gnu[0], symoffset = gnu[1], bloom_words = gnu[2];
        const ElfW(Addr) *bloom = (const ElfW(Addr) *)(const void *)&gnu[4];
        const uint32_t *buckets = (const uint32_t *)(const void *)&bloom[bloom_words];
        const uint32_t *chain = &buckets[nbuckets];
        uint32_t h = gnu_hash(l->name);
        if (nbuckets == 0)
            return false;
        for (uint32_t i = buckets[h % nbuckets]; i >= symoffset && i != 0; i++) {
            uint32_t h2 = chain[i - symoffset];
            if ((h | 1) == (h2 | 1) && symbol_matches(&symtab[i], strtab, versym, i, l->name)) {
                l->result = bias + symtab[i].st_value;
                l->ifunc = ELF64_ST_TYPE(symtab[i].st_info) == STT_GNU_IFUNC;
                return true;
            }
            if (h2 & 1)
                break;
        }
        return false;
    }
    if (sysv != NULL) {
        uint32_t nbucket = sysv[0];
        const uint32_t *bucket = &sysv[2];
        const uint32_t *chain = &bucket[nbucket];
        if (nbucket == 0)
            return false;
        for (uint32_t i = bucket[sysv_hash(l->name) % nbucket]; i != STN_UNDEF; i = chain[i]) {
            if (symbol_matches(&symtab[i], strtab, versym, i, l->name)) {
                l->result = bias + symtab[i].st_value;
                l->ifunc = ELF64_ST_TYPE(symtab[i].st_info) == STT_GNU_IFUNC;
                return true;
            }
        }
    }
    return false;
}

static int find_in_libc(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    if (info->dlpi_name == NULL || !is_libc(info->dlpi_name))
        return 0;
    (void)find_in_object(info, data);
    return 1;
}

static bool object_contains(const struct dl_phdr_info *info, uintptr_t addr) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t s = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= s && addr - s < ph->p_memsz)
            return true;
    }
    return false;
}

// The loader's list holds the executable first, then the preloaded
// libraries in order, then the rest: the order of lookup by name for
// every object loaded at start-up.
static int find_before_self(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    lookup *l = data;
    if (object_contains(info, l->self))
        return 1;
    return find_in_object(info, l) ? 1 : 0;
}

uintptr_t cf_linux_libc_symbol(const char *name) {
    lookup l = {name, 0, 0, false};
    dl_iterate_phdr(find_in_libc, &l);
    return l.result;
}

uintptr_t cf_linux_symbol_before_self(const char *name, uintptr_t self, bool *ifunc) {
    lookup l = {name, self, 0, false};
    dl_iterate_phdr(find_before_self, &l);
    *ifunc = l.ifunc;
    return l.result;
}

typedef struct range_query {
    uintptr_t addr, lo, hi;
    bool found;
} range_query;

// The span [*lo, *hi) of an object's loaded segments; false if it has none.
static bool load_span(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi) {
    *lo = UINTPTR_MAX;
    *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        uintptr_t e = s + ph->p_memsz;
        *lo = s < *lo ? s : *lo;
        *hi = e > *hi ? e : *hi;
    }
    return *lo < *hi;
}

static int range_of(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    range_query *q = data;
    if (!object_contains(info, q->addr))
        return 0;
    q->found = load_span(info, &q->lo, &q->hi);
    return 1;
}

typedef struct ranges_query {
    bool (*want)(const char *path);
    uintptr_t *lo, *hi;
    unsigned n, max;
} ranges_query;

static int wanted_range(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    ranges_query *q = data;
    if (q->n == q->max || info->dlpi_name == NULL || info->dlpi_name[0] == '\0' ||
        !q->want(info->dlpi_name))
        return 0;
    uintptr_t lo, hi;
    if (load_span(info, &lo, &hi)) {
        q->lo[q->n] = lo;
        q->hi[q->n] = hi;
        q->n++;
    }
    return 0;
}

unsigned cf_os_module_ranges(bool (*want)(const char *path), uintptr_t *lo, uintptr_t *hi,
                             unsigned max) {
    ranges_query q = {want, lo, hi, 0, max};
    dl_iterate_phdr(wanted_range, &q);
    return q.n;
}

int cf_linux_object_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi) {
    range_query q = {addr, 0, 0, false};
    dl_iterate_phdr(range_of, &q);
    *lo = q.lo;
    *hi = q.hi;
    return q.found;
}
