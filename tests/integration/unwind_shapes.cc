// SPDX-License-Identifier: MIT
// Allocation stacks of every shape crossfree's cached DWARF unwinder has to
// walk exactly as libunwind does, one scenario per run (argv[1]), each
// repeated `iterations` times (argv[2]) so that the rule and chain caches
// are warm and then reused. check_unwind.py runs them with fast_unwind=2,
// where crossfree takes every stack both ways and says so on stderr when
// the two differ, and reads the unwinder's counters from the exit line.
//
// This file is built -O0 with frame pointers; unwind_shapes_opt.c holds the
// frames built -O2 -fomit-frame-pointer, and on aarch64 unwind_shapes_pac.c
// those built with -mbranch-protection=pac-ret. x86_64 and aarch64 run the
// same scenarios (pac and pac-mismatch are aarch64's alone); where a shape
// needs machine code (the JIT's, the plugins', the CFA expression), each
// architecture has its own. Every scenario prints
// `scenario NAME: N iterations` and exits 0, except the three *mismatch
// ones (and pac-mismatch), which end with a new[] block freed by free() (check_unwind.py
// --compare). The dlopen scenarios take the two plugins' paths as argv[3]
// and argv[4]. The scenarios meson.build lists as known bugs show where
// the fast unwinder and libunwind part today.
#include <alloca.h>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <new>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <ucontext.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "unwind_shapes.h"

static unsigned long iters = 4000;
static std::atomic<unsigned long> sunk{0};
static std::atomic<unsigned long> side_effect{0};

static void die(const char *what) {
    fprintf(stderr, "unwind_shapes: %s\n", what);
    exit(2);
}

extern "C" unsigned long shapes_sink(void *p) {
    if (p == nullptr)
        die("allocation failed");
    unsigned long v = (unsigned long)((uintptr_t)p >> 4);
    free(p);
    sunk.fetch_add(1, std::memory_order_relaxed);
    return v;
}

// --- leaves and generic -O0 frames -----------------------------------------------

[[gnu::noinline]] static unsigned long leaf_malloc(size_t n) { return shapes_sink(malloc(n)); }

[[gnu::noinline]] static unsigned long leaf_calloc(size_t n) { return shapes_sink(calloc(1, n)); }

[[gnu::noinline]] static unsigned long recurse(int depth, size_t n, shapes_fn fn) {
    unsigned long r = depth > 0 ? recurse(depth - 1, n + 1, fn) : fn(n);
    return r + (unsigned long)depth;
}

[[gnu::noinline]] static unsigned long o0_alloca(size_t len, int depth, size_t n, shapes_fn fn) {
    char *b = static_cast<char *>(alloca(len));
    memset(b, depth, len);
    unsigned long r = depth > 0 ? o0_alloca(len * 5 % 257 + 1, depth - 1, n, fn) : fn(n);
    return r + (unsigned char)b[len - 1];
}

static const unsigned long pressure_vals[16] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};
static thread_local size_t cb_len = 1;

static unsigned long via_fake_bp(size_t n) { return opt_fake_bp(n, opt_leaf); }
static unsigned long via_pressure(size_t n) { return opt_pressure(pressure_vals, 3, n, opt_leaf); }
static unsigned long via_vla(size_t n) { return opt_vla(cb_len, n, opt_leaf); }
static unsigned long via_opt_alloca(size_t n) { return opt_alloca(cb_len, 2, n, leaf_malloc); }
static unsigned long via_aligned(size_t n) { return opt_aligned(n, opt_leaf); }
static unsigned long via_opt_recurse(size_t n) { return opt_recurse(12, n, opt_leaf); }
#if defined(__aarch64__)
static unsigned long via_cfa_expr(size_t n) { return opt_cfa_expr(n, via_aligned); }
#endif

// --- recursion: ~40 frames, some walks cut at malloc_context_size ----------------

static unsigned long scenario_recursion(int, char **) {
    for (unsigned long i = 0; i < iters; i++) {
        int depth = 30 + (int)(i % 12);
        recurse(depth, 16, leaf_malloc);
        opt_recurse(depth, 16, leaf_malloc);
        recurse((int)(i % 20), 16, leaf_malloc); // short enough for the chain cache
        recurse(depth / 2, 16, via_opt_recurse);
        if (i % 64 == 0)
            recurse(80, 16, leaf_calloc); // deeper than 64 frames: both walks stop there
    }
    return iters;
}

// --- omitted frame pointers: rbp is data, or a decoy frame record ----------------

// Each shape in a loop of its own: several of them reach the same return
// address at the same depth, which would make them take turns in one chain
// slot (that case is `collide`'s).
static unsigned long scenario_omit_fp(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        opt_pressure(pressure_vals, (int)(i % 6), 24, leaf_malloc);
    for (unsigned long i = 0; i < iters; i++)
        opt_fake_bp(24, leaf_malloc);
    for (unsigned long i = 0; i < iters; i++)
        opt_fake_bp(24, via_pressure);
    for (unsigned long i = 0; i < iters; i++)
        opt_pressure(pressure_vals, (int)(i % 4), 24, via_fake_bp);
    for (unsigned long i = 0; i < iters; i++)
        opt_recurse((int)(i % 5), 24, opt_leaf);
    for (unsigned long i = 0; i < iters; i++)
        recurse((int)(i % 3), 24, via_fake_bp);
    return iters;
}

// --- large frames: save slots far below the CFA ---------------------------------

// A frame with 40 KiB or 100 KiB of locals, optimized and not: an aarch64
// frame record at the bottom of such a frame is that far below the CFA,
// beyond what a 16-bit byte offset reaches (ninja's ReadFile and one
// python3.11 frame are real ones, found by aarch64-real).
[[gnu::noinline]] static unsigned long big_frame(unsigned kib, size_t n, shapes_fn fn) {
    char big[100 * 1024];
    size_t len = (size_t)kib * 1024;
    memset(big, (int)n, len);
    unsigned long r = fn(n);
    return r + (unsigned char)big[len - 1] + (unsigned char)big[n];
}

static unsigned long via_big_frame(size_t n) { return opt_big_frame(100, n, opt_leaf); }

static unsigned long scenario_big_frame(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        big_frame(100, 24, opt_leaf);
    for (unsigned long i = 0; i < iters; i++)
        big_frame(40, 24, via_big_frame);
    for (unsigned long i = 0; i < iters; i++)
        opt_big_frame(200, 24, via_big_frame);
    return iters;
}

// --- alloca and VLAs: one return address, many stack offsets ---------------------

static unsigned long scenario_alloca(int, char **) {
    for (unsigned long i = 0; i < iters; i++) {
        size_t len = 1 + (i * 37) % 700;
        cb_len = 1 + (i * 53) % 400;
        o0_alloca(len, (int)(i % 4), 24, leaf_malloc);
        opt_alloca(len, (int)(i % 4), 24, leaf_malloc);
        opt_vla(len, 24, opt_leaf);
        o0_alloca(len, 1, 24, via_vla);
        opt_vla(len, 24, via_opt_alloca);
        opt_alloca(len, 1, 24, via_fake_bp);
    }
    return iters;
}

// --- stack realignment: rbp-based (plain) and DRAP (a CFA expression) ------------
// On aarch64 GCC does not realign sp: opt_aligned rounds a pointer up (CFA
// from sp) and opt_aligned_vla has x29 as its CFA base; the CFA expression
// comes from opt_cfa_expr (assembly) instead of DRAP.

static unsigned long scenario_realign(int, char **) {
    for (unsigned long i = 0; i < iters; i++) {
        opt_aligned(24, leaf_malloc);
        opt_aligned_vla(1 + i % 200, 24, leaf_malloc);
        opt_aligned_vla(1 + i % 50, 24, via_aligned);
        recurse(3, 24, via_aligned);
#if defined(__aarch64__)
        opt_cfa_expr(24, leaf_malloc);
        recurse(2, 24, via_cfa_expr);
#endif
    }
    return iters;
}

// --- signal handlers, on the thread's stack and on an alternate stack ------------

static void on_signal(int) {
    leaf_malloc(40);
    recurse(4, 24, leaf_malloc);
    opt_recurse(3, 24, opt_leaf);
    opt_alloca(100, 1, 24, leaf_malloc);
}

static unsigned long raise_usr1(size_t) {
    raise(SIGUSR1);
    return 0;
}

static void use_alt_stack() {
    size_t size = 256 * 1024;
    void *mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap of the signal stack failed");
    stack_t ss = {};
    ss.ss_sp = mem;
    ss.ss_size = size;
    if (sigaltstack(&ss, nullptr) != 0)
        die("sigaltstack failed");
}

static void signal_loop(unsigned long count) {
    use_alt_stack();
    for (unsigned long i = 0; i < count; i++) {
        raise(SIGUSR1);                           // handler on this stack
        raise(SIGUSR2);                           // handler on the alternate stack
        opt_recurse((int)(i % 3), 0, raise_usr1); // raised from optimized frames
        leaf_malloc(16);                          // an ordinary stack in between
    }
}

static unsigned long scenario_signal(int, char **) {
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, nullptr);
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigaction(SIGUSR2, &sa, nullptr);
    std::thread other(signal_loop, iters / 2); // its alternate stack sits near its own
    signal_loop(iters / 2);
    other.join();
    return iters;
}

// --- one call site, many callers and depths --------------------------------------

// The allocator is called through a pointer, so that malloc and operator
// new[] return to the same address (see collide-mismatch).
static void *(*collide_alloc)(size_t) = malloc;
static void *collide_kept;

[[gnu::noinline]] static unsigned long collide_leaf(size_t n) {
    void *p = collide_alloc(n);
    if (collide_alloc != malloc) {
        collide_kept = p;
        return 1;
    }
    return shapes_sink(p);
}

// Identical -O0 bodies: every instance has the same frame size, so the leaf
// is reached at the same stack depth, under the same chain key, through a
// different return address one frame up.
template <int K> [[gnu::noinline]] unsigned long collide_caller(int depth, size_t n) {
    volatile int tag = K;
    unsigned long r = depth > 0 ? collide_caller<K>(depth - 1, n) : collide_leaf(n);
    return r + (unsigned long)tag;
}

using caller_fn = unsigned long (*)(int, size_t);
template <size_t... I>
static std::array<caller_fn, sizeof...(I)> make_callers(std::index_sequence<I...>) {
    return {{&collide_caller<(int)I>...}};
}
static const std::array<caller_fn, 64> callers = make_callers(std::make_index_sequence<64>());

static unsigned long collide_rounds(unsigned long count) {
    unsigned long calls = 0;
    // 21 depths x 64 callers: more chains than the cache has slots, each
    // shape repeated in a row so that it is hit before it is evicted.
    unsigned long repeat = count / 200 < 2 ? 2 : count / 200;
    for (int depth = 0; depth <= 20; depth++)
        for (caller_fn f : callers)
            for (unsigned long r = 0; r < repeat; r++, calls++)
                f(depth, 24);
    // The same key with a different caller on every call.
    for (unsigned long i = 0; i < count / 4; i++, calls++)
        callers[i % callers.size()](5, 24);
    // Callers and depths interleaved.
    for (unsigned long i = 0; i < count / 4; i++, calls++)
        callers[i % 7]((int)(i % 13), 24);
    return calls;
}

static unsigned long scenario_collide(int, char **) { return collide_rounds(iters); }

// Two callers take turns under one chain key; the last block, from the
// second caller, is a new[] block freed by free(). Its report must name that
// caller: a chain cache that matched on the key and not on every frame
// would hand out the other caller's stack.
static unsigned long scenario_collide_mismatch(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        callers[i % 2](5, 24);
    callers[0](5, 24);
    collide_alloc = static_cast<void *(*)(size_t)>(&::operator new[]);
    callers[1](5, 24);
    printf("freeing a new[] block with free()\n");
    fflush(stdout);
    free(collide_kept);
    return iters;
}

// --- C++ exceptions through frames that allocate ---------------------------------

struct Noisy {
    std::string s;
    explicit Noisy(size_t n) : s(n, 'n') {}
    ~Noisy() {
        std::string t(s.size() + 20, 'd'); // allocates while an exception passes
        side_effect.fetch_add(t.size(), std::memory_order_relaxed);
    }
};

[[gnu::noinline]] static void thrower(int depth) {
    Noisy guard(30 + (size_t)depth);
    std::string s(40 + (size_t)depth, 'x');
    if (depth == 0)
        throw std::runtime_error(s);
    thrower(depth - 1);
    side_effect.fetch_add(s.size(), std::memory_order_relaxed);
}

[[gnu::noinline]] static size_t catcher(int depth) {
    try {
        thrower(depth);
    } catch (const std::exception &e) {
        std::string msg = std::string("caught: ") + e.what();
        return msg.size();
    }
    return 0;
}

[[gnu::noinline]] static size_t rethrower(int depth) {
    try {
        thrower(depth);
    } catch (const std::runtime_error &e) {
        std::string m(e.what());
        m += " and once more";
        throw std::logic_error(m);
    }
    return 0;
}

static unsigned long throw_cb(size_t n) {
    thrower((int)(n % 5));
    return 0;
}

static void exception_round(unsigned long i) {
    catcher((int)(i % 8));
    try {
        rethrower((int)(i % 6));
    } catch (const std::logic_error &e) {
        std::string s(e.what());
        side_effect.fetch_add(s.size(), std::memory_order_relaxed);
    }
    try {
        opt_recurse((int)(i % 4), i, throw_cb); // through -O2 C frames
    } catch (const std::exception &e) {
        std::string s = std::string(e.what()) + " past C frames";
        side_effect.fetch_add(s.size(), std::memory_order_relaxed);
    }
}

static unsigned long scenario_exceptions(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        exception_round(i);
    return iters;
}

// --- several threads at once, every shape mixed ----------------------------------

static void mixed_work(unsigned t, unsigned long count, std::atomic<bool> *go) {
    while (!go->load(std::memory_order_acquire))
        ;
    for (unsigned long i = 0; i < count; i++) {
        unsigned long k = i + t * 7;
        cb_len = 1 + (k * 53) % 400;
        recurse((int)(k % 20), 24, leaf_malloc);
        opt_pressure(pressure_vals, (int)(k % 6), 24, via_fake_bp);
        o0_alloca(1 + (k * 37) % 700, (int)(k % 3), 24, via_vla);
        callers[k % callers.size()]((int)(k % 9), 24);
        if (i % 16 == 0)
            exception_round(k);
    }
}

static unsigned long scenario_threads(int, char **) {
    std::atomic<bool> go{false};
    std::vector<std::thread> ts;
    const unsigned n = 4;
    for (unsigned t = 0; t < n; t++)
        ts.emplace_back(mixed_work, t, iters / n, &go);
    go.store(true, std::memory_order_release);
    for (auto &t : ts)
        t.join();
    return iters;
}

// --- code without unwind information (a JIT's) -----------------------------------

typedef void *(*alloc_fn)(size_t);
typedef void *(*jit_fn)(alloc_fn fn, size_t n);

#if defined(__aarch64__)
// Instruction words, stored little-endian as aarch64 Linux runs them.
// stp x29,x30,[sp,-16]!; mov x29,sp; mov x2,x0; mov x0,x1; blr x2;
// ldp x29,x30,[sp],16; ret
static const uint32_t jit_fp_code[] = {0xa9bf7bfd, 0x910003fd, 0xaa0003e2, 0xaa0103e0,
                                       0xd63f0040, 0xa8c17bfd, 0xd65f03c0};
enum { JIT_FP_RET = 20 }; // offset of the return address of its call
// sub sp,sp,16; str x30,[sp,8]; mov x2,x0; mov x0,x1; blr x2; ldr x30,[sp,8];
// add sp,sp,16; ret (no frame record: x29 is the caller's)
static const uint32_t jit_nofp_code[] = {0xd10043ff, 0xf90007fe, 0xaa0003e2, 0xaa0103e0,
                                         0xd63f0040, 0xf94007fe, 0x910043ff, 0xd65f03c0};
// stp x29,x30,[sp,-16]!; mov x29,sp; sub sp,sp,0x8000; mov x2,x0; mov x0,x1;
// blr x2; mov sp,x29; ldp x29,x30,[sp],16; ret
static const uint32_t jit_big_code[] = {0xa9bf7bfd, 0x910003fd, 0xd14023ff, 0xaa0003e2, 0xaa0103e0,
                                        0xd63f0040, 0x910003bf, 0xa8c17bfd, 0xd65f03c0};
#else
// push rbp; mov rbp,rsp; mov rax,rdi; mov rdi,rsi; call rax; pop rbp; ret
static const unsigned char jit_fp_code[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf8,
                                            0x48, 0x89, 0xf7, 0xff, 0xd0, 0x5d, 0xc3};
enum { JIT_FP_RET = 12 }; // offset of the return address of its call
// sub rsp,8; mov rax,rdi; mov rdi,rsi; call rax; add rsp,8; ret (no frame record)
static const unsigned char jit_nofp_code[] = {0x48, 0x83, 0xec, 0x08, 0x48, 0x89, 0xf8, 0x48, 0x89,
                                              0xf7, 0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3};

// push rbp; mov rbp,rsp; sub rsp,0x8000; mov rax,rdi; mov rdi,rsi; call rax; leave; ret
static const unsigned char jit_big_code[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x81, 0xec,
                                             0x00, 0x80, 0x00, 0x00, 0x48, 0x89, 0xf8,
                                             0x48, 0x89, 0xf7, 0xff, 0xd0, 0xc9, 0xc3};
#endif

// Copies machine code to `to` and makes it visible to instruction fetch
// (aarch64's instruction cache is not coherent with data writes; on x86_64
// this is a no-op).
static void put_code(void *to, const void *code, size_t len) {
    memcpy(to, code, len);
    __builtin___clear_cache(static_cast<char *>(to), static_cast<char *>(to) + len);
}

[[gnu::noinline]] static void *c_alloc(size_t n) {
    void *p = malloc(n);
    side_effect.fetch_add(1, std::memory_order_relaxed);
    return p;
}

[[gnu::noinline]] static void *call_jit(jit_fn f, alloc_fn a, size_t n) {
    void *p = f(a, n);
    return p;
}

static unsigned long scenario_jit(int, char **) {
    unsigned char *m = static_cast<unsigned char *>(mmap(
        nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (m == MAP_FAILED)
        die("mmap of the code page failed");
    put_code(m, jit_fp_code, sizeof jit_fp_code);
    put_code(m + 64, jit_nofp_code, sizeof jit_nofp_code);
    jit_fn fp = reinterpret_cast<jit_fn>(m), nofp = reinterpret_cast<jit_fn>(m + 64);
    // One loop per shape, as in omit-fp: the first and the last reach
    // c_alloc at the same depth.
    for (unsigned long i = 0; i < iters; i++)
        free(call_jit(fp, c_alloc, 24)); // C frame, then code without FDE
    for (unsigned long i = 0; i < iters; i++)
        free(call_jit(fp, malloc, 24)); // the walk starts in code without FDE
    for (unsigned long i = 0; i < iters; i++)
        free(call_jit(nofp, c_alloc, 24)); // no frame record: rbp/x29 is the caller's
    munmap(m, 4096);
    return iters;
}

// A frame without FDE whose frame record lies 32 KiB above its return
// address: libunwind's frame-pointer guess on x86_64 only accepts a record
// at most 16 KiB above the CFA, so it ends the stack there. (On aarch64 its
// guess for code without FDE is the link register, not the frame record.)
static unsigned long scenario_jit_big_frame(int, char **) {
    unsigned char *m = static_cast<unsigned char *>(mmap(
        nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (m == MAP_FAILED)
        die("mmap of the code page failed");
    put_code(m, jit_big_code, sizeof jit_big_code);
    for (unsigned long i = 0; i < iters; i++) {
        free(call_jit(reinterpret_cast<jit_fn>(m), malloc, 24));
        free(call_jit(reinterpret_cast<jit_fn>(m), c_alloc, 24));
    }
    munmap(m, 4096);
    return iters;
}

// --- coroutines: stacks the walk cannot bound ------------------------------------

static ucontext_t co_main, co_ctx;

static void co_body() {
    for (;;) {
        recurse(3, 24, leaf_malloc);
        opt_recurse(2, 24, opt_leaf);
        swapcontext(&co_ctx, &co_main);
    }
}

// near_own_stack: map the coroutine's stack 1 MiB below this thread's
// stack, where a coroutine library's mapping often lands anyway.
static void co_run(unsigned long count, bool near_own_stack) {
    size_t size = 256 * 1024;
    void *want = nullptr;
    pthread_attr_t attr;
    if (near_own_stack && pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo;
        size_t len;
        if (pthread_attr_getstack(&attr, &lo, &len) == 0)
            want = static_cast<char *>(lo) - (1 << 20) - size;
        pthread_attr_destroy(&attr);
    }
    void *stack = mmap(want, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | (want ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    if (stack == MAP_FAILED)
        die("mmap of the coroutine stack failed");
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack;
    co_ctx.uc_stack.ss_size = size;
    co_ctx.uc_link = &co_main;
    makecontext(&co_ctx, co_body, 0);
    for (unsigned long i = 0; i < count; i++)
        swapcontext(&co_main, &co_ctx);
}

static unsigned long scenario_ucontext(int, char **) {
    co_run(iters, false);
    return iters;
}

// The same on a second thread with the coroutine's stack just below the
// thread's own: the thread's stack top bounds the walk, which then goes on
// from __start_context through the frame pointer of the thread that
// resumed the coroutine, 1 MiB up (libunwind stops there: the record is
// too far above the frame).
static unsigned long scenario_ucontext_thread(int, char **) {
    std::thread t(co_run, iters, true);
    t.join();
    return iters;
}

// --- dlclose, then another library at the same addresses -------------------------

typedef void *(*lib_fn)(size_t n, alloc_fn fn);

[[gnu::noinline]] static void *call_lib(lib_fn f, size_t n, alloc_fn a) {
    void *p = f(n, a);
    return p;
}

struct lib_job {
    lib_fn f;
    unsigned long count;
    bool bad; // finish with operator new[] freed by free()
};

[[gnu::noinline]] static void *dl_worker(void *arg) {
    lib_job *job = static_cast<lib_job *>(arg);
    for (unsigned long i = 0; i < job->count; i++)
        free(call_lib(job->f, 24 + i % 8, malloc));
    if (job->bad) {
        // operator new[] itself, called by the library function.
        void *p = call_lib(job->f, 32, static_cast<alloc_fn>(&::operator new[]));
        printf("freeing a new[] block with free()\n");
        fflush(stdout);
        free(p);
    }
    return nullptr;
}

static void run_job(lib_job *job, bool own_thread) {
    if (!own_thread) {
        dl_worker(job);
        return;
    }
    pthread_t t;
    if (pthread_create(&t, nullptr, dl_worker, job) != 0)
        die("pthread_create failed");
    pthread_join(t, nullptr);
}

static void *load(const char *path, const char *fn, const char *ret, lib_fn *f, uintptr_t *r) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr)
        die(dlerror());
    *f = reinterpret_cast<lib_fn>(dlsym(h, fn));
    *r = reinterpret_cast<uintptr_t>(dlsym(h, ret));
    if (*f == nullptr || *r == 0)
        die("plugin symbol missing");
    return h;
}

// libunwind remembers a frame's layout by return address and forgets
// nothing when a library goes away (crossfree does not flush it, and
// unw_backtrace's per-thread cache survives even a flush), so after the
// swap it would be libunwind that reports stale frames. A flush and a fresh
// thread give it a clean start; the fast unwinder's caches are global and
// get no such help. Done only when libunwind is loaded (by crossfree).
static void flush_libunwind() {
    using flush_fn = void (*)(void *, uintptr_t, uintptr_t);
#if defined(__aarch64__)
    void *flush = dlsym(RTLD_DEFAULT, "_Uaarch64_flush_cache");
    void **space = static_cast<void **>(dlsym(RTLD_DEFAULT, "_ULaarch64_local_addr_space"));
#else
    void *flush = dlsym(RTLD_DEFAULT, "_Ux86_64_flush_cache");
    void **space = static_cast<void **>(dlsym(RTLD_DEFAULT, "_ULx86_64_local_addr_space"));
#endif
    if (flush != nullptr && space != nullptr)
        reinterpret_cast<flush_fn>(flush)(*space, 0, 0);
}

// argv: dlreuse[-same-thread|-mismatch] N LIB_A LIB_B
static unsigned long dlreuse(int argc, char **argv, bool own_threads, bool bad) {
    if (argc < 5)
        die("dlreuse needs the paths of both plugins");
    lib_fn fa, fb;
    uintptr_t ra, rb;
    void *ha = load(argv[3], "lib_a_alloc", "lib_a_ret", &fa, &ra);
    lib_job a = {fa, iters, false};
    run_job(&a, own_threads);
    dlclose(ha);
    if (own_threads)
        flush_libunwind();
    void *hb = load(argv[4], "lib_b_alloc", "lib_b_ret", &fb, &rb);
    printf("dlreuse: same return address: %s\n", ra == rb ? "yes" : "no");
    fflush(stdout);
    lib_job b = {fb, iters, bad};
    run_job(&b, own_threads);
    dlclose(hb);
    return 2 * iters;
}

static unsigned long scenario_dlreuse(int argc, char **argv) {
    return dlreuse(argc, argv, true, false);
}
static unsigned long scenario_dlreuse_same_thread(int argc, char **argv) {
    return dlreuse(argc, argv, false, false);
}
static unsigned long scenario_dlreuse_mismatch(int argc, char **argv) {
    return dlreuse(argc, argv, true, true);
}

// Code without unwind information first, then a library loaded over it: the
// rule remembered for the JIT's return address must not outlive the code.
// argv: jit-then-dlopen N LIB_A LIB_B (only B is used)
static unsigned long scenario_jit_then_dlopen(int argc, char **argv) {
    if (argc < 5)
        die("jit-then-dlopen needs the paths of both plugins");
    lib_fn fb;
    uintptr_t rb;
    void *h = load(argv[4], "lib_b_alloc", "lib_b_ret", &fb, &rb);
    dlclose(h); // nothing of it was ever on a stack
    uintptr_t start = rb - JIT_FP_RET, page = start & ~(uintptr_t)4095;
    void *m = mmap(reinterpret_cast<void *>(page), 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m != reinterpret_cast<void *>(page)) {
        printf("jit-then-dlopen: the plugin's pages could not be mapped again\n");
        exit(77);
    }
    put_code(reinterpret_cast<void *>(start), jit_fp_code, sizeof jit_fp_code);
    for (unsigned long i = 0; i < iters; i++)
        free(call_jit(reinterpret_cast<jit_fn>(start), malloc, 24));
    munmap(m, 8192);
    flush_libunwind(); // libunwind, too, would keep the JIT's rule: see above
    uintptr_t rb2;
    h = load(argv[4], "lib_b_alloc", "lib_b_ret", &fb, &rb2);
    printf("jit-then-dlopen: same return address: %s\n", rb == rb2 ? "yes" : "no");
    fflush(stdout);
    lib_job b = {fb, iters, false};
    run_job(&b, true);
    dlclose(h);
    return 2 * iters;
}

// --- a deliberate mismatch, after the path was walked many times ------------------

static char *bad_block;
static bool keep_last;

[[gnu::noinline]] static unsigned long mm_inner(size_t n) {
    char *p = new char[n]; // @mm-alloc
    p[0] = 1;
    if (keep_last) {
        bad_block = p;
        return 1;
    }
    delete[] p;
    return 0;
}

[[gnu::noinline]] static unsigned long mm_middle(size_t n) {
    return opt_alloca(100, 1, n, mm_inner) + 1;
}

[[gnu::noinline]] static unsigned long mm_outer(size_t n) { return opt_fake_bp(n, mm_middle) + 1; }

static unsigned long scenario_mismatch(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        mm_outer(48);
    keep_last = true;
    mm_outer(48);
    printf("freeing a new[] block with free()\n");
    fflush(stdout);
    free(bad_block); // @mm-free
    return iters;
}

// --- return addresses signed with pointer authentication (aarch64) --------------

#if defined(__aarch64__)
static unsigned long via_pac(size_t n) { return pac_recurse(2, n, pac_leaf); }
static unsigned long via_pac_omit(size_t n) { return pac_omit_recurse(2, n, opt_leaf); }
static unsigned long pac_throw_cb(size_t n) { return pac_recurse(2, n, throw_cb); }

// One loop per shape, as in omit-fp.
static unsigned long scenario_pac(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        pac_recurse((int)(i % 6), 24, pac_leaf); // signed x30 in every frame record
    for (unsigned long i = 0; i < iters; i++)
        pac_omit_recurse((int)(i % 4), 24, leaf_malloc); // signed x30 beside x19
    for (unsigned long i = 0; i < iters; i++)
        pac_alloca(40, (int)(i % 3), 24, opt_leaf); // CFA from x29
    for (unsigned long i = 0; i < iters; i++)
        recurse((int)(i % 5), 24, via_pac); // -O0 frames below signed ones
    for (unsigned long i = 0; i < iters; i++)
        opt_recurse((int)(i % 3), 24, via_pac_omit); // -O2 frames without records, too
    return iters;
}

// C++ exceptions thrown through signed frames (libgcc strips the codes),
// allocating on the way: as in `exceptions`, one call site is reached by
// different stacks in turn, so the chain cache is refilled by design.
static unsigned long scenario_pac_exceptions(int, char **) {
    for (unsigned long i = 0; i < iters; i++) {
        try {
            pac_recurse((int)(i % 3), i, pac_throw_cb);
        } catch (const std::exception &e) {
            std::string s = std::string(e.what()) + " past signed frames";
            side_effect.fetch_add(s.size(), std::memory_order_relaxed);
        }
        try {
            pac_omit_recurse((int)(i % 2), i, throw_cb);
        } catch (const std::exception &e) {
            side_effect.fetch_add(strlen(e.what()), std::memory_order_relaxed);
        }
    }
    return iters;
}

// The same path many times, then a new[] block freed by free(): every
// frame of its allocation stack below operator new[] is a signed one.
static unsigned long scenario_pac_mismatch(int, char **) {
    for (unsigned long i = 0; i < iters; i++)
        operator delete[](pac_alloc_through(3, 48, &::operator new[]));
    void *p = pac_alloc_through(3, 48, &::operator new[]);
    printf("freeing a new[] block with free()\n");
    fflush(stdout);
    free(p);
    return iters;
}
#endif

// ---------------------------------------------------------------------------------

struct scenario {
    const char *name;
    unsigned long (*run)(int argc, char **argv);
};

static const scenario scenarios[] = {
    {"recursion", scenario_recursion},
    {"omit-fp", scenario_omit_fp},
    {"alloca", scenario_alloca},
    {"big-frame", scenario_big_frame},
    {"realign", scenario_realign},
    {"signal", scenario_signal},
    {"threads", scenario_threads},
    {"collide", scenario_collide},
    {"collide-mismatch", scenario_collide_mismatch},
    {"exceptions", scenario_exceptions},
    {"jit", scenario_jit},
    {"jit-big-frame", scenario_jit_big_frame},
    {"ucontext", scenario_ucontext},
    {"ucontext-thread", scenario_ucontext_thread},
    {"dlreuse", scenario_dlreuse},
    {"dlreuse-same-thread", scenario_dlreuse_same_thread},
    {"dlreuse-mismatch", scenario_dlreuse_mismatch},
    {"jit-then-dlopen", scenario_jit_then_dlopen},
    {"mismatch", scenario_mismatch},
#if defined(__aarch64__)
    {"pac", scenario_pac},
    {"pac-exceptions", scenario_pac_exceptions},
    {"pac-mismatch", scenario_pac_mismatch},
#endif
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: unwind_shapes SCENARIO [ITERATIONS] [ARGS...]\n");
        return 2;
    }
    if (argc > 2)
        iters = strtoul(argv[2], nullptr, 10);
    for (const scenario &s : scenarios) {
        if (strcmp(s.name, argv[1]) == 0) {
            unsigned long n = s.run(argc, argv);
            printf("scenario %s: %lu iterations\n", s.name, n);
            return 0;
        }
    }
    fprintf(stderr, "unwind_shapes: unknown scenario '%s'\n", argv[1]);
    return 2;
}
