// SPDX-License-Identifier: MIT
// A library for the suppression tests: it allocates with new[] and hands
// the block to its caller, so a mismatch's allocation stack has a frame in
// libsupp_helper.so for module patterns to match. Nothing else.
#include <cstddef>

#define NI __attribute__((noinline))

NI char *helper_make(std::size_t n) { return new char[n]; /* @sh_alloc */ }
