// SPDX-License-Identifier: MIT
// The x86_64 allocation-path unwinder (see fast_unwind.h). Three parts:
// finding and interpreting a return address's FDE (slow, once per address),
// the rule cache, and the chain cache. Both caches are global, fixed-size,
// two-way set-associative arrays (the rules in .bss, the chains in one
// mapping) guarded per entry by a sequence counter: a reader that sees the
// counter odd or changed treats the entry as missing, a writer that finds
// it odd skips the update. No locks, no allocation, no syscalls once warm.
#include "stack/fast_unwind.h"

#if defined(__x86_64__) && defined(__linux__)

#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "platform/platform.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// Rules

enum {
    K_EMPTY = 0,  // never a stored rule
    K_CFA_SP = 1, // CFA = rsp + cfa_off
    K_CFA_BP = 2, // CFA = rbp + cfa_off
    K_END = 3,    // the return address is undefined: outermost frame
    K_GUESS = 4,  // no FDE: follow the frame-pointer chain, as libunwind does
    K_BAD = 5,    // not expressible here: the caller falls back to libunwind
};

// One word, so that a cache entry stays small. A return address and a saved
// rbp always sit at 8-aligned offsets from the CFA, which leaves the low
// three bits of ra_off for the kind and an odd bp_off to say "not saved".
typedef union rule {
    struct {
        int32_t cfa_off;
        int16_t ra_off; // return address saved at CFA + ra_off, | kind
        int16_t bp_off; // rbp saved at CFA + bp_off, or BP_NOT_SAVED
    } f;
    uint64_t word;
} rule;
_Static_assert(sizeof(rule) == 8, "a rule is one word");

#define BP_NOT_SAVED 1
static inline unsigned rule_kind(rule r) { return (unsigned)(r.f.ra_off & 7); }
static inline int rule_ra_off(rule r) { return r.f.ra_off & ~7; }
static inline rule rule_make(unsigned kind, int64_t cfa_off, int64_t ra_off, bool bp_saved,
                             int64_t bp_off) {
    rule r;
    r.f.cfa_off = (int32_t)cfa_off;
    r.f.ra_off = (int16_t)(ra_off | (int64_t)kind);
    r.f.bp_off = bp_saved ? (int16_t)bp_off : BP_NOT_SAVED;
    return r;
}

// ---------------------------------------------------------------------------
// Reading .eh_frame

enum {
    DW_EH_PE_omit = 0xff,
    DW_EH_PE_absptr = 0x00,
    DW_EH_PE_uleb128 = 0x01,
    DW_EH_PE_udata2 = 0x02,
    DW_EH_PE_udata4 = 0x03,
    DW_EH_PE_udata8 = 0x04,
    DW_EH_PE_sleb128 = 0x09,
    DW_EH_PE_sdata2 = 0x0a,
    DW_EH_PE_sdata4 = 0x0b,
    DW_EH_PE_sdata8 = 0x0c,
    DW_EH_PE_pcrel = 0x10,
    DW_EH_PE_datarel = 0x30,
};

enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

typedef struct cursor {
    const uint8_t *p, *end;
    bool bad;
} cursor;

// Reads a LEB128 number; *shift ends as the number of bits it had and
// *last as its final byte (for the sign of an SLEB128).
static uint64_t get_leb(cursor *c, unsigned *shift, uint8_t *last) {
    uint64_t v = 0;
    *shift = 0;
    while (c->p < c->end) {
        uint8_t b = *c->p++;
        if (*shift < 64)
            v |= (uint64_t)(b & 0x7f) << *shift;
        *shift += 7;
        if ((b & 0x80) == 0) {
            *last = b;
            return v;
        }
    }
    c->bad = true;
    *last = 0;
    return 0;
}

static uint64_t get_uleb(cursor *c) {
    unsigned shift;
    uint8_t last;
    return get_leb(c, &shift, &last);
}

static int64_t get_sleb(cursor *c) {
    unsigned shift;
    uint8_t last;
    uint64_t v = get_leb(c, &shift, &last);
    if (shift < 64 && (last & 0x40) != 0)
        v |= ~UINT64_C(0) << shift;
    return (int64_t)v;
}

static uint64_t get_fixed(cursor *c, unsigned bytes) {
    if ((size_t)(c->end - c->p) < bytes) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, bytes); // little endian
    c->p += bytes;
    return v;
}

static uint8_t get_u8(cursor *c) { return (uint8_t)get_fixed(c, 1); }

// Reads a pointer in encoding `enc`; `datarel` is the base of datarel
// values (the .eh_frame_hdr section), 0 where none applies.
static uintptr_t get_encoded(cursor *c, uint8_t enc, uintptr_t datarel) {
    if (enc == DW_EH_PE_omit)
        return 0;
    uintptr_t here = (uintptr_t)c->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case DW_EH_PE_absptr:
        v = get_fixed(c, 8);
        break;
    case DW_EH_PE_uleb128:
        v = get_uleb(c);
        break;
    case DW_EH_PE_udata2:
        v = get_fixed(c, 2);
        break;
    case DW_EH_PE_udata4:
        v = get_fixed(c, 4);
        break;
    case DW_EH_PE_udata8:
        v = get_fixed(c, 8);
        break;
    case DW_EH_PE_sleb128:
        v = (uint64_t)get_sleb(c);
        break;
    case DW_EH_PE_sdata2:
        v = (uint64_t)(int64_t)(int16_t)get_fixed(c, 2);
        break;
    case DW_EH_PE_sdata4:
        v = (uint64_t)(int64_t)(int32_t)get_fixed(c, 4);
        break;
    case DW_EH_PE_sdata8:
        v = get_fixed(c, 8);
        break;
    default:
        c->bad = true;
        return 0;
    }
    switch (enc & 0x70) {
    case 0:
        break;
    case DW_EH_PE_pcrel:
        v += here;
        break;
    case DW_EH_PE_datarel:
        if (datarel == 0)
            c->bad = true;
        v += datarel;
        break;
    default:
        c->bad = true;
        return 0;
    }
    return (uintptr_t)v; // indirect pointers are never dereferenced here
}

typedef struct cie_info {
    const uint8_t *insns, *end;
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_enc;
    bool has_z;
    bool signal;
} cie_info;

static bool parse_cie(const uint8_t *cie, cie_info *out) {
    cursor c = {cie, cie + 4, false};
    uint64_t len = get_fixed(&c, 4);
    if (len == 0 || len == 0xffffffffu)
        return false;
    c.end = cie + 4 + len;
    if (get_fixed(&c, 4) != 0) // CIE id
        return false;
    uint8_t version = get_u8(&c);
    if (version != 1 && version != 3)
        return false;
    const char *aug = (const char *)c.p;
    size_t aug_len = strnlen(aug, (size_t)(c.end - c.p));
    if (aug_len == (size_t)(c.end - c.p))
        return false;
    c.p += aug_len + 1;
    if (aug[0] == 'e' && aug[1] == 'h')
        return false; // the GCC 2 "eh" pointer: never seen on x86_64
    out->code_align = get_uleb(&c);
    out->data_align = get_sleb(&c);
    uint64_t ra = version == 1 ? get_u8(&c) : get_uleb(&c);
    if (ra != REG_RA)
        return false;
    out->fde_enc = DW_EH_PE_absptr;
    out->has_z = aug[0] == 'z';
    out->signal = false;
    const uint8_t *after_aug = NULL;
    if (out->has_z) {
        uint64_t n = get_uleb(&c);
        after_aug = c.p + n;
        for (size_t i = 1; i < aug_len && !c.bad; i++) {
            switch (aug[i]) {
            case 'L':
                get_u8(&c);
                break;
            case 'R':
                out->fde_enc = get_u8(&c);
                break;
            case 'P': {
                uint8_t enc = get_u8(&c);
                get_encoded(&c, (uint8_t)(enc & 0x7f), 0);
                break;
            }
            case 'S':
                out->signal = true;
                break;
            default:
                return false; // unknown augmentation: its data cannot be skipped safely
            }
        }
        if (after_aug > c.end)
            return false;
        c.p = after_aug;
    } else if (aug_len != 0) {
        return false;
    }
    out->insns = c.p;
    out->end = c.end;
    return !c.bad;
}

// One register's rule, for the two registers that matter: rbp and the
// return address.
enum { R_SAME = 0, R_UNDEF = 1, R_OFFSET = 2, R_OTHER = 3 };
typedef struct regrule {
    uint8_t how;
    int64_t off;
} regrule;

typedef struct frame_state {
    unsigned cfa_reg;
    int64_t cfa_off;
    bool cfa_expr;
    regrule bp, ra;
} frame_state;

#define STATE_STACK 8

static regrule *tracked(frame_state *st, uint64_t reg) {
    if (reg == REG_RBP)
        return &st->bp;
    if (reg == REG_RA)
        return &st->ra;
    return NULL;
}

// Runs CFA instructions from `c` until the location passes `target`.
// `initial` is the CIE's state (for DW_CFA_restore), NULL while running the
// CIE's own instructions. Returns false on anything malformed.
static bool run_cfa(cursor *c, const cie_info *ci, uintptr_t loc, uintptr_t target, frame_state *st,
                    const frame_state *initial) {
    frame_state saved[STATE_STACK];
    unsigned depth = 0;
    while (c->p < c->end && !c->bad) {
        uint8_t op = get_u8(c);
        uint64_t reg = 0;
        int64_t off = 0;
        uint64_t delta = 0;
        switch (op & 0xc0) {
        case 0x40: // DW_CFA_advance_loc
            delta = op & 0x3f;
            goto advance;
        case 0x80: // DW_CFA_offset
            reg = op & 0x3f;
            off = (int64_t)get_uleb(c) * ci->data_align;
            goto set_offset;
        case 0xc0: // DW_CFA_restore
            reg = op & 0x3f;
            goto restore;
        default:
            break;
        }
        switch (op) {
        case 0x00:
            break; // DW_CFA_nop
        case 0x01: // DW_CFA_set_loc
            loc = get_encoded(c, ci->fde_enc, 0);
            if (loc > target)
                return true;
            break;
        case 0x02:
            delta = get_fixed(c, 1);
            goto advance;
        case 0x03:
            delta = get_fixed(c, 2);
            goto advance;
        case 0x04:
            delta = get_fixed(c, 4);
            goto advance;
        case 0x05: // DW_CFA_offset_extended
            reg = get_uleb(c);
            off = (int64_t)get_uleb(c) * ci->data_align;
            goto set_offset;
        case 0x11: // DW_CFA_offset_extended_sf
            reg = get_uleb(c);
            off = get_sleb(c) * ci->data_align;
            goto set_offset;
        case 0x2f: // DW_CFA_GNU_negative_offset_extended
            reg = get_uleb(c);
            off = -(int64_t)get_uleb(c) * ci->data_align;
            goto set_offset;
        case 0x06: // DW_CFA_restore_extended
            reg = get_uleb(c);
            goto restore;
        case 0x07: // DW_CFA_undefined
        case 0x08: // DW_CFA_same_value
        {
            reg = get_uleb(c);
            regrule *r = tracked(st, reg);
            if (r != NULL)
                r->how = op == 0x07 ? R_UNDEF : R_SAME;
            break;
        }
        case 0x09: // DW_CFA_register
        {
            reg = get_uleb(c);
            get_uleb(c);
            regrule *r = tracked(st, reg);
            if (r != NULL)
                r->how = R_OTHER;
            break;
        }
        case 0x0a: // DW_CFA_remember_state
            if (depth == STATE_STACK)
                return false;
            saved[depth++] = *st;
            break;
        case 0x0b: // DW_CFA_restore_state
            if (depth == 0)
                return false;
            *st = saved[--depth];
            break;
        case 0x0c: // DW_CFA_def_cfa
            st->cfa_reg = (unsigned)get_uleb(c);
            st->cfa_off = (int64_t)get_uleb(c);
            st->cfa_expr = false;
            break;
        case 0x12: // DW_CFA_def_cfa_sf
            st->cfa_reg = (unsigned)get_uleb(c);
            st->cfa_off = get_sleb(c) * ci->data_align;
            st->cfa_expr = false;
            break;
        case 0x0d: // DW_CFA_def_cfa_register
            st->cfa_reg = (unsigned)get_uleb(c);
            st->cfa_expr = false;
            break;
        case 0x0e: // DW_CFA_def_cfa_offset
            st->cfa_off = (int64_t)get_uleb(c);
            break;
        case 0x13: // DW_CFA_def_cfa_offset_sf
            st->cfa_off = get_sleb(c) * ci->data_align;
            break;
        case 0x0f: // DW_CFA_def_cfa_expression
            st->cfa_expr = true;
            c->p += get_uleb(c);
            break;
        case 0x10: // DW_CFA_expression
        case 0x16: // DW_CFA_val_expression
        {
            reg = get_uleb(c);
            c->p += get_uleb(c);
            regrule *r = tracked(st, reg);
            if (r != NULL)
                r->how = R_OTHER;
            break;
        }
        case 0x14: // DW_CFA_val_offset
        case 0x15: // DW_CFA_val_offset_sf
        {
            reg = get_uleb(c);
            if (op == 0x14)
                get_uleb(c);
            else
                get_sleb(c);
            regrule *r = tracked(st, reg);
            if (r != NULL)
                r->how = R_OTHER;
            break;
        }
        case 0x2e: // DW_CFA_GNU_args_size
            get_uleb(c);
            break;
        default:
            return false;
        }
        continue;
    advance:
        loc += delta * ci->code_align;
        if (loc > target)
            return true;
        continue;
    set_offset : {
        regrule *r = tracked(st, reg);
        if (r != NULL) {
            r->how = R_OFFSET;
            r->off = off;
        }
        continue;
    }
    restore : {
        regrule *r = tracked(st, reg);
        if (r != NULL) {
            if (initial == NULL)
                return false;
            *r = *tracked((frame_state *)initial, reg);
        }
        continue;
    }
    }
    return !c->bad && c->p <= c->end;
}

typedef struct find_ctx {
    uintptr_t pc;
    uintptr_t eh_hdr;
    bool in_module;
} find_ctx;

static int find_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    find_ctx *ctx = data;
    uintptr_t hdr = 0;
    bool inside = false;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && ctx->pc >= start && ctx->pc - start < ph->p_memsz)
            inside = true;
        else if (ph->p_type == PT_GNU_EH_FRAME)
            hdr = start;
    }
    if (!inside)
        return 0;
    ctx->in_module = true;
    ctx->eh_hdr = hdr;
    return 1;
}

// Finds the FDE covering `target` through the module's .eh_frame_hdr
// binary-search table. NULL when there is none.
static const uint8_t *find_fde(uintptr_t hdr_addr, uintptr_t target) {
    const uint8_t *hdr = (const uint8_t *)hdr_addr;
    if (hdr[0] != 1 || hdr[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
        return NULL;
    cursor c = {hdr + 4, hdr + 4 + 16, false};
    get_encoded(&c, hdr[1], hdr_addr); // .eh_frame itself: not needed
    uint64_t count = get_encoded(&c, hdr[2], hdr_addr);
    if (c.bad || count == 0)
        return NULL;
    const int32_t *table = (const int32_t *)(const void *)c.p;
    uint64_t lo = 0, hi = count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (hdr_addr + (uintptr_t)(intptr_t)table[2 * mid] <= target)
            lo = mid;
        else
            hi = mid;
    }
    if (hdr_addr + (uintptr_t)(intptr_t)table[2 * lo] > target)
        return NULL;
    return hdr + table[2 * lo + 1];
}

// Computes the rule for return address `pc`: the state at the call
// instruction, pc - 1.
static rule compute_rule(uintptr_t pc) {
    uintptr_t target = pc - 1;
    find_ctx ctx = {target, 0, false};
    dl_iterate_phdr(find_module, &ctx);
    if (!ctx.in_module || ctx.eh_hdr == 0)
        return rule_make(K_GUESS, 0, 0, false, 0);
    const uint8_t *fde = find_fde(ctx.eh_hdr, target);
    if (fde == NULL)
        return rule_make(K_GUESS, 0, 0, false, 0);
    cursor c = {fde, fde + 8, false};
    uint64_t len = get_fixed(&c, 4);
    if (len == 0 || len == 0xffffffffu)
        return rule_make(K_BAD, 0, 0, false, 0);
    c.end = fde + 4 + len;
    const uint8_t *id_field = c.p;
    uint32_t cie_off = (uint32_t)get_fixed(&c, 4);
    if (cie_off == 0)
        return rule_make(K_BAD, 0, 0, false, 0);
    cie_info ci;
    if (!parse_cie(id_field - cie_off, &ci) || ci.signal)
        return rule_make(K_BAD, 0, 0, false, 0);
    uintptr_t begin = get_encoded(&c, ci.fde_enc, 0);
    uintptr_t range = get_encoded(&c, (uint8_t)(ci.fde_enc & 0x0f), 0);
    if (c.bad || target < begin || target - begin >= range)
        return rule_make(K_GUESS, 0, 0, false, 0);
    if (ci.has_z)
        c.p += get_uleb(&c);

    frame_state st = {REG_RSP, 8, false, {R_SAME, 0}, {R_SAME, 0}};
    cursor cc = {ci.insns, ci.end, false};
    if (!run_cfa(&cc, &ci, begin, target, &st, NULL))
        return rule_make(K_BAD, 0, 0, false, 0);
    frame_state initial = st;
    if (!run_cfa(&c, &ci, begin, target, &st, &initial))
        return rule_make(K_BAD, 0, 0, false, 0);

    if (st.ra.how == R_UNDEF)
        return rule_make(K_END, 0, 0, false, 0);
    if (st.cfa_expr || (st.cfa_reg != REG_RSP && st.cfa_reg != REG_RBP) || st.ra.how != R_OFFSET ||
        st.bp.how == R_UNDEF || st.bp.how == R_OTHER)
        return rule_make(K_BAD, 0, 0, false, 0);
    if (st.cfa_off < INT32_MIN || st.cfa_off > INT32_MAX || st.ra.off < -32768 ||
        st.ra.off > 32760 || (st.ra.off & 7) != 0 ||
        (st.bp.how == R_OFFSET &&
         (st.bp.off < -32768 || st.bp.off > 32760 || (st.bp.off & 7) != 0)))
        return rule_make(K_BAD, 0, 0, false, 0);
    return rule_make(st.cfa_reg == REG_RSP ? K_CFA_SP : K_CFA_BP, st.cfa_off, st.ra.off,
                     st.bp.how == R_OFFSET, st.bp.off);
}

// ---------------------------------------------------------------------------
// The caches

static atomic_uint generation = 1; // bumped when modules come or go
static atomic_uint_fast64_t n_chain_fills, n_rule_fills, n_fallbacks;

static inline uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void st64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 31;
    h *= UINT64_C(0x9e3779b97f4a7c15);
    h ^= h >> 29;
    return h;
}

// Sequence-counter helpers shared by both caches.
static inline bool seq_read_begin(atomic_uint_fast64_t *seq, uint64_t *s) {
    *s = atomic_load_explicit(seq, memory_order_acquire);
    return (*s & 1) == 0;
}
static inline bool seq_read_end(atomic_uint_fast64_t *seq, uint64_t s) {
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(seq, memory_order_relaxed) == s;
}
static inline bool seq_write_begin(atomic_uint_fast64_t *seq, uint64_t *s) {
    *s = atomic_load_explicit(seq, memory_order_relaxed);
    if ((*s & 1) != 0 || !atomic_compare_exchange_strong_explicit(
                             seq, s, *s + 1, memory_order_acquire, memory_order_relaxed))
        return false;
    atomic_thread_fence(memory_order_release);
    return true;
}
static inline void seq_write_end(atomic_uint_fast64_t *seq, uint64_t s) {
    atomic_store_explicit(seq, s + 2, memory_order_release);
}

#define RULE_SLOTS 4096u // 128 KiB of .bss, touched only where used

typedef struct rule_slot {
    atomic_uint_fast64_t seq;
    uint64_t pc;
    uint64_t rule;
    uint64_t gen;
} rule_slot;

static rule_slot rules[RULE_SLOTS];

// The cache is two-way: a return address may sit in either slot of its
// pair, so two hot addresses that hash alike do not evict each other.
static bool rule_hit(rule_slot *e, uintptr_t pc, unsigned gen, rule *out) {
    uint64_t s;
    if (!seq_read_begin(&e->seq, &s))
        return false;
    uint64_t epc = ld(&e->pc), word = ld(&e->rule), egen = ld(&e->gen);
    if (!seq_read_end(&e->seq, s) || epc != pc || egen != gen)
        return false;
    out->word = word;
    return true;
}

static rule lookup_rule(uintptr_t pc, unsigned gen) {
    uint64_t h = mix(pc);
    rule_slot *pair = &rules[h & (RULE_SLOTS - 2)];
    rule r;
    if (rule_hit(&pair[0], pc, gen, &r) || rule_hit(&pair[1], pc, gen, &r))
        return r;
    // The newcomer takes the slot its hash prefers unless that one holds a
    // current rule and the other does not.
    rule_slot *e = &pair[(h >> 32) & 1];
    if (ld(&e->gen) == gen && ld(&(e == pair ? pair + 1 : pair)->gen) != gen)
        e = e == pair ? pair + 1 : pair;
    uint64_t s;
    r = compute_rule(pc);
    atomic_fetch_add_explicit(&n_rule_fills, 1, memory_order_relaxed);
    if (seq_write_begin(&e->seq, &s)) {
        st64(&e->pc, pc);
        st64(&e->rule, r.word);
        st64(&e->gen, gen);
        seq_write_end(&e->seq, s);
    }
    return r;
}

// A chain: the frames of one walk and the rules that led from each to the
// next (see walk() for its key). The slots live in one lazily committed
// mapping whose width follows malloc_context_size (cf_fast_unwind_init).
// A larger table that grew when chains thrashed was tried: the cache
// misses on its slots cost more than the walks it saved.
#define CHAIN_MAX 32u
#define CHAIN_SLOTS 1024u

typedef struct chain_head {
    atomic_uint_fast64_t seq;
    uint64_t key;
    uint64_t meta; // gen:32 | n:8 | max:8 | 16 unused
    uint64_t id;   // depot id of the stack, 0 if not stored yet
    // followed by `chain_width` (pc, rule) pairs
} chain_head;

static uint64_t *chain_mem;
static unsigned chain_width;
static size_t chain_words; // per slot: the head and the pairs

static inline chain_head *chain_at(uint64_t key) {
    return (chain_head *)(void *)(chain_mem + (size_t)(key & (CHAIN_SLOTS - 1)) * chain_words);
}

static inline uint64_t *chain_pairs(chain_head *h) { return (uint64_t *)(void *)(h + 1); }

bool cf_fast_unwind_init(unsigned max_frames) {
    if (chain_mem != NULL)
        return true;
    unsigned width = max_frames == 0 ? 1 : max_frames > CHAIN_MAX ? CHAIN_MAX : max_frames;
    size_t words = sizeof(chain_head) / sizeof(uint64_t) + 2u * width;
    uint64_t *mem = cf_os_map((size_t)CHAIN_SLOTS * words * sizeof(uint64_t), true);
    if (mem == NULL)
        return false;
    chain_width = width;
    chain_words = words;
    chain_mem = mem;
    return true;
}

static inline uint64_t chain_meta(unsigned gen, unsigned n, unsigned max) {
    return (uint64_t)gen << 32 | (uint64_t)n << 24 | (uint64_t)max << 16;
}

// ---------------------------------------------------------------------------
// The walk

#if defined(__GLIBC__)
extern void *__libc_stack_end;
#endif

// The highest address the walk may read: the top of this thread's stack.
// glibc keeps a thread's descriptor (the thread pointer) just above its
// stack; the main thread's stack ends above __libc_stack_end. 0 when
// neither is plausibly above `sp` (a coroutine stack, say).
static uintptr_t stack_top(uintptr_t sp) {
    enum { MAX_STACK = 1u << 30 };
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    if (tp > sp && tp - sp < MAX_STACK)
        return tp;
#if defined(__GLIBC__)
    uintptr_t end = (uintptr_t)__libc_stack_end;
    if (end > sp && end - sp < MAX_STACK)
        return end + 64; // argc and argv follow: always mapped
#endif
    return 0;
}

// Reads the walk's stack words. Other frames' memory is read on purpose,
// which AddressSanitizer would take for overflows in the test builds.
__attribute__((no_sanitize("address"))) static inline uintptr_t stack_word(uintptr_t a) {
    return *(const uintptr_t *)a;
}

enum { STEP_OK, STEP_END, STEP_BAD };

// Moves (pc, sp, bp) from a frame to its caller with the frame's rule.
// STEP_END: the stack ends here (as libunwind would end it); STEP_BAD: the
// rule cannot be followed, or leads outside [sp, top).
__attribute__((no_sanitize("address"))) static inline int step(rule r, uintptr_t top, uintptr_t *pc,
                                                               uintptr_t *sp, uintptr_t *bp) {
    uintptr_t cfa, ra_at, bp_at = 0;
    switch (rule_kind(r)) {
    case K_CFA_SP:
        cfa = *sp + (uintptr_t)(intptr_t)r.f.cfa_off;
        ra_at = cfa + (uintptr_t)(intptr_t)rule_ra_off(r);
        break;
    case K_CFA_BP:
        cfa = *bp + (uintptr_t)(intptr_t)r.f.cfa_off;
        ra_at = cfa + (uintptr_t)(intptr_t)rule_ra_off(r);
        break;
    case K_GUESS:
        // libunwind's guess: rbp must point into the frames just above
        // this one (at most 16 KiB up), else the stack ends here.
        if (*bp < *sp || *bp - *sp > 0x4000)
            return STEP_END;
        cfa = *bp + 16;
        ra_at = *bp + 8;
        bp_at = *bp;
        break;
    case K_END:
        return STEP_END;
    default:
        return STEP_BAD;
    }
    if (rule_kind(r) != K_GUESS && r.f.bp_off != BP_NOT_SAVED)
        bp_at = cfa + (uintptr_t)(intptr_t)r.f.bp_off;
    // Callers' frames lie above ours: the walk only moves up the stack and
    // never reads above its top, so a wrong rule cannot fault.
    if (cfa <= *sp || cfa > top || ra_at < *sp || ra_at > top - 8 || (ra_at & 7) != 0 ||
        (bp_at != 0 && (bp_at < *sp || bp_at > top - 8 || (bp_at & 7) != 0)))
        return rule_kind(r) == K_GUESS ? STEP_END : STEP_BAD;
    *pc = stack_word(ra_at);
    if (bp_at != 0)
        *bp = stack_word(bp_at);
    *sp = cfa;
    return *pc == 0 ? STEP_END : STEP_OK;
}

// Returns the frame count, 0 to make the caller fall back, or -1 when the
// cached chain changed under the walk (walk again without it).
//
// A chain is looked up by the first two return addresses and the stack
// depth, in a set of two slots: the same call site reached at the same
// depth from different callers (inlined helpers, one function called from
// two places with equal frames) then keeps a chain per caller.
__attribute__((no_sanitize("address"))) static int walk(uintptr_t pc, uintptr_t sp, uintptr_t bp,
                                                        uintptr_t top, uintptr_t *pcs, unsigned max,
                                                        uint32_t *id, bool use_hint) {
    unsigned gen = atomic_load_explicit(&generation, memory_order_relaxed);
    // Frame 0 and the step to frame 1 come first: frame 1's return address
    // is part of the chain's key.
    uint64_t depth = top - sp;
    rule r0 = lookup_rule(pc, gen);
    pcs[0] = pc;
    int st = max < 2 ? STEP_END : step(r0, top, &pc, &sp, &bp);
    uint64_t key = mix(pcs[0] ^ mix((st == STEP_OK ? pc : 0) ^ mix(depth)));
    chain_head *set = chain_at(key & ~UINT64_C(1));
    chain_head *ways[2] = {set, (chain_head *)(void *)((uint64_t *)(void *)set + chain_words)};
    chain_head *ch = NULL;
    uint64_t s = 0;
    for (unsigned w = 0; w < 2 && use_hint && ch == NULL; w++)
        if (seq_read_begin(&ways[w]->seq, &s) && ld(&ways[w]->key) == key &&
            (uint32_t)(ld(&ways[w]->meta) >> 32) == gen)
            ch = ways[w];
    bool hint = ch != NULL;
    uint64_t *pairs = hint ? chain_pairs(ch) : NULL;
    unsigned hint_n = hint ? (unsigned)(ld(&ch->meta) >> 24) & 0xff : 0;
    unsigned meta_max = max > chain_width ? 0 : max; // 0: deeper than a chain holds
    bool same = hint && ((ld(&ch->meta) >> 16) & 0xff) == meta_max;

    rule rs[CHAIN_MAX];
    rs[0] = r0;
    unsigned n = 1;
    while (st == STEP_OK) {
        pcs[n] = pc;
        rule r;
        if (n < hint_n && ld(&pairs[2 * n]) == pc) {
            r.word = ld(&pairs[2 * n + 1]);
        } else {
            same = false;
            r = lookup_rule(pc, gen);
        }
        if (n < chain_width)
            rs[n] = r;
        n++;
        if (n == max)
            break;
        st = step(r, top, &pc, &sp, &bp);
    }
    bool give_up = st == STEP_BAD;
    if (hint && !seq_read_end(&ch->seq, s))
        return -1; // the chain changed under the walk, which may have used its rules
    if (give_up)
        return 0;
    same = same && n == hint_n && ld(&pairs[0]) == pcs[0];
    uint64_t cached_id = same ? ld(&ch->id) : 0;
    if (id != NULL)
        *id = cached_id != 0 ? (uint32_t)cached_id : cf_depot_put(pcs, n);
    if (!same && n <= chain_width) {
        uint64_t fills = atomic_fetch_add_explicit(&n_chain_fills, 1, memory_order_relaxed) + 1;
        // Replace the slot that held this key, else either, by the count.
        chain_head *victim = hint ? ch : ways[fills & 1];
        uint64_t w;
        if (seq_write_begin(&victim->seq, &w)) {
            uint64_t *vp = chain_pairs(victim);
            st64(&victim->key, key);
            st64(&victim->meta, chain_meta(gen, n, meta_max));
            st64(&victim->id, id != NULL ? *id : 0);
            for (unsigned i = 0; i < n; i++) {
                st64(&vp[2 * i], pcs[i]);
                st64(&vp[2 * i + 1], rs[i].word);
            }
            seq_write_end(&victim->seq, w);
        }
    } else if (same && cached_id == 0 && id != NULL && *id != 0) {
        uint64_t w;
        if (seq_write_begin(&ch->seq, &w)) {
            st64(&ch->id, *id);
            seq_write_end(&ch->seq, w);
        }
    }
    return (int)n;
}

unsigned cf_fast_unwind(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *pcs, unsigned max,
                        uint32_t *id) {
    if (max == 0)
        return 0;
    uintptr_t top = stack_top(sp);
    int n = top == 0 || chain_mem == NULL || (sp & 7) != 0
                ? 0
                : walk(pc, sp, bp, top, pcs, max, id, true);
    if (n < 0)
        n = walk(pc, sp, bp, top, pcs, max, id, false);
    if (n <= 0)
        atomic_fetch_add_explicit(&n_fallbacks, 1, memory_order_relaxed);
    return n > 0 ? (unsigned)n : 0;
}

void cf_fast_unwind_forget(void) { atomic_fetch_add(&generation, 1); }

void cf_fast_unwind_get_stats(cf_fast_unwind_stats *st) {
    st->chain_fills = atomic_load(&n_chain_fills);
    st->rule_fills = atomic_load(&n_rule_fills);
    st->fallbacks = atomic_load(&n_fallbacks);
}

bool cf_fast_unwind_available(void) { return true; }

#else // not x86_64 Linux: libunwind does every walk

unsigned cf_fast_unwind(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *pcs, unsigned max,
                        uint32_t *id) {
    (void)pc, (void)sp, (void)bp, (void)pcs, (void)max, (void)id;
    return 0;
}

bool cf_fast_unwind_init(unsigned max_frames) {
    (void)max_frames;
    return false;
}

void cf_fast_unwind_forget(void) {}

void cf_fast_unwind_get_stats(cf_fast_unwind_stats *st) {
    st->chain_fills = st->rule_fills = st->fallbacks = 0;
}

bool cf_fast_unwind_available(void) { return false; }

#endif
