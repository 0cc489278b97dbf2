// SPDX-License-Identifier: MIT
// Every allocation entry point, C and C++, while the real allocator fails
// (failalloc.c armed): prints one line per entry point with what the
// program saw (the result, errno, the exception, how often new_handler
// ran and whether it is still installed). The test runs it natively and
// under crossfree and requires the same lines, then no report and exit 0.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <malloc.h>
#include <new>

static volatile int *armed;
static int handler_calls;

static void handler_then_succeed() {
    // The third call frees memory (disarms the allocator): new then succeeds.
    if (++handler_calls == 3)
        *armed = 0;
}

static void handler_gives_up() {
    handler_calls++;
    std::set_new_handler(nullptr); // the next failure throws std::bad_alloc
}

static void line(const char *what, const void *p, int err) {
    std::printf("%-28s %s errno=%s\n", what, p == nullptr ? "NULL" : "ok",
                err == ENOMEM ? "ENOMEM"
                : err == 0    ? "0"
                              : std::strerror(err));
}

template <typename F> static void cxx(const char *what, F f) {
    handler_calls = 0;
    *armed = 1;
    const char *outcome = "returned";
    void *p = nullptr;
    try {
        p = f();
    } catch (const std::bad_alloc &) {
        outcome = "std::bad_alloc";
    }
    *armed = 0;
    std::printf("%-28s %s%s handler_calls=%d\n", what, outcome, p == nullptr ? " nullptr" : " ptr",
                handler_calls);
}

int main() {
    armed = static_cast<volatile int *>(dlsym(RTLD_DEFAULT, "failalloc_armed"));
    if (armed == nullptr) {
        std::puts("oom: libfailalloc.so is not preloaded");
        return 77;
    }
    // volatile: realloc fails here, so keep stays valid (which GCC cannot know).
    char *volatile keep = static_cast<char *>(std::malloc(64));
    std::strcpy(keep, "kept");
    void *p;
    int r;

    *armed = 1;
    errno = 0, p = std::malloc(100), line("malloc", p, errno);
    errno = 0, p = std::calloc(10, 10), line("calloc", p, errno);
    errno = 0, p = std::realloc(keep, 4096), line("realloc", p, errno);
    errno = 0, p = reallocarray(keep, 64, 64), line("reallocarray", p, errno);
    errno = 0, p = std::realloc(nullptr, 100), line("realloc(NULL)", p, errno);
    errno = 0, p = memalign(64, 100), line("memalign", p, errno);
    errno = 0, p = std::aligned_alloc(64, 128), line("aligned_alloc", p, errno);
    errno = 0, p = valloc(100), line("valloc", p, errno);
    errno = 0, p = pvalloc(100), line("pvalloc", p, errno);
    void *out = &r;
    errno = 0, r = posix_memalign(&out, 64, 100);
    std::printf("%-28s %s errno=%d out_unchanged=%d\n", "posix_memalign",
                r == ENOMEM ? "ENOMEM" : "?", errno, out == &r);
    errno = 0, p = strdup("text"), line("strdup", p, errno);
    *armed = 0;
    // The block realloc could not grow is intact and still the program's.
    std::printf("%-28s %s\n", "realloc kept the block",
                std::strcmp(keep, "kept") == 0 ? "yes" : "no");
    std::free(keep);

    cxx("new", [] { return static_cast<void *>(new int); });
    cxx("new[]", [] { return static_cast<void *>(new int[100]); });
    cxx("new(nothrow)", [] { return static_cast<void *>(new (std::nothrow) int); });
    cxx("new[](nothrow)", [] { return static_cast<void *>(new (std::nothrow) int[100]); });
    cxx("new(align)", [] { return static_cast<void *>(new (std::align_val_t(64)) char[100]); });
    cxx("new(align, nothrow)",
        [] { return static_cast<void *>(new (std::align_val_t(64), std::nothrow) char[100]); });

    // new_handler: called on each failure until it frees memory; the
    // program's handler is still the one installed afterwards.
    std::set_new_handler(handler_then_succeed);
    cxx("new, handler succeeds", [] {
        int *q = new int[4];
        delete[] q;
        return static_cast<void *>(q);
    });
    std::printf("%-28s %s\n", "handler unchanged",
                std::get_new_handler() == handler_then_succeed ? "yes" : "no");
    std::set_new_handler(handler_gives_up);
    cxx("new, handler gives up", [] { return static_cast<void *>(new int); });
    std::set_new_handler(handler_then_succeed);
    cxx("new(nothrow), handler", [] {
        void *q = new (std::nothrow) char[10];
        delete[] static_cast<char *>(q);
        return q;
    });
    std::set_new_handler(nullptr);

    // Memory works again, and nothing crossfree tracked went astray.
    char *s = new char[16];
    delete[] s;
    void *m = std::malloc(16);
    std::free(m);
    std::puts("oom: done");
    return 0;
}
