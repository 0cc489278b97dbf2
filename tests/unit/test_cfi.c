// SPDX-License-Identifier: MIT
// Unit tests for the CFI reader (stack/cfi.h) on hand-built .eh_frame and
// .eh_frame_hdr bytes: the rows of a gcc frame-pointer prologue, a frameless
// function, remember/restore_state, what it reports rather than follows
// (CFA expressions, registers saved elsewhere), the records and the header
// table, and malformed input of every kind, which must fail without reading
// outside the bytes (the ASan variant copies inputs to exact-size blocks).
#include "stack/cfi.h"

#include <dwarf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"

// DWARF register numbers of the x86-64 psABI.
enum { RBX = 3, RBP = 6, RSP = 7, RA = 16 };

// Where the test's code, .eh_frame and .eh_frame_hdr pretend to be loaded.
#define FUNC UINT64_C(0x401000)
#define EH_FRAME_VADDR UINT64_C(0x402000)
#define HDR_VADDR UINT64_C(0x403000)

// The encoding of FDE addresses gcc and clang use on x86_64.
#define PCREL_SDATA4 (DW_EH_PE_pcrel | DW_EH_PE_sdata4)

// ---------------------------------------------------------------------------
// Building records
// ---------------------------------------------------------------------------

typedef struct bytes {
    uint8_t b[1024];
    size_t n;
} bytes;

static void put_u8(bytes *o, unsigned v) {
    assert_true(o->n < sizeof o->b);
    o->b[o->n++] = (uint8_t)v;
}

static void put_u32_at(bytes *o, size_t at, uint32_t v) {
    for (unsigned i = 0; i < 4; i++)
        o->b[at + i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(bytes *o, uint32_t v) {
    assert_true(o->n + 4 <= sizeof o->b);
    put_u32_at(o, o->n, v);
    o->n += 4;
}

static void put_uleb(bytes *o, uint64_t v) {
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        put_u8(o, v != 0 ? b | 0x80u : b);
    } while (v != 0);
}

static void put_sleb(bytes *o, int64_t v) {
    for (;;) {
        uint8_t b = (uint8_t)((uint64_t)v & 0x7f);
        v = v < 0 ? ~(~v >> 7) : v >> 7; // an arithmetic shift, spelled out
        bool done = (v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0);
        put_u8(o, done ? b : b | 0x80u);
        if (done)
            return;
    }
}

static void put_raw(bytes *o, const uint8_t *p, size_t n) {
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

// Ends the record whose length field is at `at`.
static void close_record(bytes *o, size_t at) { put_u32_at(o, at, (uint32_t)(o->n - at - 4)); }

typedef struct cie_spec {
    unsigned version;
    const char *aug;
    const uint8_t *aug_data; // after "z": the augmentation data
    size_t aug_data_len;
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra;
    const uint8_t *insns;
    size_t insns_len;
} cie_spec;

// What every x86_64 CIE from gcc starts with: CFA = rsp + 8, the return
// address at CFA - 8.
static const uint8_t x86_cie_insns[] = {DW_CFA_def_cfa, RSP, 8, DW_CFA_offset | RA, 1};
static const uint8_t zr_data[] = {PCREL_SDATA4};

static cie_spec default_cie(void) {
    cie_spec s = {1, "zR", zr_data, sizeof zr_data, 1, -8, RA, x86_cie_insns, sizeof x86_cie_insns};
    return s;
}

// Appends a CIE; returns its offset.
static size_t add_cie(bytes *o, const cie_spec *s) {
    size_t at = o->n;
    put_u32(o, 0);
    put_u32(o, 0); // CIE id
    put_u8(o, s->version);
    put_raw(o, (const uint8_t *)s->aug, strlen(s->aug) + 1);
    put_uleb(o, s->code_align);
    put_sleb(o, s->data_align);
    if (s->version == 1)
        put_u8(o, (unsigned)s->ra);
    else
        put_uleb(o, s->ra);
    if (s->aug[0] == 'z') {
        put_uleb(o, s->aug_data_len);
        put_raw(o, s->aug_data, s->aug_data_len);
    }
    put_raw(o, s->insns, s->insns_len);
    close_record(o, at);
    return at;
}

// Appends an FDE for [begin, begin + range) in the pcrel sdata4 encoding,
// with empty augmentation data; returns its offset.
static size_t add_fde(bytes *o, size_t cie_at, uint64_t begin, uint32_t range, const uint8_t *insns,
                      size_t insns_len) {
    size_t at = o->n;
    put_u32(o, 0);
    put_u32(o, (uint32_t)(o->n - cie_at)); // counts back from this field
    put_u32(o, (uint32_t)(begin - (EH_FRAME_VADDR + o->n)));
    put_u32(o, range);
    put_uleb(o, 0);
    put_raw(o, insns, insns_len);
    close_record(o, at);
    return at;
}

static cf_cfi_span span_of(const bytes *o, uint64_t vaddr) {
    cf_cfi_span s = {o->b, o->n, vaddr};
    return s;
}

static cf_cfi_span span_raw(const uint8_t *p, size_t n) {
    cf_cfi_span s = {p, n, FUNC};
    return s;
}

// ---------------------------------------------------------------------------
// Running programs
// ---------------------------------------------------------------------------

// The row before any instruction, as the unwinder starts it.
static cf_cfi_row entry_row(void) {
    cf_cfi_row r = {false, RSP, 8, {CF_CFI_SAME, 0}, {CF_CFI_SAME, 0}, false};
    return r;
}

// Runs the FDE at `fde_at` of an .eh_frame up to `target` the way the
// unwinder does: parse the FDE and its CIE, then interpret both.
static bool row_at(const bytes *eh, size_t fde_at, uint64_t target, cf_cfi_row *row) {
    cf_cfi_fde fde;
    cf_cfi_cie cie;
    if (!cf_cfi_parse_fde(span_of(eh, EH_FRAME_VADDR), fde_at, &fde, &cie))
        return false;
    cf_cfi_params p = {cie.code_align, cie.data_align, cie.ra_reg, RBP,
                       cie.fde_enc,    fde.pc_begin,   false};
    *row = entry_row();
    return cf_cfi_run(&p, cie.insns, fde.insns, target, row);
}

// Runs an FDE program after the usual CIE program, with the usual factors.
static bool run_insns(const uint8_t *insns, size_t n, uint64_t target, cf_cfi_row *row) {
    cf_cfi_params p = {1, -8, RA, RBP, PCREL_SDATA4, FUNC, false};
    *row = entry_row();
    return cf_cfi_run(&p, span_raw(x86_cie_insns, sizeof x86_cie_insns), span_raw(insns, n), target,
                      row);
}

typedef struct want {
    uint64_t cfa_reg;
    int64_t cfa_off;
    uint8_t ra_how;
    int64_t ra_off;
    uint8_t fp_how;
    int64_t fp_off;
} want;

static void assert_row(const cf_cfi_row *r, want w) {
    assert_false(r->cfa_expr);
    assert_int_equal(r->cfa_reg, w.cfa_reg);
    assert_int_equal(r->cfa_off, w.cfa_off);
    assert_int_equal(r->ra.how, w.ra_how);
    assert_int_equal(r->ra.off, w.ra_off);
    assert_int_equal(r->fp.how, w.fp_how);
    assert_int_equal(r->fp.off, w.fp_off);
}

// Asserts the row at FUNC + offset of a program.
static void assert_row_at(const uint8_t *insns, size_t n, uint64_t offset, want w) {
    cf_cfi_row row;
    assert_true(run_insns(insns, n, FUNC + offset, &row));
    assert_row(&row, w);
}

// ---------------------------------------------------------------------------
// Programs and a module to hold them
// ---------------------------------------------------------------------------

// push %rbp; mov %rsp,%rbp; ...; leave; ret, as gcc -O0 describes it.
// clang-format off
static const uint8_t gcc_prologue[] = {
    DW_CFA_advance_loc | 1,             // at 1, after push %rbp:
    DW_CFA_def_cfa_offset, 16,
    DW_CFA_offset | RBP, 2,             //   rbp at CFA - 16
    DW_CFA_advance_loc | 3,             // at 4, after mov %rsp,%rbp
    DW_CFA_def_cfa_register, RBP,
    DW_CFA_advance_loc | 0x1c,          // at 0x20, after leave
    DW_CFA_def_cfa, RSP, 8,
    DW_CFA_nop, DW_CFA_nop,
};
// clang-format on

// push %rbx; sub $0x30,%rsp; ...; add $0x30,%rsp; pop %rbx; ret: the CFA
// moves with rsp, and rbx (not tracked) never shows in the row.
// clang-format off
static const uint8_t frameless[] = {
    DW_CFA_advance_loc | 1,             // at 1, after push %rbx
    DW_CFA_def_cfa_offset, 16,
    DW_CFA_offset | RBX, 2,
    DW_CFA_advance_loc | 4,             // at 5, after sub $0x30,%rsp
    DW_CFA_def_cfa_offset, 64,
    DW_CFA_advance_loc1, 200,           // at 205, after add $0x30,%rsp
    DW_CFA_def_cfa_offset, 16,
    DW_CFA_advance_loc | 1,             // at 206, after pop %rbx
    DW_CFA_def_cfa_offset, 8,
    DW_CFA_advance_loc2, 0x34, 0x12,    // 0x1234 further
    DW_CFA_def_cfa_offset_sf, 0x7c,     //   -4 * -8
    DW_CFA_advance_loc4, 0, 0, 1, 0,    // 0x10000 further
    DW_CFA_def_cfa_sf, RSP, 0x7e,       //   -2 * -8
};
// clang-format on

// A frame-pointer function with an early return: gcc saves the row before
// the first epilogue and brings it back after its ret.
// clang-format off
static const uint8_t early_return[] = {
    DW_CFA_advance_loc | 1,
    DW_CFA_def_cfa_offset, 16,
    DW_CFA_offset | RBP, 2,
    DW_CFA_advance_loc | 3,
    DW_CFA_def_cfa_register, RBP,
    DW_CFA_advance_loc | 10,            // at 14, after pop %rbp
    DW_CFA_remember_state,
    DW_CFA_def_cfa, RSP, 8,
    DW_CFA_restore | RBP,
    DW_CFA_advance_loc | 1,             // at 15, after ret: the rest of the body
    DW_CFA_restore_state,
    DW_CFA_advance_loc | 10,            // at 25, after the last leave
    DW_CFA_def_cfa, RSP, 8,
};
// clang-format on

// A header with `count` entries: entry i starts at FUNC + 0x100 * i and
// names an FDE at EH_FRAME_VADDR + 0x20 * i.
static void build_hdr(bytes *h, uint32_t count) {
    h->n = 0;
    put_u8(h, 1);
    put_u8(h, PCREL_SDATA4);    // eh_frame_ptr
    put_u8(h, DW_EH_PE_udata4); // fde_count
    put_u8(h, DW_EH_PE_datarel | DW_EH_PE_sdata4);
    put_u32(h, (uint32_t)(EH_FRAME_VADDR - (HDR_VADDR + 4)));
    put_u32(h, count);
    for (uint32_t i = 0; i < count; i++) {
        put_u32(h, (uint32_t)(FUNC + 0x100 * i - HDR_VADDR)); // negative: code lies below
        put_u32(h, (uint32_t)(EH_FRAME_VADDR + 0x20 * i - HDR_VADDR));
    }
}

// A module's worth of call-frame information: one CIE, an FDE running
// `first` for [FUNC, FUNC + 0x40), one running `frameless` for
// [FUNC + 0x40, FUNC + 0x240), and the .eh_frame_hdr that indexes both.
typedef struct module {
    bytes eh, hdr;
    size_t cie, fde_a, fde_b;
} module;

static void build_module(module *m, const uint8_t *first, size_t first_n) {
    m->eh.n = 0;
    cie_spec s = default_cie();
    m->cie = add_cie(&m->eh, &s);
    m->fde_a = add_fde(&m->eh, m->cie, FUNC, 0x40, first, first_n);
    m->fde_b = add_fde(&m->eh, m->cie, FUNC + 0x40, 0x200, frameless, sizeof frameless);
    build_hdr(&m->hdr, 2);
    put_u32_at(&m->hdr, 12 + 4, (uint32_t)(EH_FRAME_VADDR + m->fde_a - HDR_VADDR));
    put_u32_at(&m->hdr, 12 + 8, (uint32_t)(FUNC + 0x40 - HDR_VADDR));
    put_u32_at(&m->hdr, 12 + 12, (uint32_t)(EH_FRAME_VADDR + m->fde_b - HDR_VADDR));
}

// ---------------------------------------------------------------------------
// Typical frames
// ---------------------------------------------------------------------------

static void test_gcc_prologue(void **state) {
    (void)state;
    const size_t n = sizeof gcc_prologue;
    assert_row_at(gcc_prologue, n, 0, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_SAME, 0});
    for (uint64_t at = 1; at < 4; at++)
        assert_row_at(gcc_prologue, n, at, (want){RSP, 16, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
    for (uint64_t at = 4; at < 0x20; at++)
        assert_row_at(gcc_prologue, n, at, (want){RBP, 16, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
    // gcc leaves rbp's rule alone after leave: the saved value is still there.
    assert_row_at(gcc_prologue, n, 0x20, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
    assert_row_at(gcc_prologue, n, 0x1000, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
}

// The same frame through whole records: CIE and FDE parsed from .eh_frame.
static void test_gcc_prologue_records(void **state) {
    (void)state;
    module m;
    build_module(&m, gcc_prologue, sizeof gcc_prologue);
    const bytes *eh = &m.eh;
    size_t fde = m.fde_a;

    cf_cfi_fde f;
    cf_cfi_cie c;
    assert_true(cf_cfi_parse_fde(span_of(eh, EH_FRAME_VADDR), fde, &f, &c));
    assert_int_equal(f.pc_begin, FUNC);
    assert_int_equal(f.pc_range, 0x40);
    assert_int_equal(f.insns.size, sizeof gcc_prologue);
    assert_memory_equal(f.insns.data, gcc_prologue, sizeof gcc_prologue);
    assert_int_equal(f.insns.vaddr, EH_FRAME_VADDR + (uint64_t)(f.insns.data - eh->b));
    assert_int_equal(c.code_align, 1);
    assert_int_equal(c.data_align, -8);
    assert_int_equal(c.ra_reg, RA);
    assert_int_equal(c.fde_enc, PCREL_SDATA4);
    assert_true(c.has_z);
    assert_false(c.signal);
    assert_memory_equal(c.insns.data, x86_cie_insns, sizeof x86_cie_insns);

    cf_cfi_row row;
    assert_true(row_at(eh, fde, FUNC + 5, &row));
    assert_row(&row, (want){RBP, 16, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
    // An FDE's offset is no CIE's.
    assert_false(cf_cfi_parse_cie(span_of(eh, EH_FRAME_VADDR), fde, &c));
}

static void test_frameless(void **state) {
    (void)state;
    const size_t n = sizeof frameless;
    const want same = {RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_SAME, 0};
    want w = same;
    assert_row_at(frameless, n, 0, w);
    w.cfa_off = 16;
    assert_row_at(frameless, n, 1, w);
    assert_row_at(frameless, n, 4, w);
    w.cfa_off = 64;
    assert_row_at(frameless, n, 5, w);
    assert_row_at(frameless, n, 204, w);
    w.cfa_off = 16;
    assert_row_at(frameless, n, 205, w);
    w.cfa_off = 8;
    assert_row_at(frameless, n, 206, w);
    assert_row_at(frameless, n, 206 + 0x1233, w);
    w.cfa_off = 32;
    assert_row_at(frameless, n, 206 + 0x1234, w);
    assert_row_at(frameless, n, 206 + 0x1234 + 0xffff, w);
    w.cfa_off = 16;
    assert_row_at(frameless, n, 206 + 0x1234 + 0x10000, w);
}

// The code alignment factor scales every advance (as on aarch64, where it
// is 4); a target below the FDE's start gets the CIE's row.
static void test_code_align(void **state) {
    (void)state;
    const uint8_t insns[] = {DW_CFA_advance_loc | 1, DW_CFA_def_cfa_offset, 32};
    cf_cfi_params p = {4, -8, RA, RBP, PCREL_SDATA4, FUNC, false};
    const cf_cfi_span cie = span_raw(x86_cie_insns, sizeof x86_cie_insns);
    cf_cfi_row row = entry_row();
    assert_true(cf_cfi_run(&p, cie, span_raw(insns, sizeof insns), FUNC + 3, &row));
    assert_int_equal(row.cfa_off, 8);
    row = entry_row();
    assert_true(cf_cfi_run(&p, cie, span_raw(insns, sizeof insns), FUNC + 4, &row));
    assert_int_equal(row.cfa_off, 32);
}

// A function GCC builds for AArch64 with -mbranch-protection=pac-ret:
//   0 paciasp; 4 stp x29, x30, [sp, -16]!; 8 mov x29, sp; ...;
//   20 ldp x29, x30, [sp], 16; 24 autiasp; 28 ret
// DW_CFA_AARCH64_negate_ra_state (0x2d) marks where the return address is
// signed; elsewhere that opcode is SPARC's window save and is refused.
static void test_aarch64_signed_ra(void **state) {
    (void)state;
    enum { X29 = 29, X30 = 30, SP = 31 };
    const uint8_t cie_insns[] = {DW_CFA_def_cfa, SP, 0};
    // clang-format off
    const uint8_t insns[] = {
        DW_CFA_advance_loc | 1,         // 4: after paciasp
        DW_CFA_AARCH64_negate_ra_state,
        DW_CFA_advance_loc | 1,         // 8: after stp
        DW_CFA_def_cfa_offset, 16,
        DW_CFA_offset | X29, 2,
        DW_CFA_offset | X30, 1,
        DW_CFA_remember_state,
        DW_CFA_advance_loc | 4,         // 24: after ldp
        DW_CFA_restore | X30,
        DW_CFA_restore | X29,
        DW_CFA_def_cfa_offset, 0,
        DW_CFA_advance_loc | 1,         // 28: after autiasp
        DW_CFA_AARCH64_negate_ra_state,
        DW_CFA_advance_loc | 1,         // 32: code after the return, as before the ldp
        DW_CFA_restore_state,
    };
    // clang-format on
    cf_cfi_params p = {4, -8, X30, X29, PCREL_SDATA4, FUNC, true};
    const cf_cfi_span cie = span_raw(cie_insns, sizeof cie_insns);
    const cf_cfi_span fde = span_raw(insns, sizeof insns);
    struct {
        uint64_t at;
        bool signed_ra;
        int64_t cfa_off;
        uint8_t ra_how;
    } rows[] = {
        {0, false, 0, CF_CFI_SAME},    {4, true, 0, CF_CFI_SAME},  {8, true, 16, CF_CFI_OFFSET},
        {20, true, 16, CF_CFI_OFFSET}, {24, true, 0, CF_CFI_SAME}, {28, false, 0, CF_CFI_SAME},
        {32, true, 16, CF_CFI_OFFSET},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cf_cfi_row row = {false, SP, 0, {CF_CFI_SAME, 0}, {CF_CFI_SAME, 0}, false};
        assert_true(cf_cfi_run(&p, cie, fde, FUNC + rows[i].at, &row));
        assert_int_equal(row.ra_signed, rows[i].signed_ra);
        assert_int_equal(row.cfa_reg, SP);
        assert_int_equal(row.cfa_off, rows[i].cfa_off);
        assert_int_equal(row.ra.how, rows[i].ra_how);
        if (row.ra.how == CF_CFI_OFFSET) {
            assert_int_equal(row.ra.off, -8);
            assert_int_equal(row.fp.off, -16);
        }
    }
    p.aarch64 = false; // an x86_64 (or any other) reader refuses the opcode
    cf_cfi_row row = {false, SP, 0, {CF_CFI_SAME, 0}, {CF_CFI_SAME, 0}, false};
    assert_false(cf_cfi_run(&p, cie, fde, FUNC + 8, &row));
}

// ---------------------------------------------------------------------------
// remember_state / restore_state and restore
// ---------------------------------------------------------------------------

static void test_remember_restore(void **state) {
    (void)state;
    const size_t n = sizeof early_return;
    const want framed = {RBP, 16, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16};
    assert_row_at(early_return, n, 13, framed);
    assert_row_at(early_return, n, 14, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_SAME, 0});
    assert_row_at(early_return, n, 15, framed);
    assert_row_at(early_return, n, 24, framed);
    assert_row_at(early_return, n, 25, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
}

static void test_state_stack_limits(void **state) {
    (void)state;
    cf_cfi_row row;
    uint8_t deep[9];
    memset(deep, DW_CFA_remember_state, sizeof deep);
    assert_true(run_insns(deep, 8, FUNC, &row));
    assert_false(run_insns(deep, 9, FUNC, &row));
    const uint8_t pop_empty[] = {DW_CFA_remember_state, DW_CFA_restore_state, DW_CFA_restore_state};
    assert_true(run_insns(pop_empty, 2, FUNC, &row));
    assert_false(run_insns(pop_empty, 3, FUNC, &row));
}

// restore and restore_extended bring back the CIE's rule; the CIE itself
// cannot restore the registers the row keeps (there is nothing yet).
static void test_restore(void **state) {
    (void)state;
    // clang-format off
    const uint8_t insns[] = {
        DW_CFA_offset | RBP, 2,
        DW_CFA_offset_extended, RA, 3,
        DW_CFA_advance_loc | 1,
        DW_CFA_restore | RBP,
        DW_CFA_restore_extended, RA,
    };
    // clang-format on
    assert_row_at(insns, sizeof insns, 0, (want){RSP, 8, CF_CFI_OFFSET, -24, CF_CFI_OFFSET, -16});
    assert_row_at(insns, sizeof insns, 1, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_SAME, 0});

    cf_cfi_params p = {1, -8, RA, RBP, PCREL_SDATA4, FUNC, false};
    const uint8_t cie_restores_fp[] = {DW_CFA_def_cfa, RSP, 8, DW_CFA_restore | RBP};
    const uint8_t cie_restores_rbx[] = {DW_CFA_def_cfa, RSP, 8, DW_CFA_restore | RBX};
    cf_cfi_row row = entry_row();
    const cf_cfi_span empty = span_raw(x86_cie_insns, 0);
    assert_false(
        cf_cfi_run(&p, span_raw(cie_restores_fp, sizeof cie_restores_fp), empty, FUNC, &row));
    row = entry_row();
    assert_true(
        cf_cfi_run(&p, span_raw(cie_restores_rbx, sizeof cie_restores_rbx), empty, FUNC, &row));
}

// ---------------------------------------------------------------------------
// What the row reports instead of following
// ---------------------------------------------------------------------------

// A PLT entry's CFA is an expression: reported in cfa_expr, which the
// unwinder refuses; a later register + offset rule ends it.
static void test_cfa_expression(void **state) {
    (void)state;
    // clang-format off
    const uint8_t insns[] = {
        DW_CFA_def_cfa_offset, 16,
        DW_CFA_advance_loc | 6,
        DW_CFA_def_cfa_offset, 24,
        DW_CFA_advance_loc | 10,        // at 16: rsp + 8 + ((rip & 15) >= 11) * 8
        DW_CFA_def_cfa_expression, 11,
        DW_OP_breg7, 8, DW_OP_breg16, 0, DW_OP_lit15, DW_OP_and, DW_OP_lit11, DW_OP_ge,
        DW_OP_lit3, DW_OP_shl, DW_OP_plus,
        DW_CFA_advance_loc | 16,        // at 32: only the offset changes, still an expression
        DW_CFA_def_cfa_offset, 40,
        DW_CFA_advance_loc | 1,         // at 33
        DW_CFA_def_cfa, RSP, 8,
    };
    // clang-format on
    cf_cfi_row row;
    assert_true(run_insns(insns, sizeof insns, FUNC + 15, &row));
    assert_false(row.cfa_expr);
    assert_int_equal(row.cfa_off, 24);
    assert_true(run_insns(insns, sizeof insns, FUNC + 16, &row));
    assert_true(row.cfa_expr);
    assert_true(run_insns(insns, sizeof insns, FUNC + 32, &row));
    assert_true(row.cfa_expr);
    assert_true(run_insns(insns, sizeof insns, FUNC + 33, &row));
    assert_row(&row, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_SAME, 0});
}

// Rules other than "saved at CFA + n" are reported as CF_CFI_OTHER, an
// undefined return address as CF_CFI_UNDEFINED (the outermost frame), and
// rules for registers the row does not keep change nothing.
static void test_other_rules(void **state) {
    (void)state;
    // clang-format off
    const uint8_t insns[] = {
        DW_CFA_register, RBP, RBX,                              // at 0
        DW_CFA_advance_loc | 1,                                 // at 1
        DW_CFA_expression, RBP, 2, DW_OP_breg7, 0,
        DW_CFA_advance_loc | 1,                                 // at 2
        DW_CFA_val_offset, RBP, 1,
        DW_CFA_advance_loc | 1,                                 // at 3
        DW_CFA_val_offset_sf, RBP, 0x7f,
        DW_CFA_advance_loc | 1,                                 // at 4
        DW_CFA_val_expression, RBP, 1, DW_OP_lit0,
        DW_CFA_advance_loc | 1,                                 // at 5: -2 * -8
        DW_CFA_offset_extended_sf, RBP, 0x7e,
        DW_CFA_advance_loc | 1,                                 // at 6: -(3 * -8)
        DW_CFA_GNU_negative_offset_extended, RBP, 3,
        DW_CFA_advance_loc | 1,                                 // at 7
        DW_CFA_same_value, RBP,
        DW_CFA_undefined, RA,
        DW_CFA_advance_loc | 1,                                 // at 8: nothing tracked
        DW_CFA_offset | RBX, 5,
        DW_CFA_register, RBX, RBP,
        DW_CFA_GNU_args_size, 16,
        DW_CFA_undefined, RBX,
        DW_CFA_nop,
    };
    // clang-format on
    const size_t n = sizeof insns;
    const want other = {RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_OTHER, 0};
    for (uint64_t at = 0; at < 5; at++)
        assert_row_at(insns, n, at, other);
    assert_row_at(insns, n, 5, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, 16});
    assert_row_at(insns, n, 6, (want){RSP, 8, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, 24});
    assert_row_at(insns, n, 7, (want){RSP, 8, CF_CFI_UNDEFINED, 0, CF_CFI_SAME, 0});
    assert_row_at(insns, n, 8, (want){RSP, 8, CF_CFI_UNDEFINED, 0, CF_CFI_SAME, 0});
}

// DW_CFA_set_loc takes an operand in the FDE's encoding, here pc-relative
// to the operand's own address.
static void test_set_loc(void **state) {
    (void)state;
    // span_raw places the operand at FUNC + 1: 8 further is FUNC + 9.
    const uint8_t insns[] = {DW_CFA_set_loc, 8, 0, 0, 0, DW_CFA_def_cfa_offset, 48};
    cf_cfi_row row;
    assert_true(run_insns(insns, sizeof insns, FUNC + 8, &row));
    assert_int_equal(row.cfa_off, 8);
    assert_true(run_insns(insns, sizeof insns, FUNC + 9, &row));
    assert_int_equal(row.cfa_off, 48);
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

// Writes the CIE `s` alone into *eh and parses it.
static bool parse_alone(bytes *eh, const cie_spec *s, cf_cfi_cie *c) {
    eh->n = 0;
    size_t at = add_cie(eh, s);
    return cf_cfi_parse_cie(span_of(eh, EH_FRAME_VADDR), at, c);
}

static void test_cie_augmentations(void **state) {
    (void)state;
    bytes eh;
    cf_cfi_cie c;
    // zPLR, with an indirect personality pointer, as g++ writes for C++.
    const uint8_t zplr[] = {
        DW_EH_PE_indirect | PCREL_SDATA4, 1, 2, 3, 4, PCREL_SDATA4, PCREL_SDATA4};
    cie_spec s = default_cie();
    s.aug = "zPLR";
    s.aug_data = zplr;
    s.aug_data_len = sizeof zplr;
    assert_true(parse_alone(&eh, &s, &c));
    assert_int_equal(c.fde_enc, PCREL_SDATA4);
    assert_false(c.signal);
    assert_memory_equal(c.insns.data, x86_cie_insns, sizeof x86_cie_insns);

    // zRS: a signal frame (glibc's __restore_rt); version 3 spells the
    // return-address column in ULEB128.
    s = default_cie();
    s.aug = "zRS";
    s.version = 3;
    s.ra = 200;
    assert_true(parse_alone(&eh, &s, &c));
    assert_true(c.signal);
    assert_int_equal(c.ra_reg, 200);

    // zRB: AArch64 code whose return addresses are signed with the B key
    // (no data, no rule of its own); G, memory-tagged frames, the same.
    const uint8_t zr[] = {PCREL_SDATA4};
    const char *aarch64_aug[] = {"zRB", "zRG", "zRBG"};
    for (size_t i = 0; i < sizeof aarch64_aug / sizeof aarch64_aug[0]; i++) {
        s = default_cie();
        s.aug = aarch64_aug[i];
        s.aug_data = zr;
        s.aug_data_len = sizeof zr;
        assert_true(parse_alone(&eh, &s, &c));
        assert_int_equal(c.fde_enc, PCREL_SDATA4);
        assert_false(c.signal);
    }

    // No augmentation at all: absolute 8-byte FDE addresses.
    s = default_cie();
    s.aug = "";
    s.code_align = 4;
    s.data_align = -4;
    assert_true(parse_alone(&eh, &s, &c));
    assert_false(c.has_z);
    assert_int_equal(c.fde_enc, DW_EH_PE_absptr);
    assert_int_equal(c.code_align, 4);
    assert_int_equal(c.data_align, -4);

    // Refused: an unknown letter, "eh", letters without "z", versions 0, 2
    // and 4.
    const char *bad_aug[] = {"zRX", "eh", "R", "zR\x01"};
    const unsigned bad_version[] = {0, 2, 4};
    const size_t n_aug = sizeof bad_aug / sizeof bad_aug[0];
    for (size_t i = 0; i < n_aug + sizeof bad_version / sizeof bad_version[0]; i++) {
        s = default_cie();
        if (i < n_aug)
            s.aug = bad_aug[i];
        else
            s.version = bad_version[i - n_aug];
        assert_false(parse_alone(&eh, &s, &c));
    }
}

// Every FDE address encoding the reader decodes, and those it refuses.
static void test_fde_encodings(void **state) {
    (void)state;
    struct {
        uint8_t enc;
        bool ok;
    } cases[] = {
        {DW_EH_PE_absptr, true},
        {DW_EH_PE_udata4, true},
        {DW_EH_PE_udata8, true},
        {DW_EH_PE_sdata8, true},
        {DW_EH_PE_datarel | DW_EH_PE_sdata4, false}, // no data base in .eh_frame
        {DW_EH_PE_textrel | DW_EH_PE_sdata4, false},
        {DW_EH_PE_indirect | PCREL_SDATA4, false},
        {DW_EH_PE_aligned, false},
        {0x05, false}, // no such format
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t enc = cases[i].enc;
        unsigned format = enc & 0x0f;
        unsigned size = format == DW_EH_PE_udata4 || format == DW_EH_PE_sdata4 ? 4 : 8;
        bytes eh = {.n = 0};
        cie_spec s = default_cie();
        s.aug_data = &enc;
        s.aug_data_len = 1;
        size_t cie = add_cie(&eh, &s);
        size_t fde = eh.n;
        put_u32(&eh, 0);
        put_u32(&eh, (uint32_t)(eh.n - cie));
        for (unsigned b = 0; b < size; b++)
            put_u8(&eh, (FUNC >> (8 * b)) & 0xff);
        for (unsigned b = 0; b < size; b++)
            put_u8(&eh, b == 0 ? 0x40 : 0);
        put_uleb(&eh, 0);
        close_record(&eh, fde);
        cf_cfi_fde f;
        cf_cfi_cie c;
        assert_int_equal(cf_cfi_parse_fde(span_of(&eh, EH_FRAME_VADDR), fde, &f, &c), cases[i].ok);
        if (cases[i].ok) {
            assert_int_equal(f.pc_begin, FUNC);
            assert_int_equal(f.pc_range, 0x40);
        }
    }
}

static void test_bad_records(void **state) {
    (void)state;
    module mod;
    build_module(&mod, gcc_prologue, sizeof gcc_prologue);
    const bytes eh = mod.eh;
    const size_t cie = mod.cie, fde = mod.fde_a;
    cf_cfi_span sec = span_of(&eh, EH_FRAME_VADDR);
    cf_cfi_fde f;
    cf_cfi_cie c;
    assert_true(cf_cfi_parse_fde(sec, fde, &f, &c));

    // Offsets past the end, or with no room for a length.
    assert_false(cf_cfi_parse_fde(sec, eh.n, &f, &c));
    assert_false(cf_cfi_parse_fde(sec, eh.n - 2, &f, &c));
    assert_false(cf_cfi_parse_fde(sec, SIZE_MAX, &f, &c));
    assert_false(cf_cfi_parse_cie(sec, SIZE_MAX - 1, &c));

    bytes m;
    // The terminator, the 64-bit escape, lengths past the section.
    const uint32_t bad_len[] = {0, 0xffffffffu, 0x7fffffffu, (uint32_t)(eh.n - fde - 4 + 1)};
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        m = eh;
        put_u32_at(&m, fde, bad_len[i]);
        assert_false(cf_cfi_parse_fde(span_of(&m, EH_FRAME_VADDR), fde, &f, &c));
        if (i < 3) { // the last one would still end inside the section for the CIE
            m = eh;
            put_u32_at(&m, cie, bad_len[i]);
            assert_false(cf_cfi_parse_fde(span_of(&m, EH_FRAME_VADDR), fde, &f, &c));
        }
    }
    // CIE pointers: 0 (a CIE), before the section, at the FDE itself.
    const uint32_t bad_back[] = {0, (uint32_t)(fde + 5), 4};
    for (size_t i = 0; i < sizeof bad_back / sizeof bad_back[0]; i++) {
        m = eh;
        put_u32_at(&m, fde + 4, bad_back[i]);
        assert_false(cf_cfi_parse_fde(span_of(&m, EH_FRAME_VADDR), fde, &f, &c));
    }
    // A CIE whose id is not 0.
    m = eh;
    put_u32_at(&m, cie + 4, 1);
    assert_false(cf_cfi_parse_fde(span_of(&m, EH_FRAME_VADDR), fde, &f, &c));
    // Augmentation data longer than the FDE, and than the CIE.
    m = eh;
    m.b[fde + 16] = 0x7f;
    assert_false(cf_cfi_parse_fde(span_of(&m, EH_FRAME_VADDR), fde, &f, &c));
    m = eh;
    size_t cie_aug_len = cie + 4 + 4 + 1 + 3 + 1 + 1 + 1; // length, id, version, "zR", factors, ra
    assert_int_equal(m.b[cie_aug_len], 1);
    m.b[cie_aug_len] = 0x70;
    assert_false(cf_cfi_parse_fde(span_of(&m, EH_FRAME_VADDR), fde, &f, &c));
    // A CIE whose augmentation string never ends.
    m = eh;
    memset(m.b + cie + 9, 'z', (size_t)(fde - cie - 9));
    assert_false(cf_cfi_parse_cie(span_of(&m, EH_FRAME_VADDR), cie, &c));
    uint8_t *alone = malloc(fde); // the CIE alone, in an exact-size block
    assert_non_null(alone);
    memcpy(alone, m.b, fde);
    assert_false(cf_cfi_parse_cie((cf_cfi_span){alone, fde, EH_FRAME_VADDR}, cie, &c));
    free(alone);
    // A truncated LEB128 factor in the CIE: every byte has its high bit.
    m = eh;
    memset(m.b + cie + 12, 0x80, (size_t)(fde - cie - 12));
    assert_false(cf_cfi_parse_cie(span_of(&m, EH_FRAME_VADDR), cie, &c));
}

// ---------------------------------------------------------------------------
// .eh_frame_hdr
// ---------------------------------------------------------------------------

static void test_hdr_search(void **state) {
    (void)state;
    bytes h;
    uint64_t fde = 0;
    for (uint32_t count = 1; count <= 9; count++) {
        build_hdr(&h, count);
        cf_cfi_span s = span_of(&h, HDR_VADDR);
        assert_false(cf_cfi_hdr_search(s, FUNC - 1, &fde));
        for (uint32_t i = 0; i < count; i++) {
            assert_true(cf_cfi_hdr_search(s, FUNC + 0x100 * i, &fde));
            assert_int_equal(fde, EH_FRAME_VADDR + 0x20 * i);
            assert_true(cf_cfi_hdr_search(s, FUNC + 0x100 * i + 0xff, &fde));
            assert_int_equal(fde, EH_FRAME_VADDR + 0x20 * i);
        }
        // Past the last entry: the last FDE, whose range the caller checks.
        assert_true(cf_cfi_hdr_search(s, UINT64_MAX, &fde));
        assert_int_equal(fde, EH_FRAME_VADDR + 0x20 * (count - 1));
    }
}

static void test_bad_hdr(void **state) {
    (void)state;
    bytes h, m;
    uint64_t fde = 0;
    build_hdr(&h, 4);
    assert_true(cf_cfi_hdr_search(span_of(&h, HDR_VADDR), FUNC, &fde));
    // Each of these fails, and leaves *fde_vaddr alone.
    fde = 7;
    for (size_t size = 0; size < h.n; size++) // any truncation
        assert_false(cf_cfi_hdr_search((cf_cfi_span){h.b, size, HDR_VADDR}, FUNC, &fde));
    const size_t field[] = {0, 3, 2, 2};
    const uint8_t value[] = {2, DW_EH_PE_udata4, DW_EH_PE_omit, DW_EH_PE_indirect | 0x03};
    for (size_t i = 0; i < sizeof field / sizeof field[0]; i++) {
        m = h;
        m.b[field[i]] = value[i];
        assert_false(cf_cfi_hdr_search(span_of(&m, HDR_VADDR), FUNC, &fde));
    }
    // A count of 0, and counts the section cannot hold.
    const uint32_t counts[] = {0, 5, 0x20000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        m = h;
        put_u32_at(&m, 8, counts[i]);
        assert_false(cf_cfi_hdr_search(span_of(&m, HDR_VADDR), FUNC + 0x300, &fde));
    }
    assert_int_equal(fde, 7);
}

// The whole slow path of the unwinder on bytes: header, FDE, CIE, program.
static void test_header_to_row(void **state) {
    (void)state;
    module m;
    build_module(&m, gcc_prologue, sizeof gcc_prologue);
    uint64_t at;
    cf_cfi_row row;
    assert_true(cf_cfi_hdr_search(span_of(&m.hdr, HDR_VADDR), FUNC + 0x40 + 100, &at));
    assert_int_equal(at, EH_FRAME_VADDR + m.fde_b);
    assert_true(row_at(&m.eh, (size_t)(at - EH_FRAME_VADDR), FUNC + 0x40 + 100, &row));
    assert_row(&row, (want){RSP, 64, CF_CFI_OFFSET, -8, CF_CFI_SAME, 0});
    assert_true(cf_cfi_hdr_search(span_of(&m.hdr, HDR_VADDR), FUNC + 0x10, &at));
    assert_int_equal(at, EH_FRAME_VADDR + m.fde_a);
    assert_true(row_at(&m.eh, (size_t)(at - EH_FRAME_VADDR), FUNC + 0x10, &row));
    assert_row(&row, (want){RBP, 16, CF_CFI_OFFSET, -8, CF_CFI_OFFSET, -16});
}

// ---------------------------------------------------------------------------
// Malformed programs
// ---------------------------------------------------------------------------

static void test_bad_programs(void **state) {
    (void)state;
    // clang-format off
    static const struct {
        uint8_t insns[12];
        size_t n;
    } bad[] = {
        {{DW_CFA_def_cfa_offset, 0x80}, 2},                 // truncated ULEB128
        {{DW_CFA_def_cfa_offset_sf, 0xff, 0xff}, 3},        // truncated SLEB128
        {{DW_CFA_def_cfa, RSP}, 2},                         // a missing operand
        {{DW_CFA_advance_loc1}, 1},                         // a missing delta
        {{DW_CFA_advance_loc2, 1}, 2},                      // half a delta
        {{DW_CFA_advance_loc4, 1, 0, 0}, 4},                // three quarters of one
        {{DW_CFA_set_loc, 1, 2}, 3},                        // half an address
        {{DW_CFA_offset | RBP}, 1},                         // no offset
        {{DW_CFA_low_user}, 1},                             // opcodes it does not know
        {{DW_CFA_GNU_window_save}, 1},
        {{DW_CFA_high_user}, 1},
        {{0x17}, 1},
        {{DW_CFA_def_cfa_expression, 5, DW_OP_lit0}, 3},    // expressions past the end
        {{DW_CFA_expression, RBP, 0xff, 0xff, 0x03}, 5},
        {{DW_CFA_val_expression, RBP, 2, DW_OP_lit0}, 4},
        // 2^63 as an unfactored offset: not an int64_t
        {{DW_CFA_def_cfa, RSP, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 12},
        // 2^62 and -2^62 times the data alignment factor -8: overflows
        {{DW_CFA_offset | RBP, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}, 10},
        {{DW_CFA_def_cfa_offset_sf, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}, 10},
        {{DW_CFA_GNU_negative_offset_extended, RBP,
          0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}, 11},
    };
    // clang-format on
    cf_cfi_row row;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        // Exact-size heap copies: the ASan variant sees any read past them.
        uint8_t *copy = malloc(bad[i].n);
        assert_non_null(copy);
        memcpy(copy, bad[i].insns, bad[i].n);
        assert_false(run_insns(copy, bad[i].n, FUNC + 100, &row));
        free(copy);
    }
    // Locations: far is fine, past 2^64 is not, by the delta or its factor.
    const uint8_t far[] = {DW_CFA_advance_loc4, 0xff, 0xff, 0xff, 0xff,
                           DW_CFA_advance_loc4, 0xff, 0xff, 0xff, 0xff};
    const cf_cfi_span cie = span_raw(x86_cie_insns, sizeof x86_cie_insns);
    cf_cfi_params p = {1, -8, RA, RBP, PCREL_SDATA4, FUNC, false};
    row = entry_row();
    assert_true(cf_cfi_run(&p, cie, span_raw(far, sizeof far), UINT64_MAX, &row));
    p.pc_begin = UINT64_MAX - 0x10000;
    row = entry_row();
    assert_false(cf_cfi_run(&p, cie, span_raw(far, sizeof far), UINT64_MAX, &row));
    p.pc_begin = FUNC;
    p.code_align = UINT64_MAX / 2;
    row = entry_row();
    assert_false(cf_cfi_run(&p, cie, span_raw(far, sizeof far), UINT64_MAX, &row));
    // A malformed CIE program fails the run too.
    row = entry_row();
    p.code_align = 1;
    assert_false(cf_cfi_run(&p, span_raw(bad[0].insns, bad[0].n), span_raw(far, 0), FUNC, &row));
}

// Every prefix of a valid .eh_frame, header and program, and thousands of
// mutations of them, copied to exact-size blocks: whatever they answer,
// nothing reads outside (the ASan variant is the judge) or loops.
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next_random(void) {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng >> 33);
}

static void run_everything(const uint8_t *eh, size_t eh_n, const uint8_t *hdr, size_t hdr_n) {
    uint64_t at = 0;
    cf_cfi_span h = {hdr, hdr_n, HDR_VADDR};
    cf_cfi_span e = {eh, eh_n, EH_FRAME_VADDR};
    for (uint64_t pc = FUNC; pc < FUNC + 0x300; pc += 0x2f) {
        if (cf_cfi_hdr_search(h, pc, &at) && at >= EH_FRAME_VADDR) {
            cf_cfi_fde f;
            cf_cfi_cie c;
            if (cf_cfi_parse_fde(e, (size_t)(at - EH_FRAME_VADDR), &f, &c)) {
                cf_cfi_params p = {c.code_align, c.data_align, c.ra_reg, RBP,
                                   c.fde_enc,    f.pc_begin,   false};
                cf_cfi_row row = entry_row();
                (void)cf_cfi_run(&p, c.insns, f.insns, pc, &row);
            }
        }
    }
    for (size_t off = 0; off < eh_n; off++) {
        cf_cfi_fde f;
        cf_cfi_cie c;
        (void)cf_cfi_parse_fde(e, off, &f, &c);
    }
}

static void test_truncated_and_mutated(void **state) {
    (void)state;
    static module m; // the mutation loop's inputs
    build_module(&m, early_return, sizeof early_return);
    const bytes eh = m.eh, h = m.hdr;
    const size_t fde_b = m.fde_b;

    for (size_t n = 0; n <= eh.n; n++) {
        uint8_t *e = malloc(n + (n == 0));
        assert_non_null(e);
        memcpy(e, eh.b, n);
        run_everything(e, n, h.b, h.n);
        cf_cfi_fde f;
        cf_cfi_cie c;
        // A record cut anywhere is refused.
        if (n < eh.n)
            assert_false(cf_cfi_parse_fde((cf_cfi_span){e, n, EH_FRAME_VADDR}, fde_b, &f, &c));
        free(e);
    }
    for (size_t n = 0; n <= h.n; n++) {
        uint8_t *hh = malloc(n + (n == 0));
        assert_non_null(hh);
        memcpy(hh, h.b, n);
        run_everything(eh.b, eh.n, hh, n);
        free(hh);
    }
    uint8_t *e = malloc(eh.n);
    uint8_t *hh = malloc(h.n);
    assert_non_null(e);
    assert_non_null(hh);
    for (unsigned round = 0; round < 20000; round++) {
        memcpy(e, eh.b, eh.n);
        memcpy(hh, h.b, h.n);
        unsigned flips = 1 + next_random() % 4;
        for (unsigned i = 0; i < flips; i++) {
            uint32_t r = next_random();
            if (r & 1)
                e[(r >> 1) % eh.n] = (uint8_t)next_random();
            else
                hh[(r >> 1) % h.n] = (uint8_t)next_random();
        }
        run_everything(e, eh.n, hh, h.n);
    }
    free(e);
    free(hh);
}

// ---------------------------------------------------------------------------
// No allocation
// ---------------------------------------------------------------------------

#if CF_TEST_COUNTS_ALLOCS
static void test_no_malloc(void **state) {
    (void)state;
    module m;
    build_module(&m, early_return, sizeof early_return);
    cf_cfi_row row;
    uint64_t at;

    cf_test_alloc_count_start();
    bool ok = cf_cfi_hdr_search(span_of(&m.hdr, HDR_VADDR), FUNC + 20, &at);
    ok = ok && row_at(&m.eh, (size_t)(at - EH_FRAME_VADDR), FUNC + 20, &row);
    ok = ok && !run_insns((const uint8_t[]){DW_CFA_def_cfa_offset, 0x80}, 2, FUNC, &row);
    unsigned long calls = cf_test_alloc_count_stop();
    assert_true(ok);
    assert_int_equal(calls, 0);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
#if CF_TEST_COUNTS_ALLOCS
        cmocka_unit_test(test_no_malloc),
#endif
        cmocka_unit_test(test_gcc_prologue),
        cmocka_unit_test(test_gcc_prologue_records),
        cmocka_unit_test(test_frameless),
        cmocka_unit_test(test_code_align),
        cmocka_unit_test(test_aarch64_signed_ra),
        cmocka_unit_test(test_remember_restore),
        cmocka_unit_test(test_state_stack_limits),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_cfa_expression),
        cmocka_unit_test(test_other_rules),
        cmocka_unit_test(test_set_loc),
        cmocka_unit_test(test_cie_augmentations),
        cmocka_unit_test(test_fde_encodings),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_hdr_search),
        cmocka_unit_test(test_bad_hdr),
        cmocka_unit_test(test_header_to_row),
        cmocka_unit_test(test_bad_programs),
        cmocka_unit_test(test_truncated_and_mutated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
