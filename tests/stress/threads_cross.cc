// SPDX-License-Identifier: MIT
// Threads that free each other's memory, through every built-in family, at
// a high rate: each worker hands blocks to the next one over a lock-free
// ring and frees what the previous one handed it. Must run clean, and every
// block must arrive with the bytes its allocator's thread wrote.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// ARGS[t4]: 4 2500000
// EXPECT-STDOUT[t4]: threads: 4, blocks: 10000000, bad: 0
// ARGS[t8]: 8 1250000
// EXPECT-STDOUT[t8]: threads: 8, blocks: 10000000, bad: 0
// The aarch64 suite, under qemu-user (~60x slower here): 1/50 of the blocks.
// ARGS[t4-emulated]: 4 50000
// EXPECT-STDOUT[t4-emulated]: threads: 4, blocks: 200000, bad: 0
// ARGS[t8-emulated]: 8 25000
// EXPECT-STDOUT[t8-emulated]: threads: 8, blocks: 200000, bad: 0
// clang-format on

enum Kind : uint8_t {
    K_MALLOC,
    K_CALLOC,
    K_REALLOC,
    K_MEMALIGN,
    K_NEW,
    K_NEW_ARR,
    K_NEW_ALIGN,
    K_NEW_ARR_ALIGN,
    K_COUNT
};

struct Block {
    unsigned char *p;
    uint32_t size;
    uint8_t kind, owner;
};

// Single-producer single-consumer ring between neighbouring threads.
struct Ring {
    static const size_t N = 1024;
    Block slots[N];
    std::atomic<size_t> head{0}, tail{0};
    bool push(const Block &b) {
        size_t h = head.load(std::memory_order_relaxed);
        if (h - tail.load(std::memory_order_acquire) == N)
            return false;
        slots[h % N] = b;
        head.store(h + 1, std::memory_order_release);
        return true;
    }
    bool pop(Block *b) {
        size_t t = tail.load(std::memory_order_relaxed);
        if (t == head.load(std::memory_order_acquire))
            return false;
        *b = slots[t % N];
        tail.store(t + 1, std::memory_order_release);
        return true;
    }
};

static std::atomic<long> bad{0};

static Block make(uint32_t rnd, uint8_t owner) {
    Block b;
    b.kind = rnd % K_COUNT;
    b.size = 1 + (rnd >> 8) % 512;
    b.owner = owner;
    void *p = nullptr;
    switch (b.kind) {
    case K_MALLOC:
        p = malloc(b.size);
        break;
    case K_CALLOC:
        p = calloc(1, b.size);
        break;
    case K_REALLOC:
        p = realloc(malloc(8), b.size);
        break;
    case K_MEMALIGN:
        if (posix_memalign(&p, 64, b.size) != 0)
            p = nullptr;
        break;
    case K_NEW:
        p = ::operator new(b.size);
        break;
    case K_NEW_ARR:
        p = new unsigned char[b.size];
        break;
    case K_NEW_ALIGN:
        p = ::operator new (b.size, std::align_val_t{128});
        break;
    default:
        p = ::operator new[](b.size, std::align_val_t{32});
        break;
    }
    b.p = static_cast<unsigned char *>(p);
    memset(b.p, owner + 1, b.size);
    return b;
}

static void release(const Block &b) {
    for (uint32_t i = 0; i < b.size; i += 61)
        if (b.p[i] != (unsigned char)(b.owner + 1))
            bad++;
    switch (b.kind) {
    case K_MALLOC:
    case K_CALLOC:
    case K_REALLOC:
    case K_MEMALIGN:
        free(b.p);
        break;
    case K_NEW:
        ::operator delete(b.p, b.size);
        break;
    case K_NEW_ARR:
        delete[] b.p;
        break;
    case K_NEW_ALIGN:
        ::operator delete (b.p, std::align_val_t{128});
        break;
    default:
        ::operator delete[](b.p, b.size, std::align_val_t{32});
        break;
    }
}

int main(int argc, char **argv) {
    int nthreads = argc > 1 ? atoi(argv[1]) : 4;
    long per_thread = argc > 2 ? atol(argv[2]) : 300000;
    std::vector<Ring> rings(nthreads);
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < nthreads; t++) {
        threads.emplace_back([&, t] {
            Ring &out = rings[t], &in = rings[(t + nthreads - 1) % nthreads];
            uint32_t x = 2463534242u + t * 7919u;
            Block b;
            for (long i = 0; i < per_thread; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                Block nb = make(x, (uint8_t)t);
                if (!out.push(nb))
                    release(nb); // neighbour is slow: free locally
                if (in.pop(&b))
                    release(b);
            }
            done++;
            // Drain until every producer has finished, then once more.
            while (done.load() < nthreads)
                while (in.pop(&b))
                    release(b);
            while (in.pop(&b))
                release(b);
        });
    }
    for (auto &th : threads)
        th.join();
    for (auto &r : rings) {
        Block b;
        while (r.pop(&b))
            release(b);
    }
    std::printf("threads: %d, blocks: %ld, bad: %ld\n", nthreads, nthreads * per_thread,
                bad.load());
    return 0;
}
