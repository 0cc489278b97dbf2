// SPDX-License-Identifier: MIT
// The allocation-path unwinder of x86_64 and AArch64 Linux (see
// fast_unwind.h). The architectures differ only in the section below
// "Architecture": register numbers, the row before a function's first
// instruction, where the thread pointer is, the frame-pointer guess for code
// without FDE, and AArch64's signed return addresses. Three parts:
// finding a return address's FDE and turning the row cfi.c computes from it
// into a one-word rule (slow, once per address), the rule cache, and the
// chain cache. Both caches are global, fixed-size, two-way set-associative
// arrays (the rules in .bss, the chains in one mapping) guarded per entry by
// a sequence counter: a reader that sees the counter odd or changed treats
// the entry as missing, a writer that finds it odd skips the update. No
// locks, no allocation, no syscalls once warm.
#include "stack/fast_unwind.h"

#if !CF_FAST_UNWIND
#error "x86_64 and AArch64 Linux only: platform/linux/meson.build and CF_FAST_UNWIND disagree"
#endif

#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "platform/platform.h"
#include "stack/cfi.h"
#include "stack/depot.h"

// ---------------------------------------------------------------------------
// Architecture
//
// "bp" below is the frame pointer: rbp on x86_64, x29 on AArch64.

#if defined(__x86_64__)
// DWARF register numbers of the x86-64 psABI.
enum { REG_FP = 6, REG_SP = 7, REG_RA = 16 };
// Before a function's first instruction the call has just pushed the return
// address: CFA = rsp + 8 (where the return address is, every CIE says).
#define ENTRY_CFA_OFF 8
#define ARCH_AARCH64 false
// Code without FDE (JIT code, assembly without CFI): libunwind follows the
// rbp chain, and so does the walk (K_GUESS).
#define NO_FDE K_GUESS
#elif defined(__aarch64__)
// DWARF register numbers of the AArch64 ABI: x29, sp, and x30 (the link
// register), which every CIE names as the return-address column.
enum { REG_FP = 29, REG_SP = 31, REG_RA = 30 };
// Before a function's first instruction `bl` has left the return address in
// x30 and moved nothing: CFA = sp.
#define ENTRY_CFA_OFF 0
#define ARCH_AARCH64 true
// Code without FDE: libunwind 1.6 (Debian 12) follows no frame-record
// chain on AArch64 but takes the pc from a link register it no longer
// has, so such a stack is left to libunwind whole and ends as it ends it.
#define NO_FDE K_BAD
#endif

static inline uintptr_t thread_pointer(void) {
    uintptr_t tp;
#if defined(__x86_64__)
    __asm__("mov %%fs:0, %0" : "=r"(tp));
#else
    __asm__("mrs %0, tpidr_el0" : "=r"(tp));
#endif
    return tp;
}

// A return address as saved by code built with pointer authentication
// (-mbranch-protection=pac-ret), without its authentication code: XPACLRI,
// which lies in the hint space, so that cores without the extension run it
// as a no-op (their addresses carry no code to strip). x86_64 has none.
static inline uintptr_t strip_ra(uintptr_t ra) {
#if defined(__aarch64__)
    register uintptr_t x30 __asm__("x30") = ra;
    __asm__("hint #7" : "+r"(x30)); // xpaclri
    return x30;
#else
    return ra;
#endif
}

// ---------------------------------------------------------------------------
// Rules

enum {
    K_EMPTY = 0,  // never a stored rule
    K_CFA_SP = 1, // CFA = sp + cfa_off
    K_CFA_BP = 2, // CFA = the frame pointer + cfa_off
    K_END = 3,    // the return address is undefined: outermost frame
    K_GUESS = 4,  // no FDE: follow the frame-pointer chain, as libunwind does
    K_BAD = 5,    // not expressible here: the caller falls back to libunwind
};

// One word, so that a cache entry stays small. The kind and two flags sit
// in the low bits of the CFA's offset. A return address and a saved frame
// pointer always sit at 8-aligned offsets from the CFA, kept in units of 8
// bytes: AArch64 code built by GCC saves its frame record at the bottom of
// the frame, so the offsets reach as far as the frame is large (256 KiB
// here; beyond, the rule is K_BAD and libunwind takes the stack).
typedef union rule {
    struct {
        int32_t cfa;    // CFA offset * CFA_SCALE | RA_SIGNED | BP_NOT_SAVED | kind
        int16_t ra_off; // return address saved at CFA + 8 * ra_off
        int16_t bp_off; // frame pointer saved at CFA + 8 * bp_off, unless BP_NOT_SAVED
    } f;
    uint64_t word;
} rule;
_Static_assert(sizeof(rule) == 8, "a rule is one word");

#define KIND_MASK 7
#define BP_NOT_SAVED 8 // the frame pointer is the caller's: unchanged
#define RA_SIGNED 16   // the saved return address carries a pointer authentication code
#define CFA_SHIFT 5
#define CFA_SCALE (1 << CFA_SHIFT)
#define CFA_OFF_MAX (INT32_MAX / CFA_SCALE) // 64 MiB
static inline unsigned rule_kind(rule r) { return (unsigned)r.f.cfa & KIND_MASK; }
static inline bool rule_has(rule r, unsigned flag) { return ((unsigned)r.f.cfa & flag) != 0; }
// (GCC and Clang shift a negative number arithmetically.)
static inline intptr_t rule_cfa_off(rule r) { return (intptr_t)(r.f.cfa >> CFA_SHIFT); }
static inline intptr_t rule_ra_off(rule r) { return (intptr_t)r.f.ra_off * 8; }
static inline intptr_t rule_bp_off(rule r) { return (intptr_t)r.f.bp_off * 8; }
// The offsets are range-checked by the caller (rule_of_row).
static inline rule rule_make(unsigned kind, int64_t cfa_off, int64_t ra_off, bool bp_saved,
                             int64_t bp_off, bool ra_signed) {
    rule r;
    r.f.cfa = (int32_t)(cfa_off * CFA_SCALE) | (int32_t)kind | (bp_saved ? 0 : BP_NOT_SAVED) |
              (ra_signed ? RA_SIGNED : 0);
    r.f.ra_off = (int16_t)(ra_off / 8);
    r.f.bp_off = bp_saved ? (int16_t)(bp_off / 8) : 0;
    return r;
}
static inline rule rule_of_kind(unsigned kind) { return rule_make(kind, 0, 0, false, 0, false); }

// ---------------------------------------------------------------------------
// Finding a return address's rule

// Where the FDE for a pc is, as dl_iterate_phdr's callback found it.
enum { FOUND_NO_MODULE, FOUND_NO_FDE, FOUND_FDE_ASTRAY, FOUND_FDE };

typedef struct find_ctx {
    uintptr_t pc;
    int found;
    cf_cfi_span segment; // the loaded segment that holds the FDE
    size_t fde_off;      // the FDE's offset in it
} find_ctx;

// The whole of the module's PT_LOAD segment that holds `addr`, as bytes.
static bool segment_of(const struct dl_phdr_info *info, uintptr_t addr, cf_cfi_span *out) {
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= start && addr - start < ph->p_memsz) {
            out->data = (const uint8_t *)start;
            out->size = ph->p_memsz;
            out->vaddr = start;
            return true;
        }
    }
    return false;
}

// Finds the module that holds ctx->pc and, through its .eh_frame_hdr search
// table, the FDE whose range starts last at or below it. The FDE and the
// CIE it names are then read within the loaded segment that holds the FDE,
// so a corrupt table or record cannot make the reader leave mapped memory.
static int find_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    find_ctx *ctx = data;
    cf_cfi_span text, hdr = {NULL, 0, 0};
    if (!segment_of(info, ctx->pc, &text))
        return 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_EH_FRAME) {
            hdr.vaddr = info->dlpi_addr + ph->p_vaddr;
            hdr.data = (const uint8_t *)hdr.vaddr;
            hdr.size = ph->p_memsz;
        }
    }
    uint64_t fde;
    if (hdr.data == NULL || !cf_cfi_hdr_search(hdr, ctx->pc, &fde))
        ctx->found = FOUND_NO_FDE;
    else if (!segment_of(info, fde, &ctx->segment))
        ctx->found = FOUND_FDE_ASTRAY;
    else {
        ctx->found = FOUND_FDE;
        ctx->fde_off = (size_t)(fde - ctx->segment.vaddr);
    }
    return 1;
}

// The module holding ctx->pc through glibc's _dl_find_object (2.35 and
// later), which takes no lock: dl_iterate_phdr takes the loader's lock, and
// in a child forked while another thread held it (in dlopen or dlclose)
// that lock is held for ever, so the child's first stack through a new pc
// hung (found by the soak, tests/soak). The program headers come from the
// ELF header at the start of the object's mapping, used only when that
// header describes this very mapping. False: look the slow way.
static bool find_lock_free(find_ctx *ctx) {
#ifdef DLFO_EH_SEGMENT_TYPE
    struct dl_find_object r;
    if (_dl_find_object((void *)ctx->pc, &r) != 0 || r.dlfo_link_map == NULL)
        return false;
    uintptr_t base = (uintptr_t)r.dlfo_map_start, size = (uintptr_t)r.dlfo_map_end - base;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_phentsize != sizeof(ElfW(Phdr)) || eh->e_phnum == 0 ||
        eh->e_phoff > size - (size_t)eh->e_phnum * sizeof(ElfW(Phdr)))
        return false;
    struct dl_phdr_info info;
    memset(&info, 0, sizeof info);
    info.dlpi_addr = r.dlfo_link_map->l_addr;
    info.dlpi_name = r.dlfo_link_map->l_name;
    info.dlpi_phdr = (const ElfW(Phdr) *)(base + eh->e_phoff);
    info.dlpi_phnum = eh->e_phnum;
    bool mine = false; // a PT_LOAD from file offset 0 mapped at base: these headers
    for (unsigned i = 0; i < info.dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info.dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_offset == 0 && info.dlpi_addr + ph->p_vaddr == base)
            mine = true;
    }
    if (!mine)
        return false;
    find_module(&info, sizeof info, ctx);
    return ctx->found != FOUND_NO_MODULE;
#else
    (void)ctx;
    return false;
#endif
}

// A save slot's offset from the CFA, as the rule keeps it.
static bool fits_slot(int64_t off) {
    return off >= INT16_MIN * 8 && off <= INT16_MAX * 8 && (off & 7) == 0;
}

// The rule of a row, if the rule format can express it.
// A return address left in a register (AArch64's x30 at a function's first
// instruction) cannot be read back by a frame that made a call since: only
// CF_CFI_OFFSET is followed.
static rule rule_of_row(const cf_cfi_row *row) {
    if (row->ra.how == CF_CFI_UNDEFINED)
        return rule_of_kind(K_END);
    if (row->cfa_expr || (row->cfa_reg != REG_SP && row->cfa_reg != REG_FP) ||
        row->ra.how != CF_CFI_OFFSET || row->fp.how == CF_CFI_UNDEFINED ||
        row->fp.how == CF_CFI_OTHER)
        return rule_of_kind(K_BAD);
    if (row->cfa_off < -CFA_OFF_MAX || row->cfa_off > CFA_OFF_MAX || !fits_slot(row->ra.off) ||
        (row->fp.how == CF_CFI_OFFSET && !fits_slot(row->fp.off)))
        return rule_of_kind(K_BAD);
    return rule_make(row->cfa_reg == REG_SP ? K_CFA_SP : K_CFA_BP, row->cfa_off, row->ra.off,
                     row->fp.how == CF_CFI_OFFSET, row->fp.off, row->ra_signed);
}

// Computes the rule for return address `pc`: the row at the call
// instruction, pc - 1. No FDE at all: K_GUESS, as libunwind guesses; an FDE
// this cannot read or follow: K_BAD, and libunwind takes the whole stack.
static rule compute_rule(uintptr_t pc) {
    uintptr_t target = pc - 1;
    find_ctx ctx = {target, FOUND_NO_MODULE, {NULL, 0, 0}, 0};
    if (!find_lock_free(&ctx))
        dl_iterate_phdr(find_module, &ctx);
    if (ctx.found == FOUND_NO_MODULE || ctx.found == FOUND_NO_FDE)
        return rule_of_kind(NO_FDE);
    cf_cfi_fde fde;
    cf_cfi_cie cie;
    if (ctx.found != FOUND_FDE || !cf_cfi_parse_fde(ctx.segment, ctx.fde_off, &fde, &cie) ||
        cie.signal || cie.ra_reg != REG_RA)
        return rule_of_kind(K_BAD);
    if (target < fde.pc_begin || target - fde.pc_begin >= fde.pc_range)
        return rule_of_kind(NO_FDE);
    cf_cfi_params params = {cie.code_align, cie.data_align, REG_RA,      REG_FP,
                            cie.fde_enc,    fde.pc_begin,   ARCH_AARCH64};
    // Before any instruction (at a function's first byte), with nothing
    // saved but what the call itself did.
    cf_cfi_row row = {false, REG_SP, ENTRY_CFA_OFF, {CF_CFI_SAME, 0}, {CF_CFI_SAME, 0}, false};
    if (!cf_cfi_run(&params, cie.insns, fde.insns, target, &row))
        return rule_of_kind(K_BAD);
    return rule_of_row(&row);
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
    uintptr_t tp = thread_pointer();
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
        cfa = *sp + (uintptr_t)rule_cfa_off(r);
        ra_at = cfa + (uintptr_t)rule_ra_off(r);
        break;
    case K_CFA_BP:
        cfa = *bp + (uintptr_t)rule_cfa_off(r);
        ra_at = cfa + (uintptr_t)rule_ra_off(r);
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
    if (rule_kind(r) != K_GUESS && !rule_has(r, BP_NOT_SAVED))
        bp_at = cfa + (uintptr_t)rule_bp_off(r);
    // Callers' frames lie above ours: the walk only moves up the stack and
    // never reads above its top, so a wrong rule cannot fault.
    if (cfa <= *sp || cfa > top || ra_at < *sp || ra_at > top - 8 || (ra_at & 7) != 0 ||
        (bp_at != 0 && (bp_at < *sp || bp_at > top - 8 || (bp_at & 7) != 0)))
        return rule_kind(r) == K_GUESS ? STEP_END : STEP_BAD;
    *pc = stack_word(ra_at);
    if (rule_has(r, RA_SIGNED))
        *pc = strip_ra(*pc);
    if (bp_at != 0)
        *bp = stack_word(bp_at);
    *sp = cfa;
    return *pc == 0 ? STEP_END : STEP_OK;
}

// The code that ends every stack (cf_fast_unwind_set_base): crossfree's
// thread start routine, below which only the C library's thread start
// remains. base_span 0: none.
static uintptr_t base_lo, base_span;

void cf_fast_unwind_set_base(uintptr_t lo, uintptr_t hi) {
    base_lo = lo;
    base_span = hi > lo ? hi - lo : 0;
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
    while (st == STEP_OK && pc - base_lo >= base_span) {
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

// The walk from (pc, sp, bp), with `top` from stack_top(sp).
static unsigned unwind_from(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t top, uintptr_t *pcs,
                            unsigned max, uint32_t *id) {
    int n = top == 0 || chain_mem == NULL || (sp & 7) != 0
                ? 0
                : walk(pc, sp, bp, top, pcs, max, id, true);
    if (n < 0)
        n = walk(pc, sp, bp, top, pcs, max, id, false);
    if (n <= 0)
        atomic_fetch_add_explicit(&n_fallbacks, 1, memory_order_relaxed);
    return n > 0 ? (unsigned)n : 0;
}

unsigned cf_fast_unwind(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *pcs, unsigned max,
                        uint32_t *id) {
    return max == 0 ? 0 : unwind_from(pc, sp, bp, stack_top(sp), pcs, max, id);
}

__attribute__((no_sanitize("address"))) unsigned
cf_fast_unwind_from_record(uintptr_t pc, uintptr_t fp, uintptr_t *pcs, unsigned max, uint32_t *id) {
    if (max == 0)
        return 0;
    rule r = lookup_rule(pc, atomic_load_explicit(&generation, memory_order_relaxed));
    unsigned kind = rule_kind(r);
    // fp points at the slot where the frame saved its caller's frame
    // pointer: CFA + bp_off, and so the frame's sp; one step leads out.
    uintptr_t cfa = fp - (uintptr_t)rule_bp_off(r);
    uintptr_t sp = kind == K_CFA_SP ? cfa - (uintptr_t)rule_cfa_off(r) : fp, bp = fp;
    uintptr_t top = stack_top(sp);
    if ((kind != K_CFA_SP && kind != K_CFA_BP) || rule_has(r, BP_NOT_SAVED) || top == 0 ||
        step(r, top, &pc, &sp, &bp) != STEP_OK) {
        atomic_fetch_add_explicit(&n_fallbacks, 1, memory_order_relaxed);
        return 0;
    }
    return unwind_from(pc, sp, bp, top, pcs, max, id);
}

void cf_fast_unwind_forget(void) { atomic_fetch_add(&generation, 1); }

void cf_fast_unwind_get_stats(cf_fast_unwind_stats *st) {
    st->chain_fills = atomic_load(&n_chain_fills);
    st->rule_fills = atomic_load(&n_rule_fills);
    st->fallbacks = atomic_load(&n_fallbacks);
}
