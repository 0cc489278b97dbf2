// SPDX-License-Identifier: MIT
// Fuzzes the offline symbolizer (`crossfree symbolize`, and a separate
// debug file found on disk) on damaged ELF and DWARF: the input is written
// as a file and symbolized at a few offsets, its entry point among them.
// The seeds are small real executables with debug info, which libFuzzer
// truncates and corrupts (offsets, counts, sizes).
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "platform/platform.h"
#include "stack/symbolize.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "/tmp/crossfree-fuzz-elf-%d", (int)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    close(fd);
    uintptr_t offsets[] = {0, 0x1000, 0x1139, 0x1150, 0x2000};
    if (size >= 32) {
        uint64_t entry;
        memcpy(&entry, data + 24, sizeof entry);
        offsets[0] = (uintptr_t)entry + 1;
    }
    // Each input is a new file at the same path: forget the last one.
    cf_symbolize_reset();
    static cf_frame_info info;
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        if (cf_symbolize_file(path, offsets[i], &info)) {
            if (memchr(info.function, '\0', sizeof info.function) == NULL ||
                memchr(info.file, '\0', sizeof info.file) == NULL || info.n_inlined > CF_INLINE_MAX)
                abort();
        }
    }
    unlink(path);
    return 0;
}
