// SPDX-License-Identifier: MIT
// Quarantine rings. Each shard is a FIFO ring in mmap'd memory with its own
// byte budget; the shard is picked by the freeing thread, so threads that
// free in parallel rarely meet on a lock. The owner table no longer holds
// a record for anything in here, so eviction only releases the block.
#include "core/quarantine.h"

#include "platform/platform.h"
#include "support/check.h"
#include "support/lock.h"

#define QSHARDS 8u
#define RING 1024u // entries per shard
#define EVICT_BATCH 32u
// Per shard, how many of its entries have an address of each hash: a
// lookup skips, without its lock, every shard whose count for the address
// is 0, which is all of them for a block the quarantine never saw (on
// Windows that is every HeapFree of a block another DLL allocated).
#define FILTER 2048u
#define FILTER_SHIFT 53 // 64 - log2(FILTER)

typedef struct qshard {
    cf_lock lock;
    uint32_t head; // oldest entry
    uint32_t count;
    size_t bytes;
    cf_qentry *ring;
    uint16_t *filter; // FILTER counts, changed under the lock (at most RING each)
} __attribute__((aligned(64))) qshard;

static inline uint16_t *filter_of(qshard *q, uintptr_t addr) {
    return &q->filter[((uint64_t)addr * UINT64_C(0x9e3779b97f4a7c15)) >> FILTER_SHIFT];
}

// Under the lock; read without it by may_hold.
static inline void filter_add(qshard *q, uintptr_t addr, int d) {
    uint16_t *c = filter_of(q, addr);
    __atomic_store_n(c, (uint16_t)(*c + d), __ATOMIC_RELAXED);
}

// False when the shard holds no entry for addr. Without the lock: an entry
// being pushed or evicted at this moment may be missed, which only a free
// racing with another free of the same block could see.
static inline bool may_hold(qshard *q, uintptr_t addr) {
    return q->filter != NULL && __atomic_load_n(filter_of(q, addr), __ATOMIC_RELAXED) != 0;
}

static qshard qshards[QSHARDS];

// A push holds its shard's lock with its thread's own value (never 0 or 1,
// the value of every other holder). A signal handler that frees while the
// thread it interrupted is inside that same push would spin for ever on a
// lock its own thread holds (the shard is picked by thread): it sees its
// own value there and skips the quarantine instead (the block is released
// at once). No thread-local variable: the macOS image must have none.
static inline int owner_of(uint32_t tid) { return 2 + (int)(tid & 0x3fffffffu); }

static inline bool push_enter(qshard *q, uint32_t tid) {
    int me = owner_of(tid);
    for (unsigned spins = 0;; spins++) {
        int seen = atomic_load_explicit(&q->lock.held, memory_order_relaxed);
        if (seen == me)
            return false; // re-entered from a signal handler on this thread
        if (seen == 0 && atomic_compare_exchange_weak_explicit(
                             &q->lock.held, &seen, me, memory_order_acquire, memory_order_relaxed))
            return true;
        if (spins > 64)
            cf_os_yield();
        else
            CF_CPU_RELAX();
    }
}

// Bytes an entry holds back: none for a ghost, whose block realloc already
// released.
static inline uint64_t held(const cf_qentry *e) { return e->ghost ? 0 : cf_record_size(&e->rec); }
static size_t budget_per_shard;
static bool enabled;

bool cf_quarantine_init(size_t total_bytes) {
    enabled = false;
    if (total_bytes == 0)
        return true;
    if (qshards[0].ring == NULL) {
        // One lazily committed mapping holds every shard's ring and filter.
        size_t ring_bytes = (size_t)QSHARDS * RING * sizeof(cf_qentry);
        cf_qentry *rings =
            cf_os_map(ring_bytes + (size_t)QSHARDS * FILTER * sizeof(uint16_t), true);
        if (rings == NULL)
            return false;
        uint16_t *filters = (uint16_t *)(void *)((char *)rings + ring_bytes);
        for (unsigned i = 0; i < QSHARDS; i++) {
            qshards[i].filter = filters + (size_t)i * FILTER;
            qshards[i].ring = rings + (size_t)i * RING;
        }
    }
    budget_per_shard = total_bytes / QSHARDS;
    enabled = true;
    return true;
}

bool cf_quarantine_enabled(void) { return enabled; }

bool cf_quarantine_push(uint32_t tid, const cf_qentry *e, cf_release_fn release) {
    qshard *q = &qshards[tid % QSHARDS];
    cf_qentry out[EVICT_BATCH];
    if (!enabled || held(e) > budget_per_shard)
        return false;
    for (;;) {
        unsigned n_out = 0;
        bool pushed = false;
        if (!push_enter(q, tid))
            return false; // re-entered from a signal handler: released now
        while (q->count > 0 && n_out < EVICT_BATCH &&
               (q->count == RING || q->bytes + held(e) > budget_per_shard)) {
            out[n_out++] = q->ring[q->head];
            q->bytes -= held(&q->ring[q->head]);
            filter_add(q, q->ring[q->head].rec.addr, -1);
            q->head = (q->head + 1) % RING;
            q->count--;
        }
        if (q->count < RING && q->bytes + held(e) <= budget_per_shard) {
            q->ring[(q->head + q->count) % RING] = *e;
            filter_add(q, e->rec.addr, +1);
            q->count++;
            q->bytes += held(e);
            pushed = true;
        }
        cf_lock_release(&q->lock);
        // Outside the lock: the real free may take its own locks.
        for (unsigned i = 0; i < n_out; i++) {
            if (!out[i].ghost)
                release(cf_record_real_addr(&out[i].rec), cf_record_family(&out[i].rec));
        }
        if (pushed)
            return true;
    }
}

bool cf_quarantine_find(uintptr_t addr, cf_qentry *out) {
    bool found = false;
    for (unsigned s = 0; s < QSHARDS && !(found && !out->ghost); s++) {
        qshard *q = &qshards[s];
        if (!may_hold(q, addr))
            continue;
        cf_lock_acquire(&q->lock);
        CF_CHECK(q->count <= RING && q->head < RING);
        for (uint32_t i = 0; q->ring != NULL && i < q->count; i++) {
            const cf_qentry *e = &q->ring[(q->head + i) % RING];
            // Within a shard the newest entry wins; a real free wins over
            // ghosts everywhere.
            if (e->rec.addr == addr && (!found || out->ghost || !e->ghost)) {
                *out = *e;
                found = true;
            }
        }
        cf_lock_release(&q->lock);
    }
    return found;
}

bool cf_quarantine_find_near(uintptr_t addr, uint64_t window, cf_qentry *out) {
    bool found = false;
    uint64_t best = 0;
    for (unsigned s = 0; s < QSHARDS; s++) {
        qshard *q = &qshards[s];
        cf_lock_acquire(&q->lock);
        CF_CHECK(q->count <= RING && q->head < RING);
        for (uint32_t i = 0; q->ring != NULL && i < q->count; i++) {
            const cf_qentry *e = &q->ring[(q->head + i) % RING];
            uint64_t d = cf_record_distance(&e->rec, addr);
            if (!e->ghost && d <= window && (!found || d <= best)) {
                *out = *e;
                best = d;
                found = true;
            }
        }
        cf_lock_release(&q->lock);
    }
    return found;
}

bool cf_quarantine_holds(uintptr_t addr) {
    cf_qentry e;
    return cf_quarantine_find(addr, &e) && !e.ghost;
}

void cf_quarantine_lock_all(void) {
    for (unsigned s = 0; s < QSHARDS; s++)
        cf_lock_acquire(&qshards[s].lock);
}

void cf_quarantine_unlock_all(void) {
    for (unsigned s = QSHARDS; s-- > 0;)
        cf_lock_release(&qshards[s].lock);
}
