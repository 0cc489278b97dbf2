// SPDX-License-Identifier: MIT
// A Java host using JNA (Debian's libjna-java) that frees libbuffers.so's
// buffers with libc's free, reached through the process handle (the global
// symbol), through Native.load("c") (dlsym on libc's own handle) and with
// Native.free, which libjnidispatch tail-calls to free. Usage: FfiJna MODE LIB
//
// Java code runs in the JVM's generated code, so the stacks hold JIT frames
// (`([jit] 0x...)`, never an unknown module); libffi, libjnidispatch and
// libjvm frames are what is checked.
// The Java main thread is not the process's first thread: any T number.
//
// EXPECT[global-free-new,libc-free-new,native-free-new]: alloc-dealloc-mismatch
// EXPECT-EXIT[global-free-new,libc-free-new,native-free-new]: SIGABRT
// EXPECT-WORDS[global-free-new,libc-free-new,native-free-new]: allocated by operator new[], freed by free()
// EXPECT-LINE[global-free-new,libc-free-new,native-free-new]: ^0x[0-9a-f]+ is a 40-byte region allocated by operator new\[\] in thread T[0-9]+ \(java, tid [0-9]+\) here:$
// The launcher runs Java's main method in a thread of its own, named "java".
// EXPECT-LINE[global-free-new,libc-free-new,native-free-new]: ^Thread T[0-9]+ \(java, tid [0-9]+\) created by T0 here:$
// EXPECT-ALLOC-FRAME[global-free-new,libc-free-new,native-free-new]: #0 make_array buffers.cc@alloc_array
// EXPECT-ALLOC-MODULE[global-free-new,libc-free-new,native-free-new]: #0 /libbuffers\.so$
// EXPECT-ALLOC-MODULE[global-free-new,libc-free-new,native-free-new]: /libjnidispatch[^/]*\.so$
// EXPECT-FREE-MODULE[global-free-new,libc-free-new]: #0 /libffi\.so[.0-9]*$
// EXPECT-FREE-MODULE[global-free-new,libc-free-new]: /libjnidispatch[^/]*\.so$
// EXPECT-FREE-MODULE[native-free-new]: /libjvm\.so$
// EXPECT-LINE[global-free-new,libc-free-new]: ^freed from Java \(JNA via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
// EXPECT-BOUNDARY-MODULE[global-free-new,libc-free-new]: #0 /libffi\.so[.0-9]*$
// Native.free tail-calls free(): no JNA frame is left, only the JIT code of
// the native method's wrapper and the JVM that runs it.
// EXPECT-LINE[native-free-new]: ^freed from Java \(JVM\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
// EXPECT-BOUNDARY-MODULE[native-free-new]: #0 ^\[jit\]$
// EXPECT-NO-LINE: \(<unknown module>\)
// EXPECT-STDOUT: sum 285
//
// EXPECT[global-free-malloc,libc-free-malloc,native-free-malloc,release-array]: clean
// EXPECT-EXIT[global-free-malloc,libc-free-malloc,native-free-malloc,release-array]: 0
// EXPECT-STDOUT[global-free-malloc,libc-free-malloc,native-free-malloc,release-array]: freed

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

public final class FfiJna {
    public interface Buffers extends Library {
        Pointer make_array(int n);

        Pointer make_malloc(int n);

        void release_array(Pointer a);
    }

    public interface LibC extends Library {
        void free(Pointer p);
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: FfiJna MODE LIB");
            System.exit(2);
        }
        String mode = args[0];
        Buffers lib = Native.load(args[1], Buffers.class);
        Pointer buf = mode.endsWith("malloc") ? lib.make_malloc(10) : lib.make_array(10);
        int sum = 0;
        for (int i = 0; i < 10; i++) {
            sum += buf.getInt(4L * i);
        }
        // System.out flushes at each println, so "sum" is out before a
        // report aborts the process.
        System.out.println("sum " + sum);
        if (mode.equals("release-array")) {
            lib.release_array(buf);
        } else if (mode.startsWith("native-free")) {
            Native.free(Pointer.nativeValue(buf));
        } else if (mode.startsWith("global")) {
            Function free = NativeLibrary.getProcess().getFunction("free");
            free.invokeVoid(new Object[] {buf});
        } else {
            Native.load("c", LibC.class).free(buf);
        }
        System.out.println("freed");
    }
}
