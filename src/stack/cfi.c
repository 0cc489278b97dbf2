// SPDX-License-Identifier: MIT
// The reader of DWARF call-frame information behind the fast unwinder
// (cfi.h). It looks only at the spans it is handed: no allocation, no system
// call, no read past a span's end, every loop bounded by the bytes left, and
// a malformed record or program is answered with false, never guessed at.
#include "stack/cfi.h"

#include <dwarf.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Reading bytes

// A DW_EH_PE_* byte is a value format in its low nibble and how the value
// applies (absolute, pc-relative, ...) in bits 4-6, with DW_EH_PE_indirect
// on top.
enum { EH_PE_FORMAT = 0x0f, EH_PE_APPLICATION = 0x70 };

// The three primary CFA opcodes keep their operand in the opcode byte's low
// six bits.
enum { CFA_PRIMARY = 0xc0, CFA_PRIMARY_OPERAND = 0x3f };

typedef struct cursor {
    const uint8_t *p, *end;
    const uint8_t *base; // span.data, whose address in the program is `vaddr`
    uint64_t vaddr;
    bool bad; // a read failed: every later read fails too
} cursor;

// A cursor over [off, off + len) of `s`; the caller has checked the bounds.
static cursor cursor_in(cf_cfi_span s, size_t off, size_t len) {
    cursor c = {s.data + off, s.data + off + len, s.data, s.vaddr, false};
    return c;
}

static size_t left(const cursor *c) { return (size_t)(c->end - c->p); }

static uint64_t here(const cursor *c) { return c->vaddr + (uint64_t)(c->p - c->base); }

// The rest of the cursor's bytes as a span of their own.
static cf_cfi_span rest(const cursor *c) {
    cf_cfi_span s = {c->p, left(c), here(c)};
    return s;
}

static bool fail(cursor *c) {
    c->bad = true;
    return false;
}

// A little-endian number of `bytes` bytes (x86_64's order, which its
// .eh_frame follows).
static uint64_t get_fixed(cursor *c, unsigned bytes) {
    if (c->bad || left(c) < bytes) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += bytes;
    return v;
}

static uint8_t get_u8(cursor *c) { return (uint8_t)get_fixed(c, 1); }

// `v`, a `bits`-bit two's complement number, widened to 64 bits.
static uint64_t sign_extend(uint64_t v, unsigned bits) {
    uint64_t sign = UINT64_C(1) << (bits - 1);
    return (v ^ sign) - sign;
}

// A LEB128 number; one the span ends in the middle of fails. Bits past the
// 64th are dropped: no field is that wide, and what would matter (offsets,
// lengths) is range-checked where it is used.
static uint64_t get_leb(cursor *c, bool is_signed) {
    uint64_t v = 0;
    unsigned shift = 0;
    while (!c->bad && c->p < c->end) {
        uint8_t b = *c->p++;
        if (shift < 64) {
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
        }
        if ((b & 0x80) == 0) {
            if (is_signed && shift < 64 && (b & 0x40) != 0)
                v |= ~UINT64_C(0) << shift;
            return v;
        }
    }
    c->bad = true;
    return 0;
}

static uint64_t get_uleb(cursor *c) { return get_leb(c, false); }
static int64_t get_sleb(cursor *c) { return (int64_t)get_leb(c, true); }

// A pointer in encoding `enc`. `datarel` is the base of DW_EH_PE_datarel
// values (the .eh_frame_hdr section), NULL where none applies. Indirect
// pointers are refused: nothing here may read the memory they name.
static uint64_t get_encoded(cursor *c, uint8_t enc, const uint64_t *datarel) {
    if (enc == DW_EH_PE_omit)
        return 0;
    uint64_t at = here(c);
    uint64_t v;
    switch (enc & EH_PE_FORMAT) {
    case DW_EH_PE_absptr: // pointer-sized: this reader is for 64-bit targets
    case DW_EH_PE_udata8:
    case DW_EH_PE_sdata8:
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
    case DW_EH_PE_sleb128:
        v = (uint64_t)get_sleb(c);
        break;
    case DW_EH_PE_sdata2:
        v = sign_extend(get_fixed(c, 2), 16);
        break;
    case DW_EH_PE_sdata4:
        v = sign_extend(get_fixed(c, 4), 32);
        break;
    default:
        fail(c);
        return 0;
    }
    switch (enc & EH_PE_APPLICATION) {
    case DW_EH_PE_absptr:
        break;
    case DW_EH_PE_pcrel:
        v += at;
        break;
    case DW_EH_PE_datarel:
        if (datarel == NULL)
            fail(c);
        else
            v += *datarel;
        break;
    default: // textrel, funcrel and aligned: never used in .eh_frame on x86_64
        fail(c);
    }
    if ((enc & DW_EH_PE_indirect) != 0)
        fail(c);
    return c->bad ? 0 : v;
}

// Skips a block whose length comes first (an expression, augmentation data).
static void skip_block(cursor *c) {
    uint64_t n = get_uleb(c);
    if (c->bad || n > left(c))
        fail(c);
    else
        c->p += n;
}

// ---------------------------------------------------------------------------
// .eh_frame_hdr

// Field `field` (0: initial location, 1: FDE address) of entry `i` of the
// search table at `table` in `hdr`: datarel sdata4, checked to be in bounds.
static uint64_t hdr_entry(cf_cfi_span hdr, size_t table, uint64_t i, unsigned field) {
    cursor e = cursor_in(hdr, table + (size_t)i * 8 + field * 4, 4);
    return hdr.vaddr + sign_extend(get_fixed(&e, 4), 32);
}

bool cf_cfi_hdr_search(cf_cfi_span hdr, uint64_t pc, uint64_t *fde_vaddr) {
    enum { VERSION = 1, ENTRY = 8 };
    if (hdr.size < 4 || hdr.data[0] != VERSION ||
        hdr.data[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
        return false;
    uint64_t base = hdr.vaddr;
    cursor c = cursor_in(hdr, 4, hdr.size - 4);
    get_encoded(&c, hdr.data[1], &base); // where .eh_frame starts: not needed
    uint64_t count = get_encoded(&c, hdr.data[2], &base);
    if (c.bad || count == 0 || count > left(&c) / ENTRY)
        return false;
    size_t table = (size_t)(c.p - hdr.data);
    // The table is sorted by initial location: the last entry at or below pc.
    uint64_t lo = 0, hi = count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (hdr_entry(hdr, table, mid, 0) <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (hdr_entry(hdr, table, lo, 0) > pc)
        return false;
    *fde_vaddr = hdr_entry(hdr, table, lo, 1);
    return true;
}

// ---------------------------------------------------------------------------
// CIE and FDE records

// Opens the record at `off`: checks its length field and leaves *c over the
// record's contents. A length of 0 ends .eh_frame, and 0xffffffff announces
// the 64-bit DWARF format, which .eh_frame does not use.
static bool open_record(cf_cfi_span sec, size_t off, cursor *c) {
    if (off > sec.size || sec.size - off < 4)
        return false;
    *c = cursor_in(sec, off, 4);
    uint64_t len = get_fixed(c, 4);
    if (len == 0 || len == 0xffffffffu || len > sec.size - off - 4)
        return false;
    c->end = c->p + len;
    return true;
}

bool cf_cfi_parse_cie(cf_cfi_span sec, size_t off, cf_cfi_cie *cie) {
    cursor c;
    if (!open_record(sec, off, &c))
        return false;
    if (get_fixed(&c, 4) != 0) // .eh_frame's CIE id (.debug_frame's is DW_CIE_ID_32)
        return false;
    uint8_t version = get_u8(&c);
    if (c.bad || (version != 1 && version != 3))
        return false;
    const uint8_t *aug = c.p;
    const uint8_t *nul = memchr(aug, 0, left(&c));
    if (nul == NULL)
        return false;
    size_t aug_len = (size_t)(nul - aug);
    c.p = nul + 1;
    if (aug_len >= 2 && aug[0] == 'e' && aug[1] == 'h')
        return false; // GCC 2's "eh" data pointer: never seen on x86_64
    cie->code_align = get_uleb(&c);
    cie->data_align = get_sleb(&c);
    cie->ra_reg = version == 1 ? get_u8(&c) : get_uleb(&c);
    cie->fde_enc = DW_EH_PE_absptr;
    cie->has_z = aug_len > 0 && aug[0] == 'z';
    cie->signal = false;
    if (cie->has_z) {
        // The augmentation data, read within its own length.
        uint64_t n = get_uleb(&c);
        if (c.bad || n > left(&c))
            return false;
        cursor a = c;
        a.end = a.p + n;
        for (size_t i = 1; i < aug_len && !a.bad; i++) {
            switch (aug[i]) {
            case 'L': // the LSDA's encoding (the LSDA itself is in the FDEs)
                get_u8(&a);
                break;
            case 'R':
                cie->fde_enc = get_u8(&a);
                break;
            case 'P': { // the personality routine, skipped (its pointer may be indirect)
                uint8_t enc = get_u8(&a);
                get_encoded(&a, (uint8_t)(enc & ~DW_EH_PE_indirect), NULL);
                break;
            }
            case 'S':
                cie->signal = true;
                break;
            case 'B': // AArch64: the B key signs return addresses (stripping is the same)
            case 'G': // AArch64: the frame's stack memory is tagged
                break;
            default:
                return false; // unknown augmentation: its data cannot be skipped safely
            }
        }
        if (a.bad)
            return false;
        c.p = a.end;
    } else if (aug_len != 0) {
        return false;
    }
    if (c.bad)
        return false;
    cie->insns = rest(&c);
    return true;
}

bool cf_cfi_parse_fde(cf_cfi_span sec, size_t off, cf_cfi_fde *fde, cf_cfi_cie *cie) {
    cursor c;
    if (!open_record(sec, off, &c))
        return false;
    // The CIE pointer counts back from its own field; 0 makes this a CIE.
    size_t field = off + 4;
    uint64_t back = get_fixed(&c, 4);
    if (c.bad || back == 0 || back > field || !cf_cfi_parse_cie(sec, field - back, cie))
        return false;
    fde->pc_begin = get_encoded(&c, cie->fde_enc, NULL);
    // The range is a length: the same format, never relative to anything.
    fde->pc_range = get_encoded(&c, (uint8_t)(cie->fde_enc & EH_PE_FORMAT), NULL);
    if (cie->has_z)
        skip_block(&c);
    if (c.bad)
        return false;
    fde->insns = rest(&c);
    return true;
}

// ---------------------------------------------------------------------------
// The CFA program

enum { STATE_STACK = 8 }; // DW_CFA_remember_state nesting; compilers use 1

// The rule of `reg` if it is one of the two the row keeps, else NULL.
static cf_cfi_reg_rule *tracked(const cf_cfi_params *p, cf_cfi_row *row, uint64_t reg) {
    if (reg == p->fp_reg)
        return &row->fp;
    if (reg == p->ra_reg)
        return &row->ra;
    return NULL;
}

static void set_rule(const cf_cfi_params *p, cf_cfi_row *row, uint64_t reg, uint8_t how,
                     int64_t off) {
    cf_cfi_reg_rule *r = tracked(p, row, reg);
    if (r != NULL) {
        r->how = how;
        r->off = how == CF_CFI_OFFSET ? off : 0;
    }
}

// A factored operand times its alignment factor; fails on overflow.
static int64_t scale(cursor *c, int64_t v, int64_t factor) {
    int64_t out;
    if (__builtin_mul_overflow(v, factor, &out)) {
        fail(c);
        return 0;
    }
    return out;
}

static int64_t negate(cursor *c, int64_t v) {
    if (v == INT64_MIN) {
        fail(c);
        return 0;
    }
    return -v;
}

// An unsigned operand that must fit in an int64_t.
static int64_t get_uleb_s64(cursor *c) {
    uint64_t v = get_uleb(c);
    if (v > (uint64_t)INT64_MAX) {
        fail(c);
        return 0;
    }
    return (int64_t)v;
}

// Runs one program (the CIE's, `initial` NULL, or the FDE's, `initial` the
// row the CIE left) until the location passes `target`.
static bool run(cursor *c, const cf_cfi_params *p, uint64_t target, cf_cfi_row *row,
                const cf_cfi_row *initial) {
    cf_cfi_row saved[STATE_STACK];
    unsigned depth = 0;
    uint64_t loc = p->pc_begin;
    while (!c->bad && c->p < c->end) {
        uint8_t op = get_u8(c);
        uint8_t code = (op & CFA_PRIMARY) != 0 ? (uint8_t)(op & CFA_PRIMARY) : op;
        uint64_t low = op & CFA_PRIMARY_OPERAND;
        uint64_t reg, delta = 0;
        bool moved = false;
        switch (code) {
        case DW_CFA_nop:
            break;
        case DW_CFA_set_loc:
            loc = get_encoded(c, p->addr_enc, NULL);
            moved = true;
            break;
        case DW_CFA_advance_loc:
            delta = low;
            moved = true;
            break;
        case DW_CFA_advance_loc1:
            delta = get_fixed(c, 1);
            moved = true;
            break;
        case DW_CFA_advance_loc2:
            delta = get_fixed(c, 2);
            moved = true;
            break;
        case DW_CFA_advance_loc4:
            delta = get_fixed(c, 4);
            moved = true;
            break;
        case DW_CFA_offset:
            set_rule(p, row, low, CF_CFI_OFFSET, scale(c, get_uleb_s64(c), p->data_align));
            break;
        case DW_CFA_offset_extended:
            reg = get_uleb(c);
            set_rule(p, row, reg, CF_CFI_OFFSET, scale(c, get_uleb_s64(c), p->data_align));
            break;
        case DW_CFA_offset_extended_sf:
            reg = get_uleb(c);
            set_rule(p, row, reg, CF_CFI_OFFSET, scale(c, get_sleb(c), p->data_align));
            break;
        case DW_CFA_GNU_negative_offset_extended:
            reg = get_uleb(c);
            set_rule(p, row, reg, CF_CFI_OFFSET,
                     negate(c, scale(c, get_uleb_s64(c), p->data_align)));
            break;
        case DW_CFA_restore:
        case DW_CFA_restore_extended: {
            reg = code == DW_CFA_restore ? low : get_uleb(c);
            cf_cfi_reg_rule *r = tracked(p, row, reg);
            if (r != NULL) {
                if (initial == NULL)
                    return false;
                *r = r == &row->fp ? initial->fp : initial->ra;
            }
            break;
        }
        case DW_CFA_undefined:
            set_rule(p, row, get_uleb(c), CF_CFI_UNDEFINED, 0);
            break;
        case DW_CFA_same_value:
            set_rule(p, row, get_uleb(c), CF_CFI_SAME, 0);
            break;
        case DW_CFA_register:
            reg = get_uleb(c);
            get_uleb(c); // the register holding it
            set_rule(p, row, reg, CF_CFI_OTHER, 0);
            break;
        case DW_CFA_remember_state:
            if (depth == STATE_STACK)
                return false;
            saved[depth++] = *row;
            break;
        case DW_CFA_restore_state:
            if (depth == 0)
                return false;
            *row = saved[--depth];
            break;
        case DW_CFA_def_cfa:
            row->cfa_reg = get_uleb(c);
            row->cfa_off = get_uleb_s64(c);
            row->cfa_expr = false;
            break;
        case DW_CFA_def_cfa_sf:
            row->cfa_reg = get_uleb(c);
            row->cfa_off = scale(c, get_sleb(c), p->data_align);
            row->cfa_expr = false;
            break;
        case DW_CFA_def_cfa_register:
            row->cfa_reg = get_uleb(c);
            row->cfa_expr = false;
            break;
        case DW_CFA_def_cfa_offset:
            row->cfa_off = get_uleb_s64(c);
            break;
        case DW_CFA_def_cfa_offset_sf:
            row->cfa_off = scale(c, get_sleb(c), p->data_align);
            break;
        case DW_CFA_def_cfa_expression:
            row->cfa_expr = true;
            skip_block(c);
            break;
        case DW_CFA_expression:
        case DW_CFA_val_expression:
            reg = get_uleb(c);
            skip_block(c);
            set_rule(p, row, reg, CF_CFI_OTHER, 0);
            break;
        case DW_CFA_val_offset:
        case DW_CFA_val_offset_sf:
            reg = get_uleb(c);
            get_leb(c, code == DW_CFA_val_offset_sf);
            set_rule(p, row, reg, CF_CFI_OTHER, 0);
            break;
        case DW_CFA_GNU_args_size:
            get_uleb(c);
            break;
        case DW_CFA_AARCH64_negate_ra_state: // elsewhere SPARC's DW_CFA_GNU_window_save
            if (!p->aarch64)
                return false;
            row->ra_signed = !row->ra_signed;
            break;
        default:
            return false;
        }
        if (moved && !c->bad) {
            uint64_t step;
            if (__builtin_mul_overflow(delta, p->code_align, &step) ||
                __builtin_add_overflow(loc, step, &loc))
                return false;
            if (loc > target)
                return true; // the rest describes code after `target`
        }
    }
    return !c->bad;
}

bool cf_cfi_run(const cf_cfi_params *p, cf_cfi_span cie_insns, cf_cfi_span fde_insns,
                uint64_t target, cf_cfi_row *row) {
    cursor c = cursor_in(cie_insns, 0, cie_insns.size);
    if (!run(&c, p, target, row, NULL))
        return false;
    const cf_cfi_row initial = *row;
    c = cursor_in(fde_insns, 0, fde_insns.size);
    return run(&c, p, target, row, &initial);
}
