// SPDX-License-Identifier: MIT
// Benchmark workload: what each live allocation costs in bookkeeping. Makes one
// million 32-byte malloc blocks and prints on stderr how much the resident set
// grew meanwhile; the runner subtracts the native growth. The blocks are still
// live at exit, so verbosity=1's exit line counts them: never free them here.
//
// Usage: bench_live_allocs [SCALE]   (SCALE 1.0 = 1,000,000 blocks)
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { FULL_BLOCKS = 1000000, BLOCK_SIZE = 32 };

// Resident pages from /proc/self/statm, read with raw read(2) so the
// measurement itself allocates nothing.
static long resident_kib(void) {
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strchr(buf, ' ');
    return p == NULL ? -1 : strtol(p + 1, NULL, 10) * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv) {
    double scale = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: %s [SCALE > 0]\n", argv[0]);
        return 2;
    }
    size_t count = (size_t)(FULL_BLOCKS * scale);
    if (count < 1)
        count = 1;

    // The pointer array comes from mmap so that it is the same cost natively
    // and preloaded, and is itself not one of the counted allocations.
    unsigned char **blocks = mmap(NULL, count * sizeof *blocks, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (blocks == MAP_FAILED)
        return 2;
    memset(blocks, 0, count * sizeof *blocks);

    // Warm the allocator (and crossfree's start-up) before the first reading.
    free(malloc(BLOCK_SIZE));
    long before = resident_kib();
    uint64_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned char *p = malloc(BLOCK_SIZE);
        if (p == NULL)
            return 2;
        memset(p, (int)(i & 0xff), BLOCK_SIZE);
        blocks[i] = p;
    }
    long after = resident_kib();
    for (size_t i = 0; i < count; i++)
        sum = sum * 31 + blocks[i][i % BLOCK_SIZE];

    fprintf(stderr, "live_allocs: rss_before_kib=%ld rss_after_kib=%ld delta_kib=%ld\n", before,
            after, after - before);
    printf("live_allocs blocks=%zu size=%d checksum=%016llx\n", count, BLOCK_SIZE,
           (unsigned long long)sum);
    return 0;
}
