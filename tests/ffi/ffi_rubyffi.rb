# SPDX-License-Identifier: MIT
# A Ruby host using the ffi gem (Debian's ruby-ffi) that frees libbuffers.so's
# buffers with libc's free, attached from FFI::CURRENT_PROCESS (the global
# symbol), from FFI::Library::LIBC (dlsym on libc's own handle) and as an
# FFI::AutoPointer releaser. Exits 77 (skip) without the gem. Usage: MODE LIB
#
# SKIP-EXIT: 77
# EXPECT[global-free-new,libc-free-new,autopointer-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[global-free-new,libc-free-new,autopointer-free-new]: SIGABRT
# EXPECT-WORDS[global-free-new,libc-free-new,autopointer-free-new]: allocated by operator new[], freed by free()
# EXPECT-TEXT[global-free-new,libc-free-new,autopointer-free-new]: is a 40-byte region allocated by operator new[] in thread T0 here:
# EXPECT-ALLOC-FRAME[global-free-new,libc-free-new,autopointer-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-ALLOC-MODULE[global-free-new,libc-free-new,autopointer-free-new]: #0 /libbuffers\.so$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new,autopointer-free-new]: #0 /libffi\.so[.0-9]*$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new,autopointer-free-new]: /ffi_c\.so$
# EXPECT-LINE[global-free-new,libc-free-new,autopointer-free-new]: ^freed from Ruby \(ffi gem via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[global-free-new,libc-free-new,autopointer-free-new]: #0 /libffi\.so[.0-9]*$
# EXPECT-STDOUT: sum 285
#
# EXPECT[global-free-malloc,libc-free-malloc,autopointer-release-array]: clean
# EXPECT-EXIT[global-free-malloc,libc-free-malloc,autopointer-release-array]: 0
# EXPECT-STDOUT[global-free-malloc,libc-free-malloc,autopointer-release-array]: freed

begin
  require 'ffi'
rescue LoadError => e
  puts "SKIP: ruby has no ffi gem (apt-get install ruby-ffi): #{e.message}"
  exit 77
end

# Unbuffered, so "sum" is on the pipe before a report aborts the process.
$stdout.sync = true
mode, path = ARGV

module Buffers
  extend FFI::Library
  ffi_lib ARGV[1]
  attach_function :make_array, [:int], :pointer
  attach_function :make_malloc, [:int], :pointer
  attach_function :release_array, [:pointer], :void
end

module GlobalC
  extend FFI::Library
  ffi_lib FFI::CURRENT_PROCESS
  attach_function :free, [:pointer], :void
end

module LibC
  extend FFI::Library
  ffi_lib FFI::Library::LIBC
  attach_function :free, [:pointer], :void
end

raise "usage: #{$PROGRAM_NAME} MODE LIB" unless mode && path

if mode.start_with?('autopointer-')
  # The idiomatic owner of a foreign pointer: the releaser runs at garbage
  # collection or, as here, at an explicit #free. LibC.free is wrong for a
  # new[] buffer; release_array is right.
  releaser = mode == 'autopointer-release-array' ? Buffers.method(:release_array) : LibC.method(:free)
  buf = FFI::AutoPointer.new(Buffers.make_array(10), releaser)
  puts "sum #{buf.read_array_of_int(10).sum}"
  buf.free
else
  libc = mode.start_with?('global') ? GlobalC : LibC
  buf = mode.end_with?('malloc') ? Buffers.make_malloc(10) : Buffers.make_array(10)
  puts "sum #{buf.read_array_of_int(10).sum}"
  libc.free(buf)
end
puts 'freed'
