// SPDX-License-Identifier: MIT
// halt_on_error=0: each mismatch is reported, the program carries on, and at
// exit crossfree prints how many errors it saw and exits with `exitcode`
// (23 by default) even though main returns 0. Run as `halt_continue MODE`.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// OPTIONS: halt_on_error=0
// OPTIONS[exit7]: halt_on_error=0:exitcode=7
// EXPECT-EXIT: 23
// EXPECT-EXIT[exit7]: 7
// EXPECT-REPORTS: 1
// EXPECT-REPORTS[two]: 2
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-FREE-FRAME: #0 wrong_free(char*) @hc_free
// EXPECT-ALLOC-FRAME: #0 make(unsigned long) @hc_alloc
// EXPECT-STDERR[one,exit7]: ^==%pid==crossfree: 1 error\(s\) reported
// EXPECT-STDERR[two]: ^==%pid==crossfree: 2 error\(s\) reported
// EXPECT-STDOUT: after first: ok
// EXPECT-STDOUT[two]: after second: ok
// EXPECT-STDOUT: work after the errors: ok
// clang-format on

NI char *make(size_t n) { return new char[n]; /* @hc_alloc */ }

NI void wrong_free(char *p) { free(p); /* @hc_free */ }

int main(int argc, char **argv) {
    bool two = argc > 1 && strcmp(argv[1], "two") == 0;
    char *a = make(100);
    memset(a, 'a', 100);
    wrong_free(a);
    std::printf("after first: ok\n");
    if (two) {
        char *b = make(200);
        wrong_free(b);
        std::printf("after second: ok\n");
    }
    // The heap must still work normally after the reports.
    std::vector<std::string> v;
    for (int i = 0; i < 10000; i++)
        v.push_back(std::string(i % 100, 'x'));
    size_t total = 0;
    for (const auto &s : v)
        total += s.size();
    std::printf("work after the errors: %s\n", total == 495000 ? "ok" : "FAILED");
    return 0;
}
