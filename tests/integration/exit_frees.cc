// SPDX-License-Identifier: MIT
// Frees that run after main returns: an atexit handler, a static object's
// destructor and the main thread's thread_local destructor. Correct ones must
// be silent (mode `clean`); a wrong one in any of the three is still caught,
// also after an exit handler closed stderr, as gnulib's close_stdout does
// (mode `closed-stderr-bad`: the report goes to the stderr the process
// started with, and must not be lost).
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
// EXPECT-FREE-FRAME[closed-stderr-bad]: #0 StaticHolder::~StaticHolder() @ef_static_bad
// EXPECT-ALLOC-FRAME[closed-stderr-bad]: #0 make_block() @ef_alloc
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

// Runs first of the exit handlers (registered last): closes stderr, so
// descriptor 2 is closed when static_holder's destructor frees.
static void close_stderr() { std::fclose(stderr); }
static thread_local TlsHolder tls_holder;

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    bad_atexit = strcmp(mode, "atexit-bad") == 0;
    bool close_err = strcmp(mode, "closed-stderr-bad") == 0;
    bad_static = close_err || strcmp(mode, "static-bad") == 0;
    bad_tls = strcmp(mode, "tls-bad") == 0;
    // Registered after static_holder's constructor, so it runs before its
    // destructor; the thread_local destructor runs before both.
    atexit_block = make_block();
    std::atexit(at_exit_handler);
    static_holder.block = make_block();
    tls_holder.block = make_block();
    if (close_err)
        std::atexit(close_stderr);
    std::printf("main returns\n");
    std::fflush(stdout);
    return 0;
}
