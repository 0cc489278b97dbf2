// SPDX-License-Identifier: MIT
// Owner table implementation: 64 shards, linear probing, backward-shift
// deletion (no tombstones, so lookups never slow down with churn). A shard
// grows by mapping a table twice the size and rehashing into it.
#include "core/table.h"

#include "platform/platform.h"
#include "support/check.h"
#include "support/lock.h"

#define SHARD_BITS 6
#define SHARDS (1u << SHARD_BITS)
#define INITIAL_SLOTS 256u // 6 KiB per shard: small processes stay small

typedef struct shard {
    cf_lock lock;
    uint32_t mask; // slots - 1
    size_t count;
    cf_record *slots;
} __attribute__((aligned(64))) shard;

static shard shards[SHARDS];
// The shards' first tables share one mapping (one mmap per process start
// instead of 64); a table that outgrows its piece gets a mapping of its own.
static cf_record *initial_block;

// Mixes the address so that shard and slot bits both depend on every bit
// of it (malloc addresses share their low 4 bits and often their high 20).
static inline uint64_t mix(uintptr_t a) {
    uint64_t h = (uint64_t)a;
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static inline shard *shard_of(uint64_t h) { return &shards[h & (SHARDS - 1)]; }
static inline uint32_t home_of(const shard *s, uint64_t h) {
    return (uint32_t)(h >> SHARD_BITS) & s->mask;
}

static cf_record *map_slots(size_t n) { return cf_os_map(n * sizeof(cf_record), false); }

bool cf_table_init(void) {
    if (initial_block != NULL)
        return true;
    initial_block = map_slots((size_t)SHARDS * INITIAL_SLOTS);
    if (initial_block == NULL)
        return false;
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        s->slots = initial_block + (size_t)i * INITIAL_SLOTS;
        s->mask = INITIAL_SLOTS - 1;
        s->count = 0;
    }
    return true;
}

static bool in_initial_block(const cf_record *slots) {
    return slots >= initial_block && slots < initial_block + (size_t)SHARDS * INITIAL_SLOTS;
}

// Returns the slot holding addr, or the empty slot where it would go.
static inline uint32_t probe(const shard *s, uintptr_t addr, uint64_t h) {
    uint32_t i = home_of(s, h);
    while (s->slots[i].addr != 0 && s->slots[i].addr != addr)
        i = (i + 1) & s->mask;
    return i;
}

static bool grow(shard *s) {
    size_t old_n = (size_t)s->mask + 1;
    size_t new_n = old_n * 2;
    if (new_n > (UINT64_C(1) << 31))
        return false;
    cf_record *fresh = map_slots(new_n);
    if (fresh == NULL)
        return false;
    cf_record *old = s->slots;
    s->slots = fresh;
    s->mask = (uint32_t)(new_n - 1);
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].addr == 0)
            continue;
        uint32_t j = probe(s, old[i].addr, mix(old[i].addr));
        s->slots[j] = old[i];
    }
    if (!in_initial_block(old))
        cf_os_unmap(old, old_n * sizeof(cf_record));
    return true;
}

bool cf_table_insert(const cf_record *r) {
    CF_DCHECK(r->addr != 0);
    uint64_t h = mix(r->addr);
    shard *s = shard_of(h);
    bool ok = true;
    cf_lock_acquire(&s->lock);
    if (s->slots == NULL) {
        // Not initialised (only possible if init failed); drop the record.
        ok = false;
    } else {
        // Keep the load factor at or under 3/4 so probes stay short.
        if ((s->count + 1) * 4 > ((size_t)s->mask + 1) * 3 && !grow(s) && s->count + 1 > s->mask) {
            ok = false;
        }
        if (ok) {
            uint32_t i = probe(s, r->addr, h);
            if (s->slots[i].addr == 0)
                s->count++;
            s->slots[i] = *r;
        }
    }
    cf_lock_release(&s->lock);
    return ok;
}

bool cf_table_lookup(uintptr_t addr, cf_record *out) {
    uint64_t h = mix(addr);
    shard *s = shard_of(h);
    bool found = false;
    cf_lock_acquire(&s->lock);
    if (s->slots != NULL && addr != 0) {
        uint32_t i = probe(s, addr, h);
        if (s->slots[i].addr == addr) {
            *out = s->slots[i];
            found = true;
        }
    }
    cf_lock_release(&s->lock);
    return found;
}

// Backward-shift deletion: pull later members of the probe run into the
// hole so that every record stays reachable from its home slot.
static void erase_at(shard *s, uint32_t i) {
    uint32_t hole = i;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (s->slots[j].addr == 0)
            break;
        uint32_t home = home_of(s, mix(s->slots[j].addr));
        // Move j into the hole if its home is not in (hole, j] cyclically.
        bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole].addr = 0;
    s->count--;
}

bool cf_table_remove(uintptr_t addr, cf_record *out) {
    uint64_t h = mix(addr);
    shard *s = shard_of(h);
    bool found = false;
    cf_lock_acquire(&s->lock);
    if (s->slots != NULL && addr != 0) {
        uint32_t i = probe(s, addr, h);
        if (s->slots[i].addr == addr) {
            if (out != NULL)
                *out = s->slots[i];
            erase_at(s, i);
            found = true;
        }
    }
    cf_lock_release(&s->lock);
    return found;
}

bool cf_table_find_containing(uintptr_t p, cf_record *out) {
    bool found = false;
    uint64_t best_size = 0;
    for (unsigned k = 0; k < SHARDS; k++) {
        shard *s = &shards[k];
        cf_lock_acquire(&s->lock);
        for (size_t i = 0; s->slots != NULL && i <= s->mask; i++) {
            const cf_record *r = &s->slots[i];
            uint64_t size = cf_record_size(r);
            // A zero-size block contains only its own address.
            if (r->addr != 0 && p >= r->addr && p - r->addr < (size ? size : 1) &&
                (!found || size < best_size)) {
                *out = *r;
                best_size = size;
                found = true;
            }
        }
        cf_lock_release(&s->lock);
    }
    return found;
}

void cf_table_get_stats(cf_table_stats *st) {
    st->records = st->slots = st->mapped_bytes = 0;
    for (unsigned k = 0; k < SHARDS; k++) {
        shard *s = &shards[k];
        cf_lock_acquire(&s->lock);
        if (s->slots != NULL) {
            st->records += s->count;
            st->slots += (size_t)s->mask + 1;
        }
        cf_lock_release(&s->lock);
    }
    st->mapped_bytes = st->slots * sizeof(cf_record);
}

void cf_table_lock_all(void) {
    for (unsigned k = 0; k < SHARDS; k++)
        cf_lock_acquire(&shards[k].lock);
}

void cf_table_unlock_all(void) {
    for (unsigned k = SHARDS; k-- > 0;)
        cf_lock_release(&shards[k].lock);
}
