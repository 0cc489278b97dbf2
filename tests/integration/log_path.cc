// SPDX-License-Identifier: MIT
// log_path: with a writable prefix the report goes to PREFIX.PID and not to
// stderr; with a prefix in a directory that does not exist crossfree says so
// in one line and the report still reaches stderr. Run as `log_path MODE`.
#include <cstdlib>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-FREE-FRAME: #0 main @lp_free
// EXPECT-ALLOC-FRAME: #0 make() @lp_alloc
//
// OPTIONS[file]: log_path=%t/cf
// EXPECT-LOG[file]: %t/cf
//
// OPTIONS[unwritable]: log_path=/nonexistent/dir/x
// EXPECT-STDERR[unwritable]: crossfree.*/nonexistent/dir/x
// clang-format on

NI char *make() { return new char[32]; /* @lp_alloc */ }

int main() {
    char *p = make();
    p[0] = 1;
    free(p); /* @lp_free */
    return 0;
}
