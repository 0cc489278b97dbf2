// SPDX-License-Identifier: MIT
// The quarantine: recently freed blocks whose real release is delayed, so
// their addresses are not handed out again while crossfree still remembers
// who freed them (that is what makes double frees detectable). Bounded in
// bytes and in entries; sharded by thread so frees do not share one lock.
#ifndef CF_CORE_QUARANTINE_H
#define CF_CORE_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/table.h"

// A freed block. Its owner record leaves the table when it is freed and
// lives on here, so the table holds live blocks only and the quarantine
// never has to go back to it; a free that finds no record asks here
// whether the block was freed before (error path only).
typedef struct cf_qentry {
    cf_record rec;       // the owner record as it was (address, size, family, allocation)
    uint32_t free_stack; // depot id of the freeing stack; 0 when free_pc holds it
    uintptr_t free_pc;   // a one-frame freeing stack, kept out of the depot until a
                         // report needs it (cf_quarantine_find's caller stores it)
    uint32_t free_tid;
    uint8_t dealloc_fn; // cf_dealloc_fn used for the free
    uint8_t ghost;      // remembered only: the real allocator already released it
} cf_qentry;

// Called for each evicted block, with the real allocator's address of it
// (cf_record_real_addr: before the header, when it has one).
typedef void (*cf_release_fn)(uintptr_t addr, unsigned family);

// total_bytes 0 disables the quarantine (cf_quarantine_enabled() false).
bool cf_quarantine_init(size_t total_bytes);
bool cf_quarantine_enabled(void);

// Adds a freed block; releases the oldest blocks of that shard beyond its
// share of the budget through `release`, outside the shard lock. Returns
// false (and keeps nothing) when disabled or the block alone is larger than
// a shard's budget: the caller then releases it at once.
bool cf_quarantine_push(uint32_t tid, const cf_qentry *e, cf_release_fn release);

// Finds the remembered free of `addr` (error path: scans all shards). A
// real free wins over a ghost: while a freed block is held its address
// cannot be handed out again, so no later free of it can exist.
bool cf_quarantine_find(uintptr_t addr, cf_qentry *out);

// Finds the held block (not a ghost: a ghost's memory may belong to
// someone else now) nearest `addr`, at a cf_record_distance of at most
// `window`; the newest entry wins a tie. Error path: scans all shards.
bool cf_quarantine_find_near(uintptr_t addr, uint64_t window, cf_qentry *out);

// True if a block at `addr` is held here (a real free, not a ghost): its
// allocator still owns it, yet releasing it again would be a double free.
// Scans like cf_quarantine_find: for blocks that have no live record.
bool cf_quarantine_holds(uintptr_t addr);

void cf_quarantine_lock_all(void);
void cf_quarantine_unlock_all(void);

#endif
