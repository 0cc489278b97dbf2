// SPDX-License-Identifier: MIT
// The "Dart" side of the Windows-semantics stand-in, built as libapp.so,
// the name of the AOT snapshot library that holds a Flutter app's compiled
// Dart code. It behaves like that code where crossfree can tell: malloc and
// free come from dlsym on the global scope (DynamicLibrary.process(), which
// package:ffi's posixMalloc/posixFree use), the plugin's functions from
// dlopen + dlsym (DynamicLibrary.open + lookup), and every call into the
// plugin or the allocator is made from this module.
#include <dlfcn.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct NativeUICommand {
    int64_t data;
    double f;
} NativeUICommand;

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);

#define APP_API __attribute__((visibility("default")))
APP_API int app_main(const char *plugin_path, const char *scenario);

static malloc_fn posix_malloc;
static free_fn posix_free;
static void *plugin;

static void *lookup(const char *name) {
    void *sym = dlsym(plugin, name);
    if (sym == NULL)
        fprintf(stderr, "app: %s: %s\n", name, dlerror());
    return sym;
}

// getUICommand() from the article: read ten commands, malloc.free them.
static int get_ui_commands(void) {
    void *(*get_ui_command)(uint32_t *) = (void *(*)(uint32_t *))lookup("get_ui_command");
    if (get_ui_command == NULL)
        return 2;
    uint32_t *length = posix_malloc(sizeof *length); // malloc.allocate<Uint32>()
    NativeUICommand *commands = get_ui_command(length);
    for (uint32_t i = 0; i < *length; i++)
        printf("command %" PRIu32 ": data=%" PRId64 " f=%.1f\n", i, commands[i].data,
               commands[i].f);
    fflush(stdout);
    posix_free(commands); /* @dart_free_commands */ // malloc.free(nativeUICommands)
    posix_free(length);
    return 0;
}

// A plugin's malloc'd buffer, read and malloc.free'd by Dart.
static int read_buffer(void) {
    int *(*make_buffer)(uint32_t) = (int *(*)(uint32_t))lookup("make_buffer");
    if (make_buffer == NULL)
        return 2;
    int *buffer = make_buffer(10);
    int64_t sum = 0;
    for (int i = 0; i < 10; i++)
        sum += buffer[i];
    printf("buffer sum %" PRId64 "\n", sum);
    fflush(stdout);
    posix_free(buffer); /* @dart_free_buffer */
    return 0;
}

// The same buffer given back to the plugin's own release function: right
// on every platform.
static int release_buffer(void) {
    int *(*make_buffer)(uint32_t) = (int *(*)(uint32_t))lookup("make_buffer");
    void (*release)(int *) = (void (*)(int *))lookup("release_buffer");
    if (make_buffer == NULL || release == NULL)
        return 2;
    release(make_buffer(10));
    printf("released\n");
    return 0;
}

// Dart allocates (malloc.allocate: CoTaskMemAlloc on Windows) and the
// plugin frees with free(): the article's "Crash on Windows" example.
static int plugin_frees(void) {
    int64_t (*consume)(int *, uint32_t) = (int64_t(*)(int *, uint32_t))lookup("consume_buffer");
    if (consume == NULL)
        return 2;
    int *buffer = posix_malloc(10 * sizeof *buffer); /* @dart_malloc_buffer */
    for (int i = 0; i < 10; i++)
        buffer[i] = i;
    printf("consumed %" PRId64 "\n", consume(buffer, 10));
    return 0;
}

// Dart's own memory, allocated and freed by Dart: right everywhere.
static int dart_owned(void) {
    char *text = posix_malloc(32);
    strcpy(text, "owned by Dart");
    printf("%s\n", text);
    posix_free(text);
    return 0;
}

int app_main(const char *plugin_path, const char *scenario) {
    posix_malloc = (malloc_fn)dlsym(RTLD_DEFAULT, "malloc");
    posix_free = (free_fn)dlsym(RTLD_DEFAULT, "free");
    plugin = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    if (plugin == NULL) {
        fprintf(stderr, "app: %s\n", dlerror());
        return 2;
    }
    static const struct {
        const char *name;
        int (*run)(void);
    } scenarios[] = {
        {"ui-command", get_ui_commands}, {"buffer", read_buffer},    {"release", release_buffer},
        {"plugin-frees", plugin_frees},  {"dart-owned", dart_owned},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(scenario, scenarios[i].name) == 0) {
            int rc = scenarios[i].run();
            printf("done\n");
            return rc;
        }
    }
    fprintf(stderr, "app: unknown scenario '%s'\n", scenario);
    return 2;
}
