// SPDX-License-Identifier: MIT
// Suppressions end to end: errors matched by a function or a module pattern
// are not reported and do not stop the program; rules of another kind do
// not apply; a malformed file names its bad lines and its good lines still
// work; the halt_on_error=0 summary counts suppressed errors. The
// suppressions files are in suppress/; meson passes their paths. Run as
// `suppress MODE`.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define NI __attribute__((noinline))

char *helper_make(std::size_t n); // libsupp_helper.so: new[]

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT[function,verbose,module,malformed,counted]: done
//
// EXPECT[verbose]: clean
// EXPECT-STDERR[verbose]: ^==%pid==crossfree: 1 error\(s\) suppressed$
// EXPECT-STDERR[verbose]: ^==%pid==crossfree:   1 alloc-dealloc-mismatch:legacy_release \(line 3\)$
// ALLOW-STDERR[verbose]: ^==%pid==crossfree: (checking this process|at exit: |1 suppression rule\(s\) loaded from '.*/function\.supp'$)
//
// EXPECT[other-kind]: alloc-dealloc-mismatch
// EXPECT-EXIT[other-kind]: SIGABRT
// EXPECT-FREE-FRAME[other-kind]: #0 legacy_release(char*) @sp_legacy
// EXPECT-ALLOC-FRAME[other-kind]: #0 make(unsigned long) @sp_alloc
//
// EXPECT-STDERR[malformed]: ^==%pid==crossfree: error: suppressions file '.*/malformed\.supp', line 2: expected KIND:PATTERN, found no ':' in 'alloc-dealloc-mismatch legacy_release'; the line is ignored$
// EXPECT-STDERR[malformed]: ^==%pid==crossfree: error: suppressions file '.*/malformed\.supp', line 3: unknown kind 'double_free'
// EXPECT-STDERR[malformed]: ^==%pid==crossfree: error: suppressions file '.*/malformed\.supp', line 4: empty pattern after 'invalid-free'
// EXPECT-NO-LINE[malformed]: line [156]:
//
// EXPECT[unreadable]: alloc-dealloc-mismatch
// EXPECT-EXIT[unreadable]: SIGABRT
// EXPECT-STDERR[unreadable]: ^==%pid==crossfree: error: cannot read suppressions file '/nonexistent/cf\.supp': No such file or directory; no error is suppressed$
//
// EXPECT[counted]: alloc-dealloc-mismatch
// EXPECT-EXIT[counted]: 23
// EXPECT-REPORTS[counted]: 1
// EXPECT-FREE-FRAME[counted]: #0 wrong_free(char*) @sp_wrong
// EXPECT-STDERR[counted]: ^==%pid==crossfree: 1 error\(s\) reported \(alloc-dealloc-mismatch: 1, double-free: 0, invalid-free: 0, new-delete-size-mismatch: 0, new-delete-alignment-mismatch: 0\), 3 suppressed; exit status 23$
// clang-format on

NI char *make(size_t n) { return new char[n]; /* @sp_alloc */ }

NI void legacy_release(char *p) { free(p); /* @sp_legacy */ }

NI void wrong_free(char *p) { free(p); /* @sp_wrong */ }

NI void first_release(char *p) { free(p); }

NI void second_release(char *p) { free(p); }

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *mode = argv[1];
    if (strcmp(mode, "module") == 0) {
        char *p = helper_make(16);
        memset(p, 1, 16);
        wrong_free(p);
    } else if (strcmp(mode, "counted") == 0) {
        legacy_release(make(16));
        legacy_release(make(32));
        char *p = static_cast<char *>(malloc(24));
        first_release(p);
        second_release(p);
        wrong_free(make(8));
    } else {
        // function, verbose, other-kind, malformed, unreadable
        char *p = make(16);
        memset(p, 2, 16);
        legacy_release(p);
    }
    std::printf("done\n");
    return 0;
}
