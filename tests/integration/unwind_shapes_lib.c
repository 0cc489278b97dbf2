// SPDX-License-Identifier: MIT
// Two plugins for unwind_shapes' dlclose scenarios, built from this file
// twice. Each exports one function, unsigned long f(size_t n, allocator fn),
// that calls fn(n) and returns its result. Written in assembly so that the
// call returns to the same offset in both builds while the frames differ:
//
//   x86_64
//   lib A (lib_a_alloc): push rbp; mov rbp,rsp; sub 16   CFA = rbp + 16
//   lib B (lib_b_alloc): sub 24; four nops               CFA = rsp + 32
//   aarch64
//   lib A: stp x29,x30,[sp,-32]!; mov x29,sp    CFA = x29 + 32, x30 at CFA-24
//   lib B: sub sp,32; str x30,[sp,24]           CFA = sp + 32, x30 at CFA-8
//
// Both frames are 32 bytes, so a walk reaches the return address at the
// same stack depth too. Loaded one after the other at the same base, the
// return address of B's call is the one A's call had, and only its rule is
// different: an unwinder that kept A's rule (CFA from rbp or x29, which B
// does not touch: there it is still the caller's) would skip B's caller.
#if defined(__aarch64__)
#ifdef SHAPES_LIB_B
__asm__(".text\n"
        ".globl lib_b_alloc\n"
        ".type lib_b_alloc, %function\n"
        "lib_b_alloc:\n"
        ".cfi_startproc\n"
        "  sub sp, sp, #32\n"
        ".cfi_def_cfa_offset 32\n"
        "  str x30, [sp, #24]\n"
        ".cfi_offset x30, -8\n"
        "  blr x1\n"
        ".globl lib_b_ret\n"
        "lib_b_ret:\n"
        "  ldr x30, [sp, #24]\n"
        ".cfi_restore x30\n"
        "  add sp, sp, #32\n"
        ".cfi_def_cfa_offset 0\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size lib_b_alloc, .-lib_b_alloc\n");
#else
__asm__(".text\n"
        ".globl lib_a_alloc\n"
        ".type lib_a_alloc, %function\n"
        "lib_a_alloc:\n"
        ".cfi_startproc\n"
        "  stp x29, x30, [sp, #-32]!\n"
        ".cfi_def_cfa_offset 32\n"
        ".cfi_offset x29, -32\n"
        ".cfi_offset x30, -24\n"
        "  mov x29, sp\n"
        ".cfi_def_cfa x29, 32\n"
        "  blr x1\n"
        ".globl lib_a_ret\n"
        "lib_a_ret:\n"
        "  ldp x29, x30, [sp], #32\n"
        ".cfi_restore x30\n"
        ".cfi_restore x29\n"
        ".cfi_def_cfa sp, 0\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size lib_a_alloc, .-lib_a_alloc\n");
#endif
#elif defined(__x86_64__)
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
#else
#error "unwind_shapes_lib.c: x86_64 and aarch64 only"
#endif
