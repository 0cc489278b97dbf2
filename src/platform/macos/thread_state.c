// SPDX-License-Identifier: MIT
// crossfree's per-thread state on macOS, kept without __thread. dyld makes a
// thread's copy of an image's thread-local variables on first access, with
// malloc (libdyld's ThreadLocalVariables::instantiateVariable): a malloc
// wrapper that touched one would call itself before the copy exists. The
// records live in mmap'd slots reached through a pthread key instead.
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "platform/macos/macos.h"
#include "platform/platform.h"
#include "runtime/runtime.h"
#include "support/lock.h"
#include "support/log.h"

// Before the key exists every thread uses `early`; the thread that creates
// the key keeps it as its own record.
static atomic_bool key_ready;
static pthread_key_t key;
static cf_tls early;

// ---------------------------------------------------------------------------
// Slots: mmap'd in chunks, recycled when their thread exits

#define CHUNK_SLOTS 1024

typedef union slot {
    cf_tls tls;
    union slot *next; // while on the free list
} slot;

static cf_lock pool_lock;
static slot *free_list;
static slot *chunk;
static size_t chunk_used;

static cf_tls *slot_take(void) {
    cf_lock_acquire(&pool_lock);
    slot *s = free_list;
    if (s != NULL) {
        free_list = s->next;
    } else {
        if (chunk == NULL || chunk_used == CHUNK_SLOTS) {
            slot *fresh = cf_os_map(CHUNK_SLOTS * sizeof(slot), false);
            if (fresh != NULL) {
                chunk = fresh;
                chunk_used = 0;
            }
        }
        if (chunk != NULL && chunk_used < CHUNK_SLOTS)
            s = &chunk[chunk_used++];
    }
    cf_lock_release(&pool_lock);
    if (s == NULL)
        return &early; // out of address space: share rather than crash
    memset(s, 0, sizeof *s);
    return &s->tls;
}

// The key's destructor, run by libpthread as the thread exits. A later
// destructor of another library may free memory and so take a new slot;
// libpthread then runs this destructor again (up to
// PTHREAD_DESTRUCTOR_ITERATIONS times).
static void slot_release(void *v) {
    if (v == NULL || v == &early)
        return;
    slot *s = v;
    cf_lock_acquire(&pool_lock);
    s->next = free_list;
    free_list = s;
    cf_lock_release(&pool_lock);
}

// ---------------------------------------------------------------------------
// The contract with the runtime

cf_tls *cf_platform_tls(void) {
    if (!atomic_load_explicit(&key_ready, memory_order_acquire))
        return &early;
    cf_tls *t = pthread_getspecific(key);
    if (t == NULL) {
        t = slot_take();
        pthread_setspecific(key, t);
    }
    return t;
}

void cf_macos_threads_start(void) {
    if (atomic_load(&key_ready))
        return;
    if (pthread_key_create(&key, slot_release) != 0) {
        cf_log_warn("cannot create a pthread key; all threads share one state record and "
                    "reports may name the wrong thread");
        return;
    }
    pthread_setspecific(key, &early);
    atomic_store_explicit(&key_ready, true, memory_order_release);
}

void cf_macos_threads_fork_prepare(void) { cf_lock_acquire(&pool_lock); }

void cf_macos_threads_fork_release(void) { cf_lock_release(&pool_lock); }
