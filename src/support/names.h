// SPDX-License-Identifier: MIT
// Function names as globs see them. Users write globs over function names
// in two places, suppressions (KIND:PATTERN) and host_allocators, and both
// must match the same names for the same function. A name, as a
// symbolizer gives it, is matched in three forms:
//   as given        void ns::Pool<int>::alloc(unsigned long) const [clone .cold]
//   qualified       ns::Pool<int>::alloc
//   unqualified     alloc
// The qualified form drops the return type, the parameter list, the
// qualifiers after it (const, volatile, &, &&, noexcept) and the clone
// suffixes compilers add (" [clone .isra.0]" in C++, ".constprop.0" or
// ".cold" on a C name); template arguments stay. A mangled name (a process
// with no C++ runtime to demangle it) gives its plain qualified name
// ("_ZN2ns4Pool5allocEm" -> "ns::Pool::alloc"), or stays as given when it
// has templates, operators or anything else that is not a plain name.
// Never allocates; any input, however malformed, gives some string.
#ifndef CF_SUPPORT_NAMES_H
#define CF_SUPPORT_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define CF_NAME_MAX 512

typedef struct cf_function_names {
    const char *given; // the name as given (not copied)
    char qualified[CF_NAME_MAX];
    const char *unqualified; // points into qualified
} cf_function_names;

// Fills `out` with the forms of `function` ("" for NULL).
void cf_function_names_of(const char *function, cf_function_names *out);

// Whether the glob [pat, pat+len) matches the whole of one of the forms.
// An empty name matches nothing, not even "*".
bool cf_function_names_match(const cf_function_names *names, const char *pat, size_t len);

#endif
