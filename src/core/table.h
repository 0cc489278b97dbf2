// SPDX-License-Identifier: MIT
// The owner table: one record per live pointer (a freed block's record
// moves into its quarantine entry), 24 bytes in this API and 16 in the
// table whenever it fits (table.c), sharded by address hash, each shard an
// open-addressing table in mmap'd memory. Never calls malloc; the only
// syscall is mmap/munmap when a shard grows, which is amortised and happens
// under that shard's lock only.
#ifndef CF_CORE_TABLE_H
#define CF_CORE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// The flags byte of a record. CF_REC_HEADER: the block has a header
// (core/header.h) in front of it, so the real allocator's block starts
// CF_HEADER_SIZE bytes before the address the program holds.
// CF_REC_FOREIGN: a stand-in, never stored, for a block crossfree never saw
// allocated that belongs to the program's own allocator (realloc hands it
// on untouched and leaves the result untracked). Bits 2-7: log2 of the
// alignment an aligned operator new was asked for (0: none recorded),
// which an aligned operator delete must be given again.
enum { CF_REC_HEADER = 1, CF_REC_FOREIGN = 2, CF_REC_ALIGN_SHIFT = 2, CF_REC_ALIGN_MASK = 0xfc };

// Packed so that a record is 24 bytes: the size takes 48 bits (no block on
// a 47-bit address space is larger) and the thread number 24.
typedef struct cf_record {
    uintptr_t addr;       // 0 marks an empty slot
    uint64_t size_fam_fn; // size:48 | family:8 | alloc_fn:8
    uint32_t stack;       // stack depot id of the allocation, 0 = none
    uint32_t tid_flags;   // thread:24 | flags:8
} cf_record;

_Static_assert(sizeof(cf_record) == 24, "owner record must stay 24 bytes");

#define CF_SIZE_MAX ((UINT64_C(1) << 48) - 1)
#define CF_TID_MAX ((1u << 24) - 1)

static inline cf_record cf_record_make(uintptr_t addr, uint64_t size, unsigned family,
                                       unsigned alloc_fn, uint32_t stack, uint32_t tid) {
    cf_record r;
    r.addr = addr;
    r.size_fam_fn = (size > CF_SIZE_MAX ? CF_SIZE_MAX : size) | ((uint64_t)(family & 0xff) << 48) |
                    ((uint64_t)(alloc_fn & 0xff) << 56);
    r.stack = stack;
    r.tid_flags = tid > CF_TID_MAX ? CF_TID_MAX : tid;
    return r;
}
static inline uint64_t cf_record_size(const cf_record *r) { return r->size_fam_fn & CF_SIZE_MAX; }
static inline unsigned cf_record_family(const cf_record *r) {
    return (unsigned)(r->size_fam_fn >> 48) & 0xff;
}
static inline unsigned cf_record_alloc_fn(const cf_record *r) {
    return (unsigned)(r->size_fam_fn >> 56);
}
static inline uint32_t cf_record_tid(const cf_record *r) { return r->tid_flags & CF_TID_MAX; }
static inline unsigned cf_record_flags(const cf_record *r) { return r->tid_flags >> 24; }
static inline void cf_record_set_header(cf_record *r) {
    r->tid_flags |= (uint32_t)CF_REC_HEADER << 24;
}
static inline bool cf_record_has_header(const cf_record *r) {
    return (cf_record_flags(r) & CF_REC_HEADER) != 0;
}
// Remembers `align` (a power of two; anything else is not recorded).
static inline void cf_record_set_align(cf_record *r, uint64_t align) {
    if (align == 0 || (align & (align - 1)) != 0)
        return;
    uint32_t log2 = (uint32_t)__builtin_ctzll(align);
    r->tid_flags = (r->tid_flags & ~((uint32_t)CF_REC_ALIGN_MASK << 24)) |
                   ((log2 << CF_REC_ALIGN_SHIFT) & CF_REC_ALIGN_MASK) << 24;
}
// log2 of the recorded alignment; 0 when none was recorded (an alignment
// of 1 is never asked of an aligned operator new that crossfree records).
static inline unsigned cf_record_align_log2(const cf_record *r) {
    return (cf_record_flags(r) & CF_REC_ALIGN_MASK) >> CF_REC_ALIGN_SHIFT;
}
static inline bool cf_record_is_foreign(const cf_record *r) {
    return (cf_record_flags(r) & CF_REC_FOREIGN) != 0;
}
// Where the real allocator's block starts (the header's 16 bytes before it).
static inline uintptr_t cf_record_real_addr(const cf_record *r) {
    return r->addr - (cf_record_has_header(r) ? 16u : 0u);
}

// Sets up the shards. Returns false if the initial mapping failed.
bool cf_table_init(void);

// Inserts `r`, replacing any record for the same address. False only when
// the table could not grow (out of address space).
bool cf_table_insert(const cf_record *r);

// Starts loading the slot where `addr`'s record lives, so that a table
// operation made a little later does not wait for memory. Takes no lock.
void cf_table_prefetch(uintptr_t addr);

// Copies the record for `addr` into `out`; false if there is none.
bool cf_table_lookup(uintptr_t addr, cf_record *out);

// Removes the record for `addr`, copying it into `out` when not NULL.
bool cf_table_remove(uintptr_t addr, cf_record *out);

// Finds a live record whose block [addr, addr+size) contains `p` (slow:
// scans every shard; error path only).
bool cf_table_find_containing(uintptr_t p, cf_record *out);

// How far `p` lies from the block of `r`: 0 inside it (a zero-size block
// holds its own address), else r->addr - p in front of it, or one more than
// the bytes between the block's end and `p` behind it.
static inline uint64_t cf_record_distance(const cf_record *r, uintptr_t p) {
    uint64_t size = cf_record_size(r);
    uintptr_t end = r->addr + (size ? size : 1);
    if (p < r->addr)
        return r->addr - p;
    return p < end ? 0 : p - end + 1;
}

// Finds the live record whose block is nearest `p`, at a distance of at
// most `window` (cf_record_distance; the smaller block wins a tie). Slow
// like cf_table_find_containing, which is the same search with window 0.
bool cf_table_find_near(uintptr_t p, uint64_t window, cf_record *out);

// Statistics for tests and verbosity.
typedef struct cf_table_stats {
    size_t records;      // live records
    size_t slots;        // total capacity
    size_t mapped_bytes; // memory mapped for slots
} cf_table_stats;
void cf_table_get_stats(cf_table_stats *s);

// fork support: hold every shard lock across fork(), release in both.
void cf_table_lock_all(void);
void cf_table_unlock_all(void);

#endif
