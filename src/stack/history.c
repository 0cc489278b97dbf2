// SPDX-License-Identifier: MIT
// The module history (history.h): a fixed array, mmap'd on first use.
#include "stack/history.h"

#include <stdatomic.h>
#include <string.h>

#include "platform/platform.h"
#include "support/fmt.h"
#include "support/lock.h"

#define HISTORY_CAP 1024

static _Atomic(cf_history_entry *) history;
static size_t history_len;           // under history_lock
static _Atomic uint64_t history_gen; // one per snapshot
static cf_lock history_lock;

static cf_history_entry *history_array(void) {
    cf_history_entry *h = atomic_load_explicit(&history, memory_order_acquire);
    if (h != NULL)
        return h;
    size_t bytes = HISTORY_CAP * sizeof(cf_history_entry);
    void *p = cf_os_map(bytes, false);
    if (p == NULL)
        return NULL;
    cf_history_entry *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&history, &expected, (cf_history_entry *)p,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        cf_os_unmap(p, bytes); // another thread won the race
        return expected;
    }
    return p;
}

uint64_t cf_history_begin(void) {
    if (history_array() == NULL)
        return 0;
    return atomic_fetch_add_explicit(&history_gen, 1, memory_order_relaxed) + 1;
}

void cf_history_note(uint64_t gen, const cf_history_entry *m) {
    cf_history_entry *h = atomic_load_explicit(&history, memory_order_acquire);
    if (h == NULL || gen == 0)
        return;
    cf_lock_acquire(&history_lock);
    cf_history_entry *slot = NULL;
    for (size_t i = 0; i < history_len && slot == NULL; i++)
        if (h[i].lo == m->lo && cf_strcmp(h[i].path, m->path) == 0)
            slot = &h[i];
    if (slot == NULL && history_len < HISTORY_CAP) {
        slot = &h[history_len++];
    } else if (slot == NULL) {
        // Full: reuse the entry seen longest ago, but never one this
        // snapshot has just recorded (more live modules than slots drops
        // the rest).
        for (size_t i = 0; i < history_len; i++)
            if (h[i].last_seen < gen && (slot == NULL || h[i].last_seen < slot->last_seen))
                slot = &h[i];
    }
    if (slot != NULL) {
        uint64_t seen = slot->last_seen > gen ? slot->last_seen : gen;
        *slot = *m;
        slot->last_seen = seen;
    }
    cf_lock_release(&history_lock);
}

bool cf_history_find(uintptr_t pc, cf_history_entry *out) {
    cf_history_entry *h = atomic_load_explicit(&history, memory_order_acquire);
    if (h == NULL)
        return false;
    bool found = false;
    cf_lock_acquire(&history_lock);
    const cf_history_entry *best = NULL;
    for (size_t i = 0; i < history_len; i++)
        if (pc >= h[i].lo && pc < h[i].hi && (best == NULL || h[i].last_seen > best->last_seen))
            best = &h[i];
    if (best != NULL) {
        *out = *best;
        found = true;
    }
    cf_lock_release(&history_lock);
    return found;
}
