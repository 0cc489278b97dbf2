// SPDX-License-Identifier: MIT
// The stack depot: an append-only, deduplicating store of stacks, each
// named by a 32-bit id. Lock-free for readers and writers; memory comes
// from one lazily committed mapping, never from malloc.
#ifndef CF_STACK_DEPOT_H
#define CF_STACK_DEPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF_DEPOT_MAX_FRAMES 64

// Reserves the depot's address space (`reserve_bytes`, committed on touch).
bool cf_depot_init(size_t reserve_bytes);

// Stores the stack (or finds the identical one stored before) and returns
// its id; 0 for an empty stack or when the depot is full.
uint32_t cf_depot_put(const uintptr_t *pcs, unsigned n);

// Returns the frames of stack `id` and their count (0 for id 0 or a bad id).
unsigned cf_depot_get(uint32_t id, const uintptr_t **pcs);

typedef struct cf_depot_stats {
    size_t stacks;     // distinct stacks stored
    size_t used_bytes; // bytes of the arena in use
} cf_depot_stats;
void cf_depot_get_stats(cf_depot_stats *s);

#endif
