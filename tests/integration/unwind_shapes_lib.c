// SPDX-License-Identifier: MIT
// Two plugins for unwind_shapes' dlclose scenarios, built from this file
// twice. Each exports one function, unsigned long f(size_t n, allocator fn),
// that calls fn(n) and returns its result. Written in assembly so that the
// call returns to the same offset in both builds while the frames differ:
//
//   lib A (lib_a_alloc): push rbp; mov rbp,rsp; sub 16   CFA = rbp + 16
//   lib B (lib_b_alloc): sub 24; four nops               CFA = rsp + 32
//
// Both frames are 32 bytes, so a walk reaches the return address at the
// same stack depth too. Loaded one after the other at the same base, the
// return address of B's call is the one A's call had, and only its rule is
// different: an unwinder that kept A's rule (CFA from rbp, which B does not
// touch) would skip B's caller.
#ifdef SHAPES_LIB_B
__asm__(".text\n"
        ".globl lib_b_alloc\n"
        ".type lib_b_alloc, @function\n"
        "lib_b_alloc:\n"
        ".cfi_startproc\n"
        "  sub $24, %rsp\n"
        ".cfi_def_cfa_offset 32\n"
        "  nop\n"
        "  nop\n"
        "  nop\n"
        "  nop\n"
        "  call *%rsi\n"
        ".globl lib_b_ret\n"
        "lib_b_ret:\n"
        "  add $24, %rsp\n"
        ".cfi_def_cfa_offset 8\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size lib_b_alloc, .-lib_b_alloc\n");
#else
__asm__(".text\n"
        ".globl lib_a_alloc\n"
        ".type lib_a_alloc, @function\n"
        "lib_a_alloc:\n"
        ".cfi_startproc\n"
        "  push %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "  mov %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        "  sub $16, %rsp\n"
        "  call *%rsi\n"
        ".globl lib_a_ret\n"
        "lib_a_ret:\n"
        "  leave\n"
        ".cfi_def_cfa %rsp, 8\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size lib_a_alloc, .-lib_a_alloc\n");
#endif
