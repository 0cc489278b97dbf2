// SPDX-License-Identifier: MIT
// Recognises a module's own copy of operator new/delete. A library built
// with -Bsymbolic (libLLVM) or a static libstdc++ keeps private operators
// that call malloc/free directly, so crossfree sees "malloc" where the
// program wrote `new`. Error path only: it symbolizes.
#ifndef CF_RUNTIME_PRIVATE_OPS_H
#define CF_RUNTIME_PRIVATE_OPS_H

#include <stdbool.h>
#include <stdint.h>

// The family a function name stands for when it is a global operator
// new (alloc true) or operator delete (alloc false) of any form, demangled
// ("operator new[](unsigned long)") or mangled ("_Znam"); CF_FAM_NONE
// (0) for any other name, class-specific operators included.
unsigned cf_operator_family(const char *function, bool alloc);

// If frame `pc` (innermost frame of an allocation or deallocation stack)
// is a private global operator new/delete, returns its family; else
// CF_FAM_NONE.
unsigned cf_private_operator_family(uintptr_t pc, bool alloc);

#endif
