// SPDX-License-Identifier: MIT
// Owner table implementation. Two instances of one sharded table
// (table_shards.inc): the compact table, whose 16-byte slots hold every
// record that fits them (an address below 2^48, a size under 16 MiB, one of
// the first 255 threads), and the full table of 24-byte records for the
// rest. An address has a record in at most one of them; the full table is
// only consulted while it holds anything, so a process that never needs it
// pays one relaxed load for it.
#include "core/table.h"

#include <stdatomic.h>
#include <string.h>

#include "platform/platform.h"
#include "support/check.h"
#include "support/lock.h"

#define SHARD_BITS 6
#define SHARDS (1u << SHARD_BITS)

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

// The hash of a block address: shard and slot bits both depend on every bit
// of it (malloc addresses share their low 4 bits and often their high 20).
// Keeping neighbouring blocks' records together (the page picking a window
// of slots) was measured and was no faster: allocation order and free order
// differ too much for the shared cache lines to pay.
static inline uint64_t key_hash(uintptr_t a) { return mix((uint64_t)a); }

// The compact slot:
//   w0 = address:48 | family:6 | alloc_fn:5 | header:1 | align log2:4
//   w1 = stack:32 | size:24 | thread:8
typedef struct compact_slot {
    uint64_t w0, w1;
} compact_slot;
_Static_assert(sizeof(compact_slot) == 16, "a compact slot is 16 bytes");

#define ADDR_MASK ((UINT64_C(1) << 48) - 1)
#define COMPACT_SIZE_MAX ((UINT64_C(1) << 24) - 1)
#define COMPACT_TID_MAX 255u

static inline uintptr_t compact_addr(const compact_slot *c) {
    return (uintptr_t)(c->w0 & ADDR_MASK);
}

static bool pack(const cf_record *r, compact_slot *out) {
    uint64_t size = cf_record_size(r);
    unsigned family = cf_record_family(r), fn = cf_record_alloc_fn(r);
    uint32_t tid = cf_record_tid(r);
    if ((r->addr & ~ADDR_MASK) != 0 || size > COMPACT_SIZE_MAX || tid > COMPACT_TID_MAX ||
        family >= 64 || fn >= 32 || cf_record_align_log2(r) > 15)
        return false;
    out->w0 = (uint64_t)r->addr | (uint64_t)family << 48 | (uint64_t)fn << 54 |
              (uint64_t)cf_record_has_header(r) << 59 | (uint64_t)cf_record_align_log2(r) << 60;
    out->w1 = (uint64_t)r->stack | size << 32 | (uint64_t)tid << 56;
    return true;
}

static cf_record unpack(const compact_slot *c) {
    cf_record r = cf_record_make(compact_addr(c), (c->w1 >> 32) & COMPACT_SIZE_MAX,
                                 (unsigned)(c->w0 >> 48) & 63, (unsigned)(c->w0 >> 54) & 31,
                                 (uint32_t)c->w1, (uint32_t)(c->w1 >> 56));
    if ((c->w0 >> 59) & 1)
        cf_record_set_header(&r);
    if ((c->w0 >> 60) != 0)
        cf_record_set_align(&r, UINT64_C(1) << (c->w0 >> 60));
    return r;
}

#define TS_NAME(x) compact_##x
#define TS_SLOT compact_slot
#define TS_ADDR(p) compact_addr(p)
#define TS_INITIAL 64u // 1 KiB per shard: small processes stay small
#include "core/table_shards.inc"
#undef TS_NAME
#undef TS_SLOT
#undef TS_ADDR
#undef TS_INITIAL

#define TS_NAME(x) full_##x
#define TS_SLOT cf_record
#define TS_ADDR(p) ((p)->addr)
#define TS_INITIAL 0u
#include "core/table_shards.inc"
#undef TS_NAME
#undef TS_SLOT
#undef TS_ADDR
#undef TS_INITIAL

// Records in the full table. Changed under a shard lock, read without one:
// a thread that frees a block was handed it after the insert that counted
// it (through the program's own synchronisation), so it sees the count.
static atomic_size_t full_records;

static inline bool full_in_use(void) {
    return atomic_load_explicit(&full_records, memory_order_relaxed) != 0;
}

bool cf_table_init(void) { return compact_init() && full_init(); }

bool cf_table_insert(const cf_record *r) {
    CF_DCHECK(r->addr != 0);
    compact_slot c;
    bool added;
    if (pack(r, &c)) {
        cf_record old;
        if (full_in_use() && full_remove(r->addr, &old))
            atomic_fetch_sub(&full_records, 1);
        return compact_insert(&c, &added);
    }
    compact_slot old;
    compact_remove(r->addr, &old); // one record per address
    bool ok = full_insert(r, &added);
    if (ok && added)
        atomic_fetch_add(&full_records, 1);
    return ok;
}

bool cf_table_lookup(uintptr_t addr, cf_record *out) {
    compact_slot c;
    if (compact_lookup(addr, &c)) {
        *out = unpack(&c);
        return true;
    }
    return full_in_use() && full_lookup(addr, out);
}

bool cf_table_remove(uintptr_t addr, cf_record *out) {
    compact_slot c;
    cf_record r;
    if (compact_remove(addr, &c)) {
        if (out != NULL)
            *out = unpack(&c);
        return true;
    }
    if (!full_in_use() || !full_remove(addr, &r))
        return false;
    atomic_fetch_sub(&full_records, 1);
    if (out != NULL)
        *out = r;
    return true;
}

void cf_table_prefetch(uintptr_t addr) { compact_prefetch(addr); }

typedef struct containing_ctx {
    uintptr_t p;
    uint64_t window;
    bool found;
    uint64_t best_distance;
    cf_record best;
} containing_ctx;

static void consider(const cf_record *r, containing_ctx *c) {
    uint64_t d = cf_record_distance(r, c->p);
    if (d > c->window)
        return;
    if (!c->found || d < c->best_distance ||
        (d == c->best_distance && cf_record_size(r) < cf_record_size(&c->best))) {
        c->best = *r;
        c->best_distance = d;
        c->found = true;
    }
}

static void consider_compact(const compact_slot *slot, void *ctx) {
    cf_record r = unpack(slot);
    consider(&r, ctx);
}

static void consider_full(const cf_record *slot, void *ctx) { consider(slot, ctx); }

bool cf_table_find_containing(uintptr_t p, cf_record *out) { return cf_table_find_near(p, 0, out); }

bool cf_table_find_near(uintptr_t p, uint64_t window, cf_record *out) {
    containing_ctx c = {p, window, false, 0, {0}};
    compact_scan(consider_compact, &c);
    full_scan(consider_full, &c);
    if (c.found)
        *out = c.best;
    return c.found;
}

void cf_table_get_stats(cf_table_stats *st) {
    st->records = st->slots = st->mapped_bytes = 0;
    compact_add_stats(st);
    full_add_stats(st);
}

void cf_table_lock_all(void) {
    compact_lock_all();
    full_lock_all();
}

void cf_table_unlock_all(void) {
    full_unlock_all();
    compact_unlock_all();
}
