// SPDX-License-Identifier: MIT
// Stack depot. Nodes live in one big mapping and are carved with an atomic
// bump pointer; a node's id is its offset in 8-byte units, so ids fit in 32
// bits for up to 32 GiB of stacks. Buckets are atomic heads of singly linked
// chains: a lost race inserts a duplicate, which is harmless.
#include "stack/depot.h"

#include <stdatomic.h>

#include "platform/platform.h"
#include "support/check.h"

#define BUCKET_BITS 16 // 256 KiB of heads: chains stay short up to ~100K stacks
#define BUCKETS (1u << BUCKET_BITS)
#define UNIT 8u

typedef struct node {
    uint32_t next; // id of the next node in the bucket chain
    uint32_t hash;
    uint32_t n;
    uint32_t pad;
    uintptr_t pcs[]; // n frames
} node;

static atomic_uint *buckets;
// The last stack stored or found under each of a few thousand hashes: a
// repeated stack (the pc that calls free, most of all) skips the bucket
// chain, whose head is a likely cache miss in the big bucket array.
#define RECENT 4096u
static atomic_uint recent[RECENT];
static char *arena;
static size_t arena_size;
static atomic_size_t arena_used;
static atomic_size_t stack_count;

bool cf_depot_init(size_t reserve_bytes) {
    if (arena != NULL)
        return true;
    if (reserve_bytes > (size_t)UINT32_MAX * UNIT)
        reserve_bytes = (size_t)UINT32_MAX * UNIT;
    buckets = cf_os_map(BUCKETS * sizeof(atomic_uint), true);
    if (buckets == NULL)
        return false;
    // Ask for less when a strict overcommit policy refuses a big reservation.
    for (size_t want = reserve_bytes; want >= (1u << 20); want /= 4) {
        arena = cf_os_map(want, true);
        if (arena != NULL) {
            arena_size = want;
            break;
        }
    }
    if (arena == NULL)
        return false;
    atomic_store(&arena_used, UNIT); // offset 0 is id 0: "no stack"
    return true;
}

static uint32_t hash_pcs(const uintptr_t *pcs, unsigned n) {
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ n;
    for (unsigned i = 0; i < n; i++) {
        h ^= (uint64_t)pcs[i];
        h *= UINT64_C(0x100000001b3);
        h ^= h >> 29;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static inline node *node_at(uint32_t id) { return (node *)(void *)(arena + (size_t)id * UNIT); }

static bool same(const node *nd, uint32_t hash, const uintptr_t *pcs, unsigned n) {
    if (nd->hash != hash || nd->n != n)
        return false;
    for (unsigned i = 0; i < n; i++)
        if (nd->pcs[i] != pcs[i])
            return false;
    return true;
}

uint32_t cf_depot_put(const uintptr_t *pcs, unsigned n) {
    if (n == 0 || arena == NULL)
        return 0;
    if (n > CF_DEPOT_MAX_FRAMES)
        n = CF_DEPOT_MAX_FRAMES;
    uint32_t hash = hash_pcs(pcs, n);
    atomic_uint *last = &recent[hash & (RECENT - 1)];
    uint32_t seen = atomic_load_explicit(last, memory_order_acquire);
    if (seen != 0 && same(node_at(seen), hash, pcs, n))
        return seen;
    atomic_uint *head = &buckets[hash & (BUCKETS - 1)];
    uint32_t first = atomic_load_explicit(head, memory_order_acquire);
    for (uint32_t id = first; id != 0; id = node_at(id)->next)
        if (same(node_at(id), hash, pcs, n)) {
            atomic_store_explicit(last, id, memory_order_release);
            return id;
        }

    size_t bytes = sizeof(node) + (size_t)n * sizeof(uintptr_t);
    size_t off = atomic_fetch_add_explicit(&arena_used, bytes, memory_order_relaxed);
    if (off + bytes > arena_size)
        return 0; // full: the record keeps no stack rather than failing
    uint32_t id = (uint32_t)(off / UNIT);
    node *nd = node_at(id);
    nd->hash = hash;
    nd->n = n;
    for (unsigned i = 0; i < n; i++)
        nd->pcs[i] = pcs[i];
    nd->next = first;
    while (!atomic_compare_exchange_weak_explicit(head, &first, id, memory_order_release,
                                                  memory_order_acquire)) {
        // Someone pushed meanwhile; our node goes in front of theirs.
        nd->next = first;
    }
    atomic_fetch_add_explicit(&stack_count, 1, memory_order_relaxed);
    atomic_store_explicit(last, id, memory_order_release);
    return id;
}

unsigned cf_depot_get(uint32_t id, const uintptr_t **pcs) {
    if (id == 0 || arena == NULL || (size_t)id * UNIT >= atomic_load(&arena_used)) {
        *pcs = NULL;
        return 0;
    }
    const node *nd = node_at(id);
    // An id inside the arena that is not a node's (a corrupt record) would
    // have a report read frames from anywhere.
    CF_CHECK(nd->n > 0 && nd->n <= CF_DEPOT_MAX_FRAMES);
    *pcs = nd->pcs;
    return nd->n;
}

void cf_depot_get_stats(cf_depot_stats *s) {
    s->stacks = atomic_load(&stack_count);
    size_t used = atomic_load(&arena_used);
    s->used_bytes = (used > arena_size ? arena_size : used) + BUCKETS * sizeof(atomic_uint);
}
