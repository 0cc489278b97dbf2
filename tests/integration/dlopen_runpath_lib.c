// SPDX-License-Identifier: MIT
// The plugin dlopen_runpath.c finds through its RUNPATH.
#include <stdlib.h>
#include <string.h>

int runpath_plugin_answer(void);
char *runpath_plugin_make(void);
void runpath_plugin_release(char *p);

int runpath_plugin_answer(void) { return 42; }

char *runpath_plugin_make(void) {
    char *p = malloc(16);
    if (p != NULL)
        strcpy(p, "from the plugin");
    return p;
}

void runpath_plugin_release(char *p) { free(p); }
