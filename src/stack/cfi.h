// SPDX-License-Identifier: MIT
// DWARF call-frame information as pure functions over bytes: looking a pc up
// in an .eh_frame_hdr table, parsing an FDE and its CIE, and running their
// CFA programs up to a pc. Nothing here allocates, calls the OS or reads
// outside the spans it is given; malformed input makes a function fail.
#ifndef CF_STACK_CFI_H
#define CF_STACK_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Bytes and the address they have in the program: pc-relative and
// data-relative pointers (DW_EH_PE_pcrel, DW_EH_PE_datarel) are decoded
// against `vaddr`. The unwinder passes loaded sections, whose vaddr is their
// own address; a test may place its bytes at any vaddr.
typedef struct cf_cfi_span {
    const uint8_t *data;
    size_t size;
    uint64_t vaddr;
} cf_cfi_span;

// ---------------------------------------------------------------------------
// Records

// Finds the entry of an .eh_frame_hdr section (the whole of it in `hdr`)
// whose initial location is the greatest at or below `pc`, and sets
// *fde_vaddr to the address of its FDE. False when the header is not
// version 1 with a datarel sdata4 table (what every linker writes), is
// truncated, counts more entries than it holds, or when `pc` lies below the
// first entry. The FDE found may still not cover `pc`: check its range.
bool cf_cfi_hdr_search(cf_cfi_span hdr, uint64_t pc, uint64_t *fde_vaddr);

// What of a CIE its FDEs and the interpreter need.
typedef struct cf_cfi_cie {
    cf_cfi_span insns; // the initial instructions
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg; // the return-address column
    uint8_t fde_enc; // DW_EH_PE_* encoding of its FDEs' addresses
    bool has_z;      // augmentation "z": its FDEs carry augmentation data
    bool signal;     // augmentation "S": the frames of signal handlers
} cf_cfi_cie;

typedef struct cf_cfi_fde {
    cf_cfi_span insns;
    uint64_t pc_begin, pc_range; // the code it describes: [pc_begin, pc_begin + pc_range)
} cf_cfi_fde;

// Parses the .eh_frame CIE at offset `off` of `sec`. Accepts versions 1 and
// 3 and the augmentations z, L, R, P and S, and AArch64's B (return
// addresses signed with the B key) and G (memory-tagged frames), which
// carry no data and change no rule; false on any other, on a 64-bit
// DWARF length, and on a record that does not fit in `sec`.
bool cf_cfi_parse_cie(cf_cfi_span sec, size_t off, cf_cfi_cie *cie);

// Parses the FDE at offset `off` of `sec` and the CIE it refers to, which
// must lie in `sec` too (the unwinder passes the whole loaded segment that
// holds the FDE). An indirect address encoding is refused.
bool cf_cfi_parse_fde(cf_cfi_span sec, size_t off, cf_cfi_fde *fde, cf_cfi_cie *cie);

// ---------------------------------------------------------------------------
// The interpreter

// How a register's value in the caller is recovered.
enum {
    CF_CFI_SAME = 0,  // unchanged: never saved, or DW_CFA_same_value
    CF_CFI_UNDEFINED, // DW_CFA_undefined: lost (for the return address, the outermost frame)
    CF_CFI_OFFSET,    // saved in memory at CFA + off
    CF_CFI_OTHER,     // any other rule (another register, val_offset, an expression)
};

typedef struct cf_cfi_reg_rule {
    uint8_t how;
    int64_t off; // CF_CFI_OFFSET only
} cf_cfi_reg_rule;

// One row of the CFA table, for the CFA and the two registers a walk needs.
typedef struct cf_cfi_row {
    bool cfa_expr;    // DW_CFA_def_cfa_expression: the CFA is not register + offset
    uint64_t cfa_reg; // otherwise CFA = cfa_reg + cfa_off
    int64_t cfa_off;
    cf_cfi_reg_rule ra, fp; // the return address and the frame pointer
    bool ra_signed;         // AArch64: the saved return address carries a pointer
                            // authentication code (DW_CFA_AARCH64_negate_ra_state)
} cf_cfi_row;

typedef struct cf_cfi_params {
    uint64_t code_align; // the CIE's factors
    int64_t data_align;
    uint64_t ra_reg;   // the CIE's return-address column
    uint64_t fp_reg;   // the frame pointer's DWARF number (x86_64: 6, rbp)
    uint8_t addr_enc;  // how DW_CFA_set_loc encodes its operand (the CIE's FDE encoding)
    uint64_t pc_begin; // the FDE's first address: where the location starts
    bool aarch64;      // opcode 0x2d is DW_CFA_AARCH64_negate_ra_state, which toggles
                       // row->ra_signed; elsewhere it is SPARC's DW_CFA_GNU_window_save,
                       // and fails
} cf_cfi_params;

// Runs the CIE's initial instructions, then the FDE's, each until the
// location passes `target`, and leaves in *row the rules that hold at
// `target`. On entry *row holds the architecture's rules before any
// instruction (x86_64: CFA = rsp + 8, both registers CF_CFI_SAME; AArch64:
// CFA = sp + 0, the return address still in x30).
//
// False on a malformed program: a truncated operand, an unknown opcode, an
// expression longer than what is left, the CIE restoring the return address
// or frame pointer (there is nothing to restore them to yet), a state stack
// deeper than 8 or popped when empty, an offset or location that overflows
// 64 bits. *row is then unspecified. A CFA given by an expression is not a
// failure: row->cfa_expr says so, for the caller to refuse.
bool cf_cfi_run(const cf_cfi_params *p, cf_cfi_span cie_insns, cf_cfi_span fde_insns,
                uint64_t target, cf_cfi_row *row);

#endif
