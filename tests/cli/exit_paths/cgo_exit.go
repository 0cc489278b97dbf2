// SPDX-License-Identifier: MIT
// A Go program with cgo: C code frees a block twice, then the Go runtime
// exits through the raw exit_group system call, past every C exit
// handler. Under `crossfree run -o halt_on_error=0` the run must still
// exit with crossfree's exitcode.
package main

/*
#include <stdlib.h>
static void free_twice(void) {
    char *volatile p = malloc(16);
    free(p);
    free(p);
}
*/
import "C"

import (
	"fmt"
	"os"
)

func main() {
	C.free_twice()
	fmt.Println("go: done")
	os.Exit(0)
}
