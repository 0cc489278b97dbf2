// SPDX-License-Identifier: MIT
// Rust symbol names, demangled as rustfilt shows them: the legacy mangling
// (_ZN...17h<hash>E with $LT$-style escapes) and v0 (_R...), without hashes
// or crate disambiguators. Runs inside a report, possibly with the heap
// corrupt: never allocates, writes only into the caller's buffer, recurses
// a bounded number of levels and rejects malformed input.
#ifndef CF_SUPPORT_DEMANGLE_RUST_H
#define CF_SUPPORT_DEMANGLE_RUST_H

#include <stdbool.h>
#include <stddef.h>

// Writes the demangled form of `sym` into out[cap] and returns true when
// `sym` is a well-formed Rust symbol: legacy names only with their hash
// (a C++ name has none), v0 names with an optional ".suffix". A name too
// long for `out` is cut and ends in "...". Anything else (a C or C++ name,
// truncated or hostile input) returns false and leaves out empty.
bool cf_demangle_rust(const char *sym, char *out, size_t cap);

// The same for a legacy Rust name that a C++ demangler already turned
// into "_$LT$a..B$u20$as$u20$c..D$GT$::f::h0123456789abcdef" (logs written
// before crossfree knew Rust): true, with "<a::B as c::D>::f" in out, when
// `name` ends in "::h" and 16 hex digits; false and out empty otherwise.
bool cf_demangle_rust_tidy(const char *name, char *out, size_t cap);

#endif
