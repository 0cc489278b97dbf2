// SPDX-License-Identifier: MIT
// The host side of the seed example, written in C to do exactly what the
// Dart code in the article does on Linux: look `free` up in the process
// (DynamicLibrary.process()), read the commands, then free the buffer.
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ui_command.h"

int main(void) {
    // package:ffi's posixFree: `free` looked up by name in the process.
    void (*posix_free)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "free");

    uint32_t *length = malloc(sizeof *length); // malloc.allocate<Uint32>()
    NativeUICommand *commands = get_ui_command(length);
    for (uint32_t i = 0; i < *length; i++)
        printf("command %" PRIu32 ": data=%" PRId64 " f=%.1f\n", i, commands[i].data,
               commands[i].f);
    fflush(stdout);

    posix_free(commands); /* @host_free */ // malloc.free(nativeUICommands)
    posix_free(length);
    printf("freed\n");
    return 0;
}
