// SPDX-License-Identifier: MIT
// Fuzzes the JIT perf map reader: the input is written as this process's
// /tmp/perf-PID.map (what a JIT such as Mono, Node.js or LuaJIT writes)
// and the library names frames in an anonymous executable mapping from it,
// as it does for a report. The mapping sits at a fixed address, so the
// seed corpus can name addresses inside it.
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/platform.h"

#define JIT_BASE ((uintptr_t)0x40000000)
#define JIT_SIZE ((size_t)0x10000)

static char map_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    void *p = mmap((void *)JIT_BASE, JIT_SIZE, PROT_READ | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)JIT_BASE) {
        perror("fuzz_perfmap: mmap at 0x40000000");
        abort();
    }
    snprintf(map_path, sizeof map_path, "/tmp/perf-%d.map", (int)getpid());
    return 0;
}

static void write_map(const uint8_t *data, size_t size) {
    int fd = open(map_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    while (size > 0) {
        ssize_t w = write(fd, data, size);
        if (w <= 0)
            abort();
        data += w;
        size -= (size_t)w;
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    write_map(data, size);
    static const uintptr_t pcs[] = {JIT_BASE, JIT_BASE + 0x10, JIT_BASE + 0x123,
                                    JIT_BASE + JIT_SIZE - 1};
    static const size_t caps[] = {1, 16, 256};
    for (size_t i = 0; i < sizeof pcs / sizeof pcs[0]; i++) {
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
            // Exactly cap bytes on the heap: a write past the end is caught.
            char *name = malloc(caps[k]);
            if (name == NULL)
                abort();
            if (!cf_os_jit_frame(pcs[i], name, caps[k]))
                abort(); // the mapping is anonymous and executable: always JIT
            if (memchr(name, '\0', caps[k]) == NULL)
                abort(); // the name always ends within the buffer
            free(name);
        }
    }
    unlink(map_path);
    return 0;
}
