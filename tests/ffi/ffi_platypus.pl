# SPDX-License-Identifier: MIT
# A Perl host using FFI::Platypus (Debian's libffi-platypus-perl), which calls
# C through libffi: it frees libbuffers.so's buffers with libc's free, found
# in the process (lib undef). `double-free` frees a malloc buffer twice: the
# first free's stack, which a release from libffi keeps past libffi, reaches
# Platypus.so. Exits 77 (skip) without the module. Usage: MODE LIB
#
# SKIP-EXIT: 77
# EXPECT[global-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[global-free-new]: SIGABRT
# EXPECT-WORDS[global-free-new]: allocated by operator new[], freed by free()
# EXPECT-ALLOC-FRAME[global-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-FREE-MODULE[global-free-new]: #0 /libffi\.so[.0-9]*$
# EXPECT-FREE-MODULE[global-free-new]: /Platypus\.so$
# EXPECT-LINE[global-free-new]: ^freed from Perl \(FFI::Platypus via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[global-free-new]: #0 /libffi\.so[.0-9]*$
# EXPECT-STDOUT[global-free-new]: sum 285
#
# EXPECT[double-free]: double-free
# EXPECT-EXIT[double-free]: SIGABRT
# EXPECT-WORDS[double-free]: freed twice: first by free(), now by free()
# EXPECT-FIRST-FREE-MODULE[double-free]: #0 /libffi\.so[.0-9]*$
# EXPECT-FIRST-FREE-MODULE[double-free]: /Platypus\.so$
# EXPECT-FREE-MODULE[double-free]: /Platypus\.so$
#
# EXPECT[global-free-malloc,release-array]: clean
# EXPECT-EXIT[global-free-malloc,release-array]: 0
# EXPECT-STDOUT[global-free-malloc,release-array]: freed
use strict;
use warnings;

BEGIN {
    unless (eval { require FFI::Platypus; 1 }) {
        print "SKIP: perl has no FFI::Platypus (apt-get install libffi-platypus-perl)\n";
        exit 77;
    }
}

$| = 1; # "sum" must be on the pipe before a report aborts the process
my ($mode, $path) = @ARGV;
die "usage: $0 MODE LIB\n" unless defined $path;

my $ffi = FFI::Platypus->new(api => 2);
$ffi->lib($path, undef); # libbuffers.so, then the process (libc's free)
my $make_array = $ffi->function(make_array => ['int'] => 'opaque');
my $make_malloc = $ffi->function(make_malloc => ['int'] => 'opaque');
my $release_array = $ffi->function(release_array => ['opaque'] => 'void');
my $free = $ffi->function(free => ['opaque'] => 'void');
my $sum_ints = sub {
    my ($p) = @_;
    my $ints = $ffi->cast('opaque' => 'int[10]', $p);
    my $s = 0;
    $s += $_ for @$ints;
    return $s;
};

if ($mode eq 'global-free-new') {
    my $p = $make_array->call(10);
    print "sum ", $sum_ints->($p), "\n";
    $free->call($p); # wrong: new[] memory
} elsif ($mode eq 'global-free-malloc') {
    $free->call($make_malloc->call(10));
    print "freed\n";
} elsif ($mode eq 'release-array') {
    $release_array->call($make_array->call(10));
    print "freed\n";
} elsif ($mode eq 'double-free') {
    my $p = $make_malloc->call(10);
    $free->call($p);
    $free->call($p); # wrong: freed already
} else {
    die "unknown mode $mode\n";
}
