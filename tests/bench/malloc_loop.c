// SPDX-License-Identifier: MIT
// Benchmark workload: malloc/free churn over a slot array, 1 to 64 threads. A
// PRNG picks a slot: empty means malloc (8 B to 4 KiB), full means free; with
// several threads a quarter of the frees hand the block to the next thread over
// a lock-free ring. The checksum never depends on scheduling or on the preload.
//
// Usage: bench_malloc_loop [THREADS [SCALE]]   (SCALE 1.0 = 20M operations)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    FULL_OPS = 20000000, // loop iterations at scale 1.0, split between the threads
    TOTAL_SLOTS = 65536, // live set at equilibrium: about half of the slots
    MAX_SIZE = 4096,
    RING_SLOTS = 16384,
    MAX_THREADS = 64,
};

// ---------------------------------------------------------------------------
// PRNG and block contents

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Sizes are spread over powers of two so small blocks dominate, as they do
// in real programs, while every size class up to 4 KiB is still used.
static uint32_t pick_size(uint64_t r) {
    uint32_t span = 8u << (r % 10);
    uint32_t size = 8 + (uint32_t)((r >> 8) % span);
    return size > MAX_SIZE ? MAX_SIZE : size;
}

// The first 8 bytes and the last byte carry a value derived from the
// block's identity; whoever frees the block checks both and adds the value.
static void stamp(unsigned char *p, uint32_t size, uint64_t value) {
    memcpy(p, &value, sizeof value);
    p[size - 1] = (unsigned char)(value >> 56);
}

typedef struct {
    unsigned char *p;
    uint32_t size;
} block;

// ---------------------------------------------------------------------------
// Single-producer single-consumer ring from thread t-1 to thread t

typedef struct {
    block slots[RING_SLOTS];
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    _Alignas(64) atomic_int producer_done;
} ring;

static int ring_push(ring *r, block b) {
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (h - atomic_load_explicit(&r->tail, memory_order_acquire) == RING_SLOTS)
        return 0;
    r->slots[h % RING_SLOTS] = b;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return 1;
}

static int ring_pop(ring *r, block *b) {
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (t == atomic_load_explicit(&r->head, memory_order_acquire))
        return 0;
    *b = r->slots[t % RING_SLOTS];
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return 1;
}

// ---------------------------------------------------------------------------
// One worker

typedef struct {
    int index, nthreads;
    uint64_t ops;
    ring *in, *out; // NULL with one thread
    block *slots;
    uint32_t nslots;
    uint64_t sum, blocks, handed, bad;
} worker;

static void release(worker *w, block b) {
    uint64_t v;
    memcpy(&v, b.p, sizeof v);
    if (b.p[b.size - 1] != (unsigned char)(v >> 56))
        w->bad++;
    w->sum += v;
    free(b.p);
}

static void drain(worker *w) {
    block b;
    while (ring_pop(w->in, &b))
        release(w, b);
}

static void *run_worker(void *arg) {
    worker *w = arg;
    uint64_t rng = 0x243f6a8885a308d3ULL * (uint64_t)(w->index + 1);
    uint64_t serial = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t r = splitmix64(&rng);
        block *s = &w->slots[r % w->nslots];
        if (s->p == NULL) {
            uint32_t size = pick_size(r >> 16);
            s->p = malloc(size);
            if (s->p == NULL) {
                fprintf(stderr, "malloc_loop: out of memory\n");
                exit(2);
            }
            s->size = size;
            uint64_t id = ((uint64_t)w->index << 48) ^ serial++;
            stamp(s->p, size, splitmix64(&id));
            w->blocks++;
        } else {
            block b = *s;
            s->p = NULL;
            if (w->out != NULL && (r >> 60) < 4 && ring_push(w->out, b))
                w->handed++;
            else
                release(w, b);
        }
        if (w->in != NULL && (i & 63) == 0)
            drain(w);
    }
    for (uint32_t k = 0; k < w->nslots; k++)
        if (w->slots[k].p != NULL)
            release(w, w->slots[k]);
    if (w->out != NULL)
        atomic_store_explicit(&w->out->producer_done, 1, memory_order_release);
    if (w->in != NULL) {
        // The producer only pushes inside its loop: once it says it is done,
        // one more drain empties the ring for good.
        while (!atomic_load_explicit(&w->in->producer_done, memory_order_acquire)) {
            drain(w);
            sched_yield(); // two cores, four threads: let the producer finish
        }
        drain(w);
    }
    return NULL;
}

// ---------------------------------------------------------------------------

int main(int argc, char **argv) {
    int nthreads = argc > 1 ? atoi(argv[1]) : 1;
    double scale = argc > 2 ? strtod(argv[2], NULL) : 1.0;
    if (nthreads < 1 || nthreads > MAX_THREADS || !(scale > 0)) {
        fprintf(stderr, "usage: %s [THREADS 1-%d [SCALE > 0]]\n", argv[0], MAX_THREADS);
        return 2;
    }
    uint64_t total_ops = (uint64_t)(FULL_OPS * scale);
    if (total_ops < (uint64_t)nthreads)
        total_ops = (uint64_t)nthreads;

    static worker workers[MAX_THREADS];
    static ring rings[MAX_THREADS];
    static block all_slots[TOTAL_SLOTS];
    uint32_t per_thread = TOTAL_SLOTS / (uint32_t)nthreads;
    for (int t = 0; t < nthreads; t++) {
        worker *w = &workers[t];
        w->index = t;
        w->nthreads = nthreads;
        w->ops = total_ops / (uint64_t)nthreads + ((uint64_t)t < total_ops % (uint64_t)nthreads);
        w->slots = &all_slots[(uint32_t)t * per_thread];
        w->nslots = per_thread;
        if (nthreads > 1) {
            w->in = &rings[t];
            w->out = &rings[(t + 1) % nthreads];
        }
    }

    if (nthreads == 1) {
        run_worker(&workers[0]);
    } else {
        pthread_t tids[MAX_THREADS];
        for (int t = 0; t < nthreads; t++)
            if (pthread_create(&tids[t], NULL, run_worker, &workers[t]) != 0) {
                fprintf(stderr, "malloc_loop: pthread_create failed\n");
                return 2;
            }
        for (int t = 0; t < nthreads; t++)
            pthread_join(tids[t], NULL);
    }

    uint64_t sum = 0, blocks = 0, handed = 0, bad = 0;
    for (int t = 0; t < nthreads; t++) {
        sum += workers[t].sum;
        blocks += workers[t].blocks;
        handed += workers[t].handed;
        bad += workers[t].bad;
    }
    // The number of handed-over blocks depends on timing (a full ring means
    // a local free), so it goes to stderr, away from the compared output.
    fprintf(stderr, "malloc_loop: %llu blocks freed by another thread\n",
            (unsigned long long)handed);
    printf("malloc_loop threads=%d ops=%llu blocks=%llu checksum=%016llx bad=%llu\n", nthreads,
           (unsigned long long)total_ops, (unsigned long long)blocks, (unsigned long long)sum,
           (unsigned long long)bad);
    return bad == 0 ? 0 : 1;
}
