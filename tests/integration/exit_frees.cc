// SPDX-License-Identifier: MIT
// Frees that run after main returns: an atexit handler, a static object's
// destructor and the main thread's thread_local destructor. Correct ones must
// be silent (mode `clean`); a wrong one in any of the three is still caught.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-STDOUT: main returns
//
// EXPECT[clean]: clean
// EXPECT-EXIT[clean]: 0
//
// EXPECT-FREE-FRAME[atexit-bad]: #0 at_exit_handler() @ef_atexit_bad
// EXPECT-ALLOC-FRAME[atexit-bad]: #0 make_block() @ef_alloc
// EXPECT-FREE-FRAME[static-bad]: #0 StaticHolder::~StaticHolder() @ef_static_bad
// EXPECT-ALLOC-FRAME[static-bad]: #0 make_block() @ef_alloc
// EXPECT-FREE-FRAME[tls-bad]: #0 TlsHolder::~TlsHolder() @ef_tls_bad
// EXPECT-ALLOC-FRAME[tls-bad]: #0 make_block() @ef_alloc
// clang-format on

static bool bad_atexit, bad_static, bad_tls;
static char *atexit_block;

NI char *make_block() { return new char[50]; /* @ef_alloc */ }

NI void at_exit_handler() {
    if (bad_atexit)
        free(atexit_block); /* @ef_atexit_bad */
    else
        delete[] atexit_block;
}

struct StaticHolder {
    char *block = nullptr;
    NI ~StaticHolder() {
        if (bad_static)
            free(block); /* @ef_static_bad */
        else
            delete[] block;
    }
};

struct TlsHolder {
    char *block = nullptr;
    NI ~TlsHolder() {
        if (bad_tls)
            free(block); /* @ef_tls_bad */
        else
            delete[] block;
    }
};

static StaticHolder static_holder;
static thread_local TlsHolder tls_holder;

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    bad_atexit = strcmp(mode, "atexit-bad") == 0;
    bad_static = strcmp(mode, "static-bad") == 0;
    bad_tls = strcmp(mode, "tls-bad") == 0;
    // Registered after static_holder's constructor, so it runs before its
    // destructor; the thread_local destructor runs before both.
    atexit_block = make_block();
    std::atexit(at_exit_handler);
    static_holder.block = make_block();
    tls_holder.block = make_block();
    std::printf("main returns\n");
    std::fflush(stdout);
    return 0;
}
