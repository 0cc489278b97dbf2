// SPDX-License-Identifier: MIT
// The perf map changes while crossfree reads it. A stub of generated code
// (an anonymous executable page) calls free() through a register, so each
// free's caller is JIT code that crossfree names from /tmp/perf-PID.map.
// A thread keeps changing that map: truncated and rewritten in pieces,
// garbage and very long lines appended, replaced by rename, deleted and
// made again. Meanwhile the main thread frees new[] buffers through the
// stub (alloc-dealloc-mismatch, run with halt_on_error=0).
//
// The only entry covering the stub is named STUB_NAME. The long garbage
// line is no entry as a whole ("g " starts it), but its last part, after
// the first 4096 bytes, reads as one covering the stub named
// "from_a_long_line": a reader that takes that part for a line of its own
// names the frame wrongly.
//
// usage: perf_map_race N   (N bad frees; prints the stub's address)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#define STUB_NAME "jit_stub_free_victim"

// push rbp; mov rbp,rsp; mov rax,rsi; call rax; pop rbp; ret
// stub(ptr, fn) calls fn(ptr) from generated code.
static const unsigned char stub_code[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89,
                                          0xf0, 0xff, 0xd0, 0x5d, 0xc3};
typedef void (*stub_fn)(void *ptr, void (*fn)(void *));

static std::atomic<bool> stop;
static std::atomic<unsigned long> rewrites;
static char map_path[64], tmp_path[80];
static std::string entry, garbage, long_line;

static void write_all(int fd, const std::string &s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t r = write(fd, s.data() + off, s.size() - off);
        if (r <= 0)
            return;
        off += (size_t)r;
    }
}

// The entry written in two pieces: a reader may see the first half alone.
static void write_entry(int fd) {
    size_t half = entry.size() / 2;
    write_all(fd, entry.substr(0, half));
    write_all(fd, entry.substr(half));
}

static void *churn(void *) {
    for (unsigned long round = 0; !stop.load(); round++) {
        int fd;
        switch (round % 4) {
        case 0: // truncate and rewrite
            fd = open(map_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                write_all(fd, "1000 10 unrelated_function\n");
                write_entry(fd);
                close(fd);
            }
            break;
        case 1: // append garbage and very long lines
            fd = open(map_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                write_all(fd, garbage);
                write_entry(fd);
                write_all(fd, long_line); // last: only its tail could name the stub
                close(fd);
            }
            break;
        case 2: // replaced by rename
            fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                write_all(fd, long_line);
                write_entry(fd);
                close(fd);
                rename(tmp_path, map_path);
            }
            break;
        case 3: // deleted and made again
            unlink(map_path);
            fd = open(map_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd >= 0) {
                write_entry(fd);
                close(fd);
            }
            break;
        }
        rewrites.fetch_add(1);
    }
    return nullptr;
}

int main(int argc, char **argv) {
#if !defined(__x86_64__)
    printf("SKIP: the stub is x86_64 code\n");
    return 77;
#endif
    long n = argc > 1 ? atol(argv[1]) : 200;
    unsigned char *m = static_cast<unsigned char *>(
        mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (m == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    memcpy(m, stub_code, sizeof stub_code);
    if (mprotect(m, 4096, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return 2;
    }
    stub_fn stub = reinterpret_cast<stub_fn>(m);

    char addr[32];
    snprintf(addr, sizeof addr, "%lx", (unsigned long)(uintptr_t)m);
    entry = std::string(addr) + " " + std::to_string(sizeof stub_code) + " " STUB_NAME "\n";
    garbage = std::string("not a line at all\n\n  \nzz 12 x\n0x 0x \n") + addr + "\n" + addr +
              " 40\n" + addr + " zz bad_size\n\x01\x02\xff\xfe binary\n";
    long_line = "g " + std::string(6000, '0') + addr + " 40 from_a_long_line\n";
    snprintf(map_path, sizeof map_path, "/tmp/perf-%d.map", (int)getpid());
    snprintf(tmp_path, sizeof tmp_path, "%s.new", map_path);
    int fd = open(map_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(map_path);
        return 2;
    }
    write_entry(fd);
    close(fd);

    pthread_t t;
    if (pthread_create(&t, nullptr, churn, nullptr) != 0)
        return 2;
    while (rewrites.load() < 8) // the map is already changing at the first report
        sched_yield();
    for (long i = 0; i < n; i++)
        stub(new char[16 + (i & 7)], free); // alloc-dealloc-mismatch, freed from JIT code
    stop.store(true);
    pthread_join(t, nullptr);
    unlink(map_path);
    unlink(tmp_path);
    printf("perf_map_race: stub %s, %ld bad frees, %lu rewrites of the map\n", addr, n,
           rewrites.load());
    return 0;
}
