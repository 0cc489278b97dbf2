// SPDX-License-Identifier: MIT
// What the macOS files share: per-thread state kept without __thread
// (thread_state.c), the start-up steps that must wait until libSystem has
// initialised, and the tracked free the symbolizer needs. Only macOS code
// (src/platform/macos, src/stack/*_macos.c) includes this header.
#ifndef CF_PLATFORM_MACOS_MACOS_H
#define CF_PLATFORM_MACOS_MACOS_H

// Creates the pthread key behind cf_platform_tls. Until it has run, every
// thread shares one state record, which is safe only while the process is
// single-threaded: crossfree's constructor calls it, after libSystem's
// initializer and before the program can start threads.
void cf_macos_threads_start(void);

// Frees p through crossfree's free wrapper, for memory that another library
// allocated for crossfree (its allocation went through the wrappers; a
// plain free() from this image would not). NULL is ignored.
void cf_macos_free(void *p);

// fork handlers of the per-thread state pool (registered next to the
// runtime's).
void cf_macos_threads_fork_prepare(void);
void cf_macos_threads_fork_release(void);

#endif
