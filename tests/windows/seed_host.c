// SPDX-License-Identifier: MIT
// The host side of the seed example on Windows, doing what the Dart VM and
// package:ffi do: open the native library and ole32.dll by name, look the
// functions up with GetProcAddress, read the commands, free with
// CoTaskMemFree. argv[1] names the library (the buggy or the fixed build).
//
// EXPECT[buggy]: alloc-dealloc-mismatch
// EXPECT-WORDS[buggy]: allocated by operator new[], freed by CoTaskMemFree
// EXPECT-TEXT[buggy]: is a 160-byte region allocated by operator new[] in thread T0 here:
// EXPECT-ALLOC-FRAME[buggy]: get_ui_command
// EXPECT-ALLOC-MODULE[buggy]: ui_command\.dll$
// EXPECT-FREE-FRAME[buggy]: #0 main
// EXPECT[fixed]: clean
// EXPECT-STDOUT: command 0: data=0 f=0.1
// EXPECT-STDOUT: command 9: data=9 f=9.1
// EXPECT-STDOUT[fixed]: freed
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <windows.h>

typedef struct NativeUICommand {
    int64_t data;
    double f;
} NativeUICommand;

typedef void *(*get_ui_command_fn)(uint32_t *);
typedef void(WINAPI *co_task_mem_free_fn)(void *);
typedef void *(WINAPI *co_task_mem_alloc_fn)(size_t);

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    HMODULE lib = LoadLibraryA(argv[1]);       // DynamicLibrary.open(...)
    HMODULE ole32 = LoadLibraryA("ole32.dll"); // package:ffi's allocator
    if (lib == NULL || ole32 == NULL) {
        printf("cannot load %s\n", argv[1]);
        return 3;
    }
    get_ui_command_fn get_ui_command =
        (get_ui_command_fn)(uintptr_t)GetProcAddress(lib, "get_ui_command");
    co_task_mem_free_fn win_free =
        (co_task_mem_free_fn)(uintptr_t)GetProcAddress(ole32, "CoTaskMemFree");
    co_task_mem_alloc_fn win_alloc =
        (co_task_mem_alloc_fn)(uintptr_t)GetProcAddress(ole32, "CoTaskMemAlloc");

    uint32_t *length = win_alloc(sizeof *length); // calloc<Uint32>()
    NativeUICommand *commands = get_ui_command(length);
    for (uint32_t i = 0; i < *length; i++)
        printf("command %" PRIu32 ": data=%" PRId64 " f=%.1f\n", i, commands[i].data,
               commands[i].f);
    fflush(stdout);
    win_free(commands); // calloc.free(nativeUICommands)
    win_free(length);
    printf("freed\n");
    return 0;
}
