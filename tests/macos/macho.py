# SPDX-License-Identifier: MIT
# A small reader for 64-bit little-endian Mach-O dylibs and executables,
# written for crossfree's macOS checks: header, load commands, sections,
# string literals, symbol table, the classic dyld info (rebase and bind
# opcodes, export trie). It reads only; it never guesses: anything it does
# not understand raises MachOError.
import struct

MH_MAGIC_64 = 0xFEEDFACF
MH_EXECUTE = 2
MH_DYLIB = 6
MH_DYLDLINK = 0x4
MH_TWOLEVEL = 0x80
MH_PIE = 0x200000
MH_HAS_TLV_DESCRIPTORS = 0x800000

CPU_TYPE_X86_64 = 0x01000007
CPU_TYPE_ARM64 = 0x0100000C
CPU_SUBTYPE_MASK = 0x00FFFFFF
CPU_SUBTYPE_X86_64_ALL = 3
CPU_SUBTYPE_ARM64_ALL = 0
CPU_SUBTYPE_ARM64E = 2

LC_REQ_DYLD = 0x80000000
LC_SYMTAB = 0x2
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_SEGMENT_64 = 0x19
LC_CODE_SIGNATURE = 0x1D
LC_LAZY_LOAD_DYLIB = 0x20
LC_DYLD_INFO = 0x22
LC_DYLD_INFO_ONLY = 0x22 | LC_REQ_DYLD
LC_LOAD_WEAK_DYLIB = 0x18 | LC_REQ_DYLD
LC_REEXPORT_DYLIB = 0x1F | LC_REQ_DYLD
LC_LOAD_UPWARD_DYLIB = 0x23 | LC_REQ_DYLD
LC_BUILD_VERSION = 0x32
LC_DYLD_EXPORTS_TRIE = 0x33 | LC_REQ_DYLD
LC_DYLD_CHAINED_FIXUPS = 0x34 | LC_REQ_DYLD
DYLIB_COMMANDS = (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LAZY_LOAD_DYLIB,
                  LC_LOAD_UPWARD_DYLIB)

PLATFORM_MACOS = 1

SECTION_TYPE = 0xFF
S_INTERPOSING = 0x0D
S_THREAD_LOCAL_REGULAR = 0x11
S_THREAD_LOCAL_ZEROFILL = 0x12
S_THREAD_LOCAL_VARIABLES = 0x13

N_STAB = 0xE0
N_TYPE = 0x0E
N_EXT = 0x01
N_UNDF = 0x0
N_SECT = 0xE

BIND_SYMBOL_FLAGS_WEAK_IMPORT = 0x1
EXPORT_SYMBOL_FLAGS_REEXPORT = 0x08
EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER = 0x10


class MachOError(Exception):
    pass


def _cstr(raw):
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _uleb(data, i):
    value = shift = 0
    while True:
        if i >= len(data):
            raise MachOError("truncated ULEB128")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _sleb(data, i):
    value = shift = 0
    while True:
        if i >= len(data):
            raise MachOError("truncated SLEB128")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                value -= 1 << shift
            return value, i


class Section:
    def __init__(self, raw):
        (sect, seg, self.addr, self.size, self.offset, self.align, _reloff, _nreloc,
         self.flags, _r1, _r2, _r3) = struct.unpack_from("<16s16sQQIIIIIIII", raw)
        self.sectname = _cstr(sect)
        self.segname = _cstr(seg)

    @property
    def type(self):
        return self.flags & SECTION_TYPE


class Segment:
    def __init__(self, data, off):
        (_cmd, _size, name, self.vmaddr, self.vmsize, self.fileoff, self.filesize,
         self.maxprot, self.initprot, nsects, _flags) = struct.unpack_from(
             "<II16sQQQQiiII", data, off)
        self.name = _cstr(name)
        base = off + 72
        self.sections = [Section(data[base + 80 * i:base + 80 * (i + 1)]) for i in range(nsects)]


class Symbol:
    def __init__(self, name, n_type, n_sect, n_desc, n_value):
        self.name = name
        self.n_type = n_type
        self.n_sect = n_sect
        self.n_desc = n_desc
        self.value = n_value

    @property
    def external(self):
        return bool(self.n_type & N_EXT)

    @property
    def defined(self):
        return (self.n_type & N_STAB) == 0 and (self.n_type & N_TYPE) == N_SECT


class Bind:
    def __init__(self, address, ordinal, symbol, weak, addend):
        self.address = address
        self.ordinal = ordinal
        self.symbol = symbol
        self.weak = weak
        self.addend = addend


class MachO:
    """A parsed Mach-O image. All addresses are unslid vm addresses."""

    def __init__(self, data):
        self.data = data
        if len(data) < 32:
            raise MachOError("file too short for a Mach-O header")
        (magic, self.cputype, self.cpusubtype, self.filetype, ncmds, sizeofcmds, self.flags,
         _reserved) = struct.unpack_from("<IiiIIIII", data, 0)
        if magic != MH_MAGIC_64:
            raise MachOError(f"not a 64-bit little-endian Mach-O file (magic {magic:#x})")
        self.commands = []  # (cmd, offset, size)
        self.segments = []
        self.dylibs = []  # load order gives the bind ordinals, from 1
        self.id_dylib = None
        self.build_version = None  # (platform, minos, sdk)
        self.dyld_info = None
        self.symtab = None
        off = 32
        for _ in range(ncmds):
            cmd, size = struct.unpack_from("<II", data, off)
            if size < 8 or off + size > 32 + sizeofcmds:
                raise MachOError(f"malformed load command {cmd:#x} at {off:#x}")
            self.commands.append((cmd, off, size))
            if cmd == LC_SEGMENT_64:
                self.segments.append(Segment(data, off))
            elif cmd in DYLIB_COMMANDS:
                name_off = struct.unpack_from("<I", data, off + 8)[0]
                self.dylibs.append((cmd, _cstr(data[off + name_off:off + size])))
            elif cmd == LC_ID_DYLIB:
                name_off = struct.unpack_from("<I", data, off + 8)[0]
                self.id_dylib = _cstr(data[off + name_off:off + size])
            elif cmd == LC_BUILD_VERSION:
                self.build_version = struct.unpack_from("<III", data, off + 8)
            elif cmd in (LC_DYLD_INFO, LC_DYLD_INFO_ONLY):
                self.dyld_info = struct.unpack_from("<10I", data, off + 8)
            elif cmd == LC_SYMTAB:
                self.symtab = struct.unpack_from("<4I", data, off + 8)
            off += size
        self.symbols = self._read_symbols()

    # -- structure ----------------------------------------------------------

    def has_command(self, cmd):
        return any(c == cmd for c, _, _ in self.commands)

    def sections(self):
        for seg in self.segments:
            yield from seg.sections

    def section(self, segname, sectname):
        for s in self.sections():
            if s.segname == segname and s.sectname == sectname:
                return s
        return None

    def section_at(self, addr):
        for s in self.sections():
            if s.addr <= addr < s.addr + s.size:
                return s
        return None

    def cstrings(self):
        """The NUL-terminated strings of __TEXT,__cstring (string literals), in order."""
        sect = self.section("__TEXT", "__cstring")
        if sect is None:
            return []
        raw = self.data[sect.offset:sect.offset + sect.size]
        if len(raw) != sect.size:
            raise MachOError("__TEXT,__cstring runs past the end of the file")
        return [b.decode("utf-8", "replace") for b in raw.split(b"\0")[:-1]]

    def read_u64(self, addr):
        for seg in self.segments:
            if seg.vmaddr <= addr and addr + 8 <= seg.vmaddr + seg.filesize:
                return struct.unpack_from("<Q", self.data, seg.fileoff + addr - seg.vmaddr)[0]
        raise MachOError(f"address {addr:#x} is not backed by the file")

    @staticmethod
    def version_text(v):
        return f"{v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF}"

    # -- symbols ------------------------------------------------------------

    def _read_symbols(self):
        if self.symtab is None:
            return []
        symoff, nsyms, stroff, strsize = self.symtab
        strings = self.data[stroff:stroff + strsize]
        out = []
        for i in range(nsyms):
            strx, n_type, n_sect, n_desc, n_value = struct.unpack_from(
                "<IBBHQ", self.data, symoff + 16 * i)
            out.append(Symbol(_cstr(strings[strx:]), n_type, n_sect, n_desc, n_value))
        return out

    def defined_symbols_at(self, addr):
        return [s for s in self.symbols if s.defined and s.value == addr]

    def section_of_symbol(self, sym):
        flat = list(self.sections())
        if 1 <= sym.n_sect <= len(flat):
            return flat[sym.n_sect - 1]
        return None

    # -- dyld info: rebases, binds, exports -----------------------------------

    def _require_dyld_info(self):
        if self.has_command(LC_DYLD_CHAINED_FIXUPS):
            raise MachOError("the image uses chained fixups, which this reader does not parse")
        if self.dyld_info is None:
            raise MachOError("no LC_DYLD_INFO(_ONLY) load command")
        return self.dyld_info

    def rebases(self):
        """Addresses of every pointer dyld slides."""
        info = self._require_dyld_info()
        data = self.data[info[0]:info[0] + info[1]]
        out = []
        i = seg = offset = 0
        while i < len(data):
            op, imm = data[i] & 0xF0, data[i] & 0x0F
            i += 1
            if op == 0x00:  # DONE
                break
            elif op == 0x10:  # SET_TYPE_IMM
                pass
            elif op == 0x20:  # SET_SEGMENT_AND_OFFSET_ULEB
                seg = imm
                offset, i = _uleb(data, i)
            elif op == 0x30:  # ADD_ADDR_ULEB
                v, i = _uleb(data, i)
                offset += v
            elif op == 0x40:  # ADD_ADDR_IMM_SCALED
                offset += imm * 8
            elif op in (0x50, 0x60):  # DO_REBASE_IMM_TIMES, DO_REBASE_ULEB_TIMES
                count = imm
                if op == 0x60:
                    count, i = _uleb(data, i)
                for _ in range(count):
                    out.append(self.segments[seg].vmaddr + offset)
                    offset += 8
            elif op == 0x70:  # DO_REBASE_ADD_ADDR_ULEB
                out.append(self.segments[seg].vmaddr + offset)
                v, i = _uleb(data, i)
                offset += v + 8
            elif op == 0x80:  # DO_REBASE_ULEB_TIMES_SKIPPING_ULEB
                count, i = _uleb(data, i)
                skip, i = _uleb(data, i)
                for _ in range(count):
                    out.append(self.segments[seg].vmaddr + offset)
                    offset += skip + 8
            else:
                raise MachOError(f"unknown rebase opcode {op:#x}")
        return out

    def _binds(self, off, size, lazy):
        data = self.data[off:off + size]
        out = []
        i = seg = offset = ordinal = addend = flags = 0
        symbol = ""
        while i < len(data):
            op, imm = data[i] & 0xF0, data[i] & 0x0F
            i += 1
            if op == 0x00:  # DONE (in the lazy table: end of one entry)
                if lazy:
                    continue
                break
            elif op == 0x10:  # SET_DYLIB_ORDINAL_IMM
                ordinal = imm
            elif op == 0x20:  # SET_DYLIB_ORDINAL_ULEB
                ordinal, i = _uleb(data, i)
            elif op == 0x30:  # SET_DYLIB_SPECIAL_IMM
                ordinal = imm - 16 if imm else 0
            elif op == 0x40:  # SET_SYMBOL_TRAILING_FLAGS_IMM
                flags = imm
                end = data.index(b"\0", i)
                symbol = data[i:end].decode("utf-8", "replace")
                i = end + 1
            elif op == 0x50:  # SET_TYPE_IMM
                pass
            elif op == 0x60:  # SET_ADDEND_SLEB
                addend, i = _sleb(data, i)
            elif op == 0x70:  # SET_SEGMENT_AND_OFFSET_ULEB
                seg = imm
                offset, i = _uleb(data, i)
            elif op == 0x80:  # ADD_ADDR_ULEB
                v, i = _uleb(data, i)
                offset = (offset + v) & 0xFFFFFFFFFFFFFFFF
            elif op in (0x90, 0xA0, 0xB0):  # DO_BIND, ..._ADD_ADDR_ULEB, ..._IMM_SCALED
                out.append(Bind(self.segments[seg].vmaddr + offset, ordinal, symbol,
                                bool(flags & BIND_SYMBOL_FLAGS_WEAK_IMPORT), addend))
                offset += 8
                if op == 0xA0:
                    v, i = _uleb(data, i)
                    offset = (offset + v) & 0xFFFFFFFFFFFFFFFF
                elif op == 0xB0:
                    offset += imm * 8
            elif op == 0xC0:  # DO_BIND_ULEB_TIMES_SKIPPING_ULEB
                count, i = _uleb(data, i)
                skip, i = _uleb(data, i)
                for _ in range(count):
                    out.append(Bind(self.segments[seg].vmaddr + offset, ordinal, symbol,
                                    bool(flags & BIND_SYMBOL_FLAGS_WEAK_IMPORT), addend))
                    offset += skip + 8
            else:
                raise MachOError(f"unknown bind opcode {op:#x}")
        return out

    def binds(self):
        """Non-lazy binds (the tuples' replacees are among them)."""
        info = self._require_dyld_info()
        return self._binds(info[2], info[3], lazy=False)

    def lazy_binds(self):
        info = self._require_dyld_info()
        return self._binds(info[6], info[7], lazy=True)

    def dylib_of_ordinal(self, ordinal):
        if 1 <= ordinal <= len(self.dylibs):
            return self.dylibs[ordinal - 1][1]
        return {0: "<self>", -1: "<main executable>", -2: "<flat lookup>",
                -3: "<weak lookup>"}.get(ordinal, f"<ordinal {ordinal}>")

    def exports(self):
        """{name: flags} from the export trie dyld uses to look up symbols."""
        if self.has_command(LC_DYLD_EXPORTS_TRIE):
            for cmd, off, _ in self.commands:
                if cmd == LC_DYLD_EXPORTS_TRIE:
                    trie_off, trie_size = struct.unpack_from("<II", self.data, off + 8)
        else:
            info = self._require_dyld_info()
            trie_off, trie_size = info[8], info[9]
        trie = self.data[trie_off:trie_off + trie_size]
        out = {}
        if not trie:
            return out
        todo = [(0, "")]
        seen = set()
        while todo:
            node, prefix = todo.pop()
            if node in seen or node >= len(trie):
                raise MachOError("malformed export trie")
            seen.add(node)
            terminal, i = _uleb(trie, node)
            children_at = i + terminal
            if terminal:
                flags, _ = _uleb(trie, i)
                out[prefix] = flags
            count = trie[children_at]
            i = children_at + 1
            for _ in range(count):
                end = trie.index(b"\0", i)
                edge = trie[i:end].decode("utf-8", "replace")
                child, i = _uleb(trie, end + 1)
                todo.append((child, prefix + edge))
        return out
