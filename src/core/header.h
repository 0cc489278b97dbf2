// SPDX-License-Identifier: MIT
// The block header: the owner record of a live block, kept in the 16 bytes
// in front of the pointer handed to the program, where a free finds it in
// the cache line the program just touched. Pure logic, no platform calls.
//
//   w0 = size:40 | family:6 | alloc_fn:5 | state:2 | thread:11
//   w1 = stack:32 | check:32
//
// `check` is a hash of the block's own address, both words and a per-process
// secret: bytes that were not written by cf_header_write for this very
// address (another allocator's chunk header, the program's data in front of
// an interior pointer, a header copied elsewhere) fail it, except by a
// 1-in-2^32 chance. A record that does not fit (a block of 1 TiB or more,
// thread 2047 or later) is kept in the owner table instead, and its header
// says so (CF_HDR_TABLE).
#ifndef CF_CORE_HEADER_H
#define CF_CORE_HEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/table.h"

#define CF_HEADER_SIZE 16u

// A header is only ever read when it lies on the same page as the pointer
// (so reading it faults exactly when the real allocator's own look at its
// chunk header would); pointers closer than this to a page start, and the
// first 64 KiB (never mapped: mmap_min_addr), take the table's path.
#define CF_HEADER_PAGE 4096u
#define CF_HEADER_LOW_LIMIT 65536u

enum {
    CF_HDR_NONE = 0,  // never written by crossfree (zeroed memory reads so)
    CF_HDR_LIVE = 1,  // the record below is the block's
    CF_HDR_FREED = 2, // freed (held in the quarantine, or being reallocated); its
                      // check no longer matches, so it reads as no header
    CF_HDR_TABLE = 3, // live, its record is in the owner table
};

typedef struct cf_header {
    uint64_t w0, w1;
} cf_header;

#define CF_HDR_SIZE_BITS 40
#define CF_HDR_SIZE_MAX ((UINT64_C(1) << CF_HDR_SIZE_BITS) - 1)
#define CF_HDR_TID_MAX 2046u // 2047 would not leave the all-ones value free
#define CF_HDR_FAMILY_SHIFT 40
#define CF_HDR_FN_SHIFT 46
#define CF_HDR_STATE_SHIFT 51
#define CF_HDR_TID_SHIFT 53
#define CF_HDR_STATE_MASK (UINT64_C(3) << CF_HDR_STATE_SHIFT)

static inline uint32_t cf_header_check(uintptr_t user, uint64_t w0, uint32_t stack,
                                       uint64_t secret) {
    uint64_t h = ((uint64_t)user ^ secret) * UINT64_C(0x9e3779b97f4a7c15);
    h ^= w0 + ((uint64_t)stack << 17);
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    return (uint32_t)(h >> 32);
}

// True when a header for `user` may be read: the 16 bytes in front of it
// are on its own page.
static inline bool cf_header_readable(uintptr_t user) {
    return (user & (CF_HEADER_PAGE - 1)) >= CF_HEADER_SIZE && user >= CF_HEADER_LOW_LIMIT;
}

// True when the record `r` fits a header (which has no room for a
// recorded alignment).
static inline bool cf_header_fits(const cf_record *r) {
    return cf_record_size(r) <= CF_HDR_SIZE_MAX && cf_record_tid(r) <= CF_HDR_TID_MAX &&
           cf_record_family(r) < 64 && cf_record_alloc_fn(r) < 32 && cf_record_align_log2(r) == 0;
}

// The header for `r` (r->addr is the program's pointer) in `state`; a
// record that does not fit gets CF_HDR_TABLE with no fields.
static inline cf_header cf_header_make(const cf_record *r, unsigned state, uint64_t secret) {
    cf_header h;
    uint32_t stack = 0;
    if (state != CF_HDR_TABLE && cf_header_fits(r)) {
        h.w0 = cf_record_size(r) | (uint64_t)cf_record_family(r) << CF_HDR_FAMILY_SHIFT |
               (uint64_t)cf_record_alloc_fn(r) << CF_HDR_FN_SHIFT |
               (uint64_t)state << CF_HDR_STATE_SHIFT |
               (uint64_t)cf_record_tid(r) << CF_HDR_TID_SHIFT;
        stack = r->stack;
    } else {
        h.w0 = (uint64_t)CF_HDR_TABLE << CF_HDR_STATE_SHIFT;
    }
    h.w1 = (uint64_t)stack | (uint64_t)cf_header_check(r->addr, h.w0, stack, secret) << 32;
    return h;
}

static inline unsigned cf_header_state(uint64_t w0) {
    return (unsigned)(w0 >> CF_HDR_STATE_SHIFT) & 3;
}

// True when (w0, w1) is a header crossfree wrote for `user`.
static inline bool cf_header_valid(uintptr_t user, uint64_t w0, uint64_t w1, uint64_t secret) {
    return cf_header_state(w0) != CF_HDR_NONE &&
           (uint32_t)(w1 >> 32) == cf_header_check(user, w0, (uint32_t)w1, secret);
}

// The record a LIVE or FREED header holds for `user`; it is marked as
// having a header (cf_record_real_addr is user - CF_HEADER_SIZE).
static inline cf_record cf_header_record(uintptr_t user, cf_header h) {
    cf_record r =
        cf_record_make(user, h.w0 & CF_HDR_SIZE_MAX, (unsigned)(h.w0 >> CF_HDR_FAMILY_SHIFT) & 63,
                       (unsigned)(h.w0 >> CF_HDR_FN_SHIFT) & 31, (uint32_t)h.w1,
                       (uint32_t)(h.w0 >> CF_HDR_TID_SHIFT));
    cf_record_set_header(&r);
    return r;
}

#endif
