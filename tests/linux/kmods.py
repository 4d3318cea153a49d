#!/usr/bin/env python3
"""tests/linux/kmods.py — picks kernel modules and their dependencies out of
an unpacked Debian kernel package, for an initramfs without depmod/modinfo.

  kmods.py MODULES_DIR OUT_DIR NAME...

MODULES_DIR is lib/modules/<release> of the unpacked package (it carries no
modules.dep: depmod runs at install time). Each module's ELF section
.modinfo holds "depends=a,b" (hard dependencies, symbols it imports) and
"softdep=pre: x post: y" (modules it asks for at run time, e.g. ext4's
crc32c): both are followed. OUT_DIR receives NAME.ko for every module of
the closure (xz- or zstd-compressed .ko files are decompressed) and
`load-order`, one module name a line, dependencies first: the order in
which busybox insmod must load them. Python 3 standard library only
(zstd files need the zstd program).
"""
import lzma
import os
import shutil
import struct
import subprocess
import sys


def find_modules(root):
    """Maps module name (dashes as underscores) -> path of its .ko file."""
    found = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            for ext in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
                if f.endswith(ext):
                    found[f[: -len(ext)].replace("-", "_")] = os.path.join(dirpath, f)
    return found


def read_ko(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        import gzip
        return gzip.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
    return data


def modinfo(elf):
    """The key=value strings of the ELF .modinfo section (ELF32 or ELF64,
    little-endian as on x86)."""
    if elf[:4] != b"\x7fELF":
        raise ValueError("not an ELF file")
    is64 = elf[4] == 2
    if is64:
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", elf, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x2E)

    def section(i):
        base = shoff + i * shentsize
        if is64:
            name, _t, _f, _a, off, size = struct.unpack_from("<IIQQQQ", elf, base)
        else:
            name, _t, _f, _a, off, size = struct.unpack_from("<IIIIII", elf, base)
        return name, off, size

    _n, stroff, _s = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = elf.index(b"\0", stroff + name)
        if elf[stroff + name:end] == b".modinfo":
            info = {}
            for item in elf[off:off + size].split(b"\0"):
                if b"=" in item:
                    k, v = item.decode("latin-1").split("=", 1)
                    info.setdefault(k, []).append(v)
            return info
    return {}


def deps_of(info, available):
    out = []
    for d in info.get("depends", []):
        out += [x.replace("-", "_") for x in d.split(",") if x]
    for s in info.get("softdep", []):
        # "pre: crc32c post: foo": soft dependencies name modules or
        # aliases; keep the ones that are module files of this kernel.
        for word in s.split():
            if not word.endswith(":"):
                w = word.replace("-", "_")
                if w in available:
                    out.append(w)
                elif w + "_generic" in available:
                    out.append(w + "_generic")
    return out


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    root, outdir, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
    available = find_modules(root)
    order, state, blobs = [], {}, {}

    def visit(name, chain):
        name = name.replace("-", "_")
        if state.get(name) == "done":
            return
        if state.get(name) == "busy":
            return  # soft dependency cycles: the first one wins
        if name not in available:
            raise SystemExit("kmods.py: no module %s (needed by %s) under %s"
                             % (name, " <- ".join(chain) or "command line", root))
        state[name] = "busy"
        blobs[name] = read_ko(available[name])
        for d in deps_of(modinfo(blobs[name]), available):
            visit(d, [name] + chain)
        state[name] = "done"
        order.append(name)

    for w in wanted:
        visit(w, [])
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    for name in order:
        with open(os.path.join(outdir, name + ".ko"), "wb") as f:
            f.write(blobs[name])
    with open(os.path.join(outdir, "load-order"), "w") as f:
        f.write("".join(n + "\n" for n in order))
    print("kmods.py: %d modules in %s: %s" % (len(order), outdir, " ".join(order)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
