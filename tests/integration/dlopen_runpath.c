// SPDX-License-Identifier: MIT
// crossfree exports dlopen and dlmopen (to make its unwinders forget what
// they cached before a module loads). Both must still act for their real
// caller: this program finds its plugin by bare name through its own
// RUNPATH ($ORIGIN), which glibc reads from the object that called dlopen.
// Were the caller crossfree, the plugin would not be found.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: dlopen: plugin says 42
// EXPECT-STDOUT: dlmopen: plugin says 42
// An empty LD_LIBRARY_PATH from the start: under qemu-user (the aarch64
// suite) the re-exec below fails with ENOEXEC, as the host kernel is what
// executes /proc/self/exe.
// ENV: LD_LIBRARY_PATH=
// clang-format on

static int call(void *h, const char *how) {
    if (h == NULL) {
        printf("%s failed: %s\n", how, dlerror());
        return 1;
    }
    int (*answer)(void) = (int (*)(void))dlsym(h, "runpath_plugin_answer");
    char *(*make)(void) = (char *(*)(void))dlsym(h, "runpath_plugin_make");
    void (*release)(char *) = (void (*)(char *))dlsym(h, "runpath_plugin_release");
    if (answer == NULL || make == NULL || release == NULL) {
        printf("%s: symbols missing\n", how);
        return 1;
    }
    // The plugin releases its own block: under dlmopen it has a C library
    // (and a heap) of its own, which this program's free() must not get.
    release(make());
    printf("%s: plugin says %d\n", how, answer());
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    // Only the RUNPATH may lead to the plugin: a test harness that sets
    // LD_LIBRARY_PATH to the build directory would hide a lost caller.
    // The loader reads it at start-up, so start again without it.
    const char *libpath = getenv("LD_LIBRARY_PATH");
    if (libpath != NULL && *libpath != '\0') {
        unsetenv("LD_LIBRARY_PATH");
        execv("/proc/self/exe", argv);
        perror("execv");
        return 2;
    }
    int bad = call(dlopen("libcf_runpath_plugin.so", RTLD_NOW), "dlopen");
    bad += call(dlmopen(LM_ID_NEWLM, "libcf_runpath_plugin.so", RTLD_NOW), "dlmopen");
    return bad;
}
