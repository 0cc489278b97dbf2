// SPDX-License-Identifier: MIT
// The C interface of the seed example's native library: one call that hands
// the host a buffer of UI commands, which the host reads and then frees.
// This is the binding a Dart (or any FFI) host would generate from it.
#ifndef SEED_UI_COMMAND_H
#define SEED_UI_COMMAND_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The layout the host reads; matches the C++ UICommand below.
typedef struct NativeUICommand {
    int64_t data;
    double f;
} NativeUICommand;

// Returns *length commands. The host owns the buffer and frees it with
// free() -- which is only right if the library allocated it with malloc.
void *get_ui_command(uint32_t *length);

#ifdef __cplusplus
}
#endif

#endif
