#!/usr/bin/env python3
"""What the browser bundle is made of: the code size of the WebAssembly, by crate.

Reads a .wasm file's code section (the size of every function body) and its name section (the
functions' symbol names), demangles the crate each function belongs to (the first path segment
of a Rust symbol; a generic function counts for the crate that defines it, whichever types it
was instantiated with), and prints the crates by size. Also prints the sizes of the shipped
bundle (raw and gzip): what every page loads, each lazily loaded part and the chunks they share.

Usage: bench/wasm_size.py [WASM] [PKG_DIR]
  WASM     default target/wasm32-unknown-unknown/wasm-release/frontend.wasm (before wasm-bindgen
           and wasm-opt, which strip the names)
  PKG_DIR  default target/site/pkg
"""
import collections, gzip, os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "target", "wasm32-unknown-unknown", "wasm-release", "frontend.wasm")
PKG = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "site", "pkg")


def leb(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def sections(data):
    i = 8
    while i < len(data):
        sid = data[i]
        size, j = leb(data, i + 1)
        yield sid, data[j:j + size]
        i = j + size


def crate_of(name):
    # Legacy mangling: _ZN<len><segment>...; v0 mangling: _R...; otherwise a plain name.
    m = re.match(r"_ZN(\d+)", name)
    if m:
        n = int(m.group(1))
        start = m.end()
        seg = name[start:start + n]
        if seg.startswith("_$LT$"):  # <Type as Trait>: the type's crate (tuples: their first)
            inner = re.search(r"([a-z_][a-z0-9_]*)\.\.", seg)
            return inner.group(1) if inner else "(tuples, references)"
        return seg
    m = re.match(r"_R[A-Za-z]*?C[^0-9]*(\d+)([a-z_][a-z0-9_]*)", name)
    if m:
        return m.group(2)
    if name.startswith("__wbg") or name.startswith("__wbindgen"):
        return "wasm-bindgen glue"
    return "(other: " + re.split(r"[^a-zA-Z_]", name)[0][:20] + ")"


def main():
    data = open(WASM, "rb").read()
    imported = 0
    bodies = []
    names = {}
    for sid, body in sections(data):
        if sid == 2:  # imports: functions are numbered after the imported ones
            count, i = leb(body, 0)
            for _ in range(count):
                for _ in range(2):
                    n, i = leb(body, i)
                    i += n
                kind = body[i]
                i += 1
                if kind == 0:
                    _, i = leb(body, i)
                    imported += 1
                elif kind == 1:
                    i += 1
                    flags, i = leb(body, i)
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 2:
                    flags, i = leb(body, i)
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 3:
                    i += 2
        elif sid == 10:  # code
            count, i = leb(body, 0)
            for _ in range(count):
                size, j = leb(body, i)
                bodies.append(size)
                i = j + size
        elif sid == 0:  # custom: the name section
            n, i = leb(body, 0)
            if body[i:i + n] != b"name":
                continue
            i += n
            while i < len(body):
                sub = body[i]
                size, j = leb(body, i + 1)
                if sub == 1:
                    count, k = leb(body, j)
                    for _ in range(count):
                        idx, k = leb(body, k)
                        ln, k = leb(body, k)
                        names[idx] = body[k:k + ln].decode("utf-8", "replace")
                        k += ln
                i = j + size
    by_crate = collections.Counter()
    for n, size in enumerate(bodies):
        by_crate[crate_of(names.get(imported + n, "?"))] += size
    total = sum(bodies)
    print(f"{os.path.relpath(WASM, ROOT)}: {len(data):,} bytes, code {total:,} bytes in {len(bodies):,} functions")
    for crate, size in by_crate.most_common(25):
        print(f"  {crate:<28} {size:>10,}  {100 * size / total:5.1f} %")
    if os.path.isdir(PKG):
        shipped(PKG)


def shipped(pkg):
    """The bundle as browsers fetch it: what every page loads, each lazily loaded part, and the
    chunks the parts share (fetched with the first part that needs them)."""
    def size(f):
        raw = open(os.path.join(pkg, f), "rb").read()
        return len(raw), len(gzip.compress(raw, 9))

    files = sorted(f for f in os.listdir(pkg) if f.endswith((".wasm", ".js")))
    every = [f for f in files if f.startswith("herald")]
    parts = [f for f in files if f.startswith("split_")]
    chunks = [f for f in files if f.startswith("chunk_")]
    print(f"\nshipped ({os.path.relpath(pkg, ROOT)}):")
    line = lambda label, raw, gz: print(f"  {label:<44} {raw:>10,} raw {gz:>10,} gzip")
    for f in every:
        line(f + " (every page)", *size(f))
    for f in parts:
        line(re.sub(r"_\d+\.wasm$", "", f[len("split_"):]) + " (part)", *size(f))
    if chunks:
        sizes = [size(f) for f in chunks]
        line(f"{len(chunks)} shared chunks", sum(r for r, _ in sizes), sum(g for _, g in sizes))

if __name__ == "__main__":
    main()
