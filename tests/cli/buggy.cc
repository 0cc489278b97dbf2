// SPDX-License-Identifier: MIT
// Small programs with planted allocator bugs for the crossfree command's
// tests, built three times under different names (cf_buggy, cf_tree_app,
// cf_tree_helper) so --only can tell them apart. The first line of output
// names the process and where libcrossfree.so is mapped, if anywhere.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

// Prints "NAME: pid N, libcrossfree: PATH" (or "not mapped"), read from
// /proc/self/maps, so a test can see that LD_PRELOAD reached this process.
static void say_hello(const char *name) {
    char found[4096] = "not mapped";
    FILE *maps = std::fopen("/proc/self/maps", "r");
    char line[4096];
    while (maps != nullptr && std::fgets(line, sizeof line, maps) != nullptr) {
        const char *path = std::strchr(line, '/');
        if (path != nullptr && std::strstr(path, "libcrossfree.so") != nullptr) {
            std::snprintf(found, sizeof found, "%.*s", (int)std::strcspn(path, "\n"), path);
            break;
        }
    }
    if (maps != nullptr)
        std::fclose(maps);
    std::printf("%s: pid %d, libcrossfree: %s\n", name, (int)getpid(), found);
    std::fflush(stdout);
}

// Kept out of line so each bug has its own frame and line.
__attribute__((noinline)) static char *make_array(size_t n) {
    return new char[n]; // @alloc-array
}

__attribute__((noinline)) static void mismatch() {
    char *p = make_array(32);
    std::free(p); // @free-mismatch
}

__attribute__((noinline)) static void double_free() {
    char *p = static_cast<char *>(std::malloc(16)); // @alloc-double
    std::free(p);                                   // @free-first
    std::free(p);                                   // @free-second
}

__attribute__((noinline)) static void invalid_free() {
    char *p = static_cast<char *>(std::malloc(64)); // @alloc-interior
    std::free(p + 8);                               // @free-interior
    std::free(p);
}

// Runs argv[0..] as a child and returns its status the way a shell does.
static int spawn(char **argv) {
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        std::perror(argv[0]);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 126;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    const char *name =
        std::strrchr(argv[0], '/') != nullptr ? std::strrchr(argv[0], '/') + 1 : argv[0];
    say_hello(name);
    const char *mode = argc > 1 ? argv[1] : "mismatch";
    if (std::strcmp(mode, "mismatch") == 0) {
        mismatch();
    } else if (std::strcmp(mode, "double") == 0) {
        double_free();
    } else if (std::strcmp(mode, "all") == 0) {
        mismatch();
        double_free();
        invalid_free();
    } else if (std::strcmp(mode, "spawn") == 0 && argc > 2) {
        // A helper between the launcher and the app: it has the same bug
        // as the app, which crossfree must leave alone under --only app.
        mismatch();
        int status = spawn(argv + 2);
        std::printf("%s: child exited with %d\n", name, status);
        return status;
    } else if (std::strcmp(mode, "clean") != 0) {
        std::fprintf(stderr, "usage: %s mismatch|double|all|clean|spawn PROG [ARG]...\n", name);
        return 2;
    }
    std::printf("%s: %s done\n", name, mode);
    return 0;
}
