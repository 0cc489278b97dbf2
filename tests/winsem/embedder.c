// SPDX-License-Identifier: MIT
// The embedder of the Windows-semantics stand-in: the part of a Flutter
// app that is native code (the runner and the engine). Like the engine it
// loads the AOT library, libapp.so, and runs the Dart code in it.
//
//   winsem_embedder LIBAPP PLUGIN SCENARIO
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s LIBAPP PLUGIN SCENARIO\n", argv[0]);
        return 2;
    }
    void *app = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (app == NULL) {
        fprintf(stderr, "embedder: %s\n", dlerror());
        return 2;
    }
    int (*app_main)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(app, "app_main");
    if (app_main == NULL) {
        fprintf(stderr, "embedder: no app_main in %s\n", argv[1]);
        return 2;
    }
    return app_main(argv[2], argv[3]);
}
