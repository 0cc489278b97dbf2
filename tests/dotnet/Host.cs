// SPDX-License-Identifier: MIT
// A C# program (Mono from Debian: mono-runtime, mono-mcs) calling
// libmono_strings.so through P/Invoke. The test's mode is
// SEMANTICS-ACTION; the action is the part after the first '-':
//   new       a returned `string` made with new[]: the marshaller frees it
//             with free() on Linux (a mismatch there already)
//   malloc    a returned `string` made with malloc: clean on Linux, but
//             .NET's marshaller frees it with CoTaskMemFree on Windows
//   release   the correct pattern: IntPtr, then the library's release_string
//   hglobal   Marshal.FreeHGlobal (LocalFree on Windows) of a malloc block
//   hpair     Marshal.AllocHGlobal, then Marshal.FreeHGlobal: clean
//   hnative   Marshal.AllocHGlobal, released by the library's free()
//   bstr      (Windows) a BSTR returned as [MarshalAs(UnmanagedType.BStr)]
//   notbstr   (Windows) a hand-made BSTR in a CoTaskMem block, returned
//             the same way
// The lines below are tests/integration/runner.py's directives.
//
// EXPECT[linux-new,windows-new,windows-malloc,windows-hglobal,windows-hnative]: alloc-dealloc-mismatch
// EXPECT[linux-malloc,linux-release,linux-hglobal,linux-hpair,windows-release,windows-hpair]: clean
// OPTIONS[windows-new,windows-malloc,windows-release,windows-hglobal,windows-hpair,windows-hnative]: semantics=windows:host=dotnet
// Mono writes its perf map only with --jitmap: the managed methods get names.
// ENV: MONO_ENV_OPTIONS=--jitmap
// ENV: MONO_DEBUG=no-gdb-backtrace
// CLEANUP: /tmp/perf-%pid.map
//
// EXPECT-WORDS[linux-new,windows-new]: allocated by operator new[], freed by free()
// EXPECT-ALLOC-FRAME[linux-new,windows-new]: #0 make_new_string strings.cc@alloc_new
// EXPECT-TEXT[linux-new,windows-new,windows-malloc,windows-hglobal]: freed from .NET (Mono marshaller) (frame #0)
// EXPECT-FREE-JIT-FRAME[linux-new,windows-new,windows-malloc]: __icall_wrapper_mono_marshal_free
// EXPECT-TEXT[windows-new]: Linux: mismatch (operator new[] freed by free()); on Windows this block comes from operator new[] on the CRT heap of libmono_strings.so and is freed by .NET's marshaller with CoTaskMemFree: that crashes there too.
// EXPECT-TEXT[windows-malloc]: Linux: works here (malloc() freed by free()); on Windows this block comes from the CRT heap of libmono_strings.so (malloc) and is freed by .NET's marshaller with CoTaskMemFree: that crashes there.
// EXPECT-LINE[windows-malloc]: ^HINT: on Windows \.NET's marshaller frees a returned string or array with CoTaskMemFree: return it as IntPtr and free it with a release function exported from libmono_strings\.so
// EXPECT-ALLOC-FRAME[windows-malloc,windows-hglobal]: #0 make_malloc_string strings.cc@alloc_malloc
// EXPECT-FREE-JIT-FRAME[windows-hglobal]: Marshal:FreeHGlobal
// EXPECT-TEXT[windows-hglobal]: Linux: works here (malloc() freed by free()); on Windows this block comes from the CRT heap of libmono_strings.so (malloc) and is freed by Marshal.FreeHGlobal with LocalFree: that crashes there.
// EXPECT-LINE[windows-hglobal]: ^HINT: on Windows Marshal\.FreeHGlobal is LocalFree
// EXPECT-FREE-FRAME[windows-hnative]: #0 release_string strings.cc@release
// EXPECT-TEXT[windows-hnative]: on Windows this block comes from Marshal.AllocHGlobal (LocalAlloc) and is freed by libmono_strings.so with free() on the shared CRT heap: that crashes there.
// EXPECT-LINE[windows-hnative]: ^HINT: on Windows this block comes from LocalAlloc \(Marshal\.AllocHGlobal\): release it with Marshal\.FreeHGlobal
//
// The same program on .NET for Windows (CoreCLR 3.1 from PyPI's dotnetcore2
// wheel) under Wine: tests/windows/run_wine_dotnet.py, modes wine_ACTION,
// whose lines are read as run_wine_tests.py reads a Windows test's.
// EXPECT[wine_new,wine_malloc,wine_hglobal,wine_hnative]: alloc-dealloc-mismatch
// EXPECT[wine_release,wine_hpair,wine_bstr]: clean
// A hand-made BSTR (length and text in a CoTaskMemAlloc block) declared as
// a BSTR return: the marshaller's SysFreeString gets a pointer 4 bytes in.
// EXPECT[wine_notbstr]: invalid-free
// EXPECT-WORDS[wine_notbstr]: SysFreeString on an address that no tracked allocator handed out: 4 bytes inside a 38-byte region allocated by CoTaskMemAlloc
// EXPECT-TEXT[wine_notbstr]: [host boundary: .NET (CoreCLR marshaller)]
// EXPECT-ALLOC-FRAME[wine_notbstr]: make_cotaskmem_wstring
// EXPECT-WORDS[wine_new]: allocated by operator new[], freed by CoTaskMemFree
// EXPECT-WORDS[wine_malloc]: allocated by malloc (msvcrt.dll), freed by CoTaskMemFree
// EXPECT-WORDS[wine_hglobal]: allocated by malloc (msvcrt.dll), freed by LocalFree
// EXPECT-WORDS[wine_hnative]: allocated by LocalAlloc, freed by free (msvcrt.dll)
// EXPECT-TEXT[wine_new,wine_malloc,wine_hglobal]: freed from .NET (CoreCLR marshaller) (frame #0)
// EXPECT-ALLOC-FRAME[wine_new]: make_new_string
// EXPECT-ALLOC-FRAME[wine_malloc,wine_hglobal]: make_malloc_string
// EXPECT-FREE-FRAME[wine_hnative]: release_string
using System;
using System.Runtime.InteropServices;

class Host {
    // Mono finds libmono_strings.so beside Host.exe.
    const string Lib = "mono_strings";

    [DllImport(Lib)] static extern string make_new_string();
    [DllImport(Lib)] static extern string make_malloc_string();
    [DllImport(Lib, EntryPoint = "make_malloc_string")] static extern IntPtr make_malloc_ptr();
    [DllImport(Lib)] static extern void release_string(IntPtr s);
    // Windows only (strings.cc's _WIN32 part): BSTR returns.
    [DllImport(Lib)] [return: MarshalAs(UnmanagedType.BStr)] static extern string make_bstr();
    [DllImport(Lib, EntryPoint = "make_cotaskmem_wstring")]
    [return: MarshalAs(UnmanagedType.BStr)] static extern string make_cotaskmem_as_bstr();

    static int Main(string[] args) {
        string mode = args.Length > 0 ? args[0] : "";
        string action = mode.Substring(mode.IndexOfAny(new[] { '-', '_' }) + 1);
        switch (action) {
        case "new":
            Console.WriteLine(make_new_string());
            break;
        case "malloc":
            Console.WriteLine(make_malloc_string());
            break;
        case "release": {
            IntPtr s = make_malloc_ptr();
            Console.WriteLine(Marshal.PtrToStringAnsi(s));
            release_string(s);
            break;
        }
        case "hglobal": {
            IntPtr s = make_malloc_ptr();
            Console.WriteLine(Marshal.PtrToStringAnsi(s));
            Marshal.FreeHGlobal(s);
            break;
        }
        case "hpair": {
            IntPtr s = Marshal.AllocHGlobal(32);
            Marshal.WriteByte(s, 0);
            Marshal.FreeHGlobal(s);
            break;
        }
        case "hnative": {
            IntPtr s = Marshal.AllocHGlobal(32);
            Marshal.WriteByte(s, 0);
            release_string(s);
            break;
        }
        case "bstr":
            Console.WriteLine(make_bstr());
            break;
        case "notbstr":
            Console.WriteLine(make_cotaskmem_as_bstr());
            break;
        default:
            Console.Error.WriteLine("unknown mode " + mode);
            return 2;
        }
        return 0;
    }
}
