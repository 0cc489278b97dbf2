// SPDX-License-Identifier: MIT
// Reports that must not be lost (run with halt_on_error=0 and a log_path):
// `log_faults MODE` makes the mismatch in first_mismatch(), then
//   kill     SIGKILLs itself            exit    calls _exit(3)
//   crash    dereferences NULL          full    hits RLIMIT_FSIZE (disk full)
//   removed  removes its log directory ($CF_TEST_LOG_DIR) and makes a
//            second mismatch in second_mismatch()
// ("full" sets a 300-byte file size limit first, so the first report
// cannot fit in the log). The test reads the log and stderr afterwards.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#define NI __attribute__((noinline))

// Through a volatile: the compiler may not pair (and drop) new[] and free.
static void *volatile block;

NI static void first_mismatch() {
    block = new char[32];
    std::free(block);
    asm volatile("" ::: "memory"); // not a tail call: this frame stays on the stack
}

NI static void second_mismatch() {
    block = new int[16]; // not the size above: the two functions must not be folded into one
    std::free(block);
    asm volatile("" ::: "memory"); // not a tail call: this frame stays on the stack
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d == nullptr)
        return;
    while (dirent *e = readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
            unlink((std::string(dir) + "/" + e->d_name).c_str());
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (std::strcmp(mode, "full") == 0) {
        std::signal(SIGXFSZ, SIG_IGN); // write() then fails with EFBIG
        rlimit rl = {300, 300};
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    first_mismatch();
    std::fprintf(stderr, "log_faults: after the first report\n");
    if (std::strcmp(mode, "kill") == 0)
        raise(SIGKILL);
    if (std::strcmp(mode, "exit") == 0)
        _exit(3);
    if (std::strcmp(mode, "crash") == 0) {
        volatile int *null = nullptr;
        return *null;
    }
    if (std::strcmp(mode, "removed") == 0) {
        const char *dir = std::getenv("CF_TEST_LOG_DIR");
        if (dir == nullptr)
            return 2;
        remove_dir(dir);
        second_mismatch();
    }
    if (std::strcmp(mode, "full") == 0)
        second_mismatch();
    std::fprintf(stderr, "log_faults: done\n");
    return 0;
}
