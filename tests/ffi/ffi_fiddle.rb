# SPDX-License-Identifier: MIT
# A Ruby host using Fiddle (Ruby's bundled libffi binding) that frees
# libbuffers.so's buffers with free from Fiddle::Handle::DEFAULT (the global
# symbol), from Fiddle.dlopen("libc.so.6") (dlsym on libc's own handle) and
# with Fiddle.free (ruby_xfree, called from fiddle.so). Usage: MODE LIB
#
# SKIP-EXIT: 77
# EXPECT[global-free-new,libc-free-new,fiddle-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[global-free-new,libc-free-new,fiddle-free-new]: SIGABRT
# EXPECT-WORDS[global-free-new,libc-free-new,fiddle-free-new]: allocated by operator new[], freed by free()
# EXPECT-TEXT[global-free-new,libc-free-new,fiddle-free-new]: is a 40-byte region allocated by operator new[] in thread T0 here:
# EXPECT-ALLOC-FRAME[global-free-new,libc-free-new,fiddle-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-ALLOC-MODULE[global-free-new,libc-free-new,fiddle-free-new]: #0 /libbuffers\.so$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new]: #0 /libffi\.so[.0-9]*$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new,fiddle-free-new]: /fiddle\.so$
# EXPECT-FREE-MODULE[fiddle-free-new]: #0 /libruby[^/]*\.so[.0-9]*$
# EXPECT-LINE[global-free-new,libc-free-new]: ^freed from Ruby \(Fiddle via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[global-free-new,libc-free-new]: #0 /libffi\.so[.0-9]*$
# Fiddle.free is Fiddle's own C function (rb_fiddle_free, through ruby_xfree): no libffi.
# EXPECT-LINE[fiddle-free-new]: ^freed from Ruby \(Fiddle\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[fiddle-free-new]: #1 /fiddle\.so$
# EXPECT-STDOUT: sum 285
#
# EXPECT[global-free-malloc,libc-free-malloc,pointer-release-array]: clean
# EXPECT-EXIT[global-free-malloc,libc-free-malloc,pointer-release-array]: 0
# EXPECT-STDOUT[global-free-malloc,libc-free-malloc,pointer-release-array]: freed

begin
  require 'fiddle'
rescue LoadError => e
  puts "SKIP: ruby has no fiddle (it ships with Debian's libruby): #{e.message}"
  exit 77
end

# Unbuffered, so "sum" is on the pipe before a report aborts the process.
$stdout.sync = true
mode, path = ARGV
raise "usage: #{$PROGRAM_NAME} MODE LIB" unless mode && path

lib = Fiddle.dlopen(path)
make_array = Fiddle::Function.new(lib['make_array'], [Fiddle::TYPE_INT], Fiddle::TYPE_VOIDP)
make_malloc = Fiddle::Function.new(lib['make_malloc'], [Fiddle::TYPE_INT], Fiddle::TYPE_VOIDP)
release_array = Fiddle::Function.new(lib['release_array'], [Fiddle::TYPE_VOIDP], Fiddle::TYPE_VOID)

buf = mode.end_with?('malloc') ? make_malloc.call(10) : make_array.call(10)
puts "sum #{buf[0, 40].unpack('l*').sum}"
case mode
when 'pointer-release-array'
  # The idiomatic owner: a Fiddle::Pointer whose free function is the
  # library's own release function, run at garbage collection or, as here,
  # at an explicit #call_free.
  owned = Fiddle::Pointer.new(buf.to_i, 40, release_array)
  owned.call_free
when 'fiddle-free-new'
  Fiddle.free(buf.to_i)
else
  handle = mode.start_with?('global') ? Fiddle::Handle::DEFAULT : Fiddle.dlopen('libc.so.6')
  free = Fiddle::Function.new(handle['free'], [Fiddle::TYPE_VOIDP], Fiddle::TYPE_VOID)
  free.call(buf)
end
puts 'freed'
