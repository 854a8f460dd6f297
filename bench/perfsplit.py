#!/usr/bin/env python3
"""bench/perfsplit.py: where a Fluent Bit run's CPU went, by thread.

Reads `perf script` text (from `perf record -g` or `--call-graph dwarf` of
the whole Fluent Bit process; bench/run.sh -p writes one per run) on stdin
and prints three parts:
  - CPU milliseconds by thread: Fluent Bit names its threads
    (flb-pipeline runs every input and the engine, flb-out-NAME an output's
    workers); the Go runtime's own threads keep the process name;
  - the pipeline thread's writes into chunks (cio_chunk_write): who appends
    (in_tail, or in_forward's fw_prot_process) and how the bytes move
    (a memcpy into room the chunk has, or a realloc that copies the whole
    chunk: lib/chunkio/src/cio_memfs.c grows a chunk 32 KB at a time);
  - the top functions of each thread group, the kernel's share named by
    what entered it (a page fault, or the system call).

Usage: perf script -i RUN.perf | bench/perfsplit.py [TOP]
"""

import collections
import re
import sys

HEADER = re.compile(r"^(\S.*?)\s+(\d+)(?:/\d+)?\s+(?:\[\d+\]\s+)?[\d.]+:\s+(\d+)\s+(\S+?):")


def samples(lines):
    """Yields (thread, period_ns, frames): frames innermost first, each
    (symbol, dso)."""
    thread, period, frames = None, 0, []
    for line in lines:
        if not line.strip():
            if thread is not None:
                yield thread, period, frames
            thread, frames = None, []
            continue
        if not line[0].isspace():
            m = HEADER.match(line)
            if m:
                thread, period = m.group(1), int(m.group(3))
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        sym, _, dso = parts[1].rpartition(" (")
        frames.append((re.sub(r"\+0x[0-9a-f]+$", "", sym), dso.rstrip(")")))
    if thread is not None:
        yield thread, period, frames


def group(thread):
    if thread.startswith("flb-pipeline"):
        return "flb-pipeline (inputs, engine)"
    if thread.startswith("flb-out-"):
        return thread.split(".")[0] + " (output workers)"
    if thread.startswith("flb-"):
        return thread
    return thread + " (other threads: the Go runtime's, main)"


def leaf(frames):
    """The function a sample is charged to: the first user-space frame,
    or for kernel time what entered the kernel."""
    if not frames:
        return "?"
    if "kernel" not in frames[0][1]:
        return frames[0][0]
    user = next((s for s, d in frames if "kernel" not in d), "?")
    below = "kernel"
    for s, d in frames:
        if "kernel" not in d:
            break
        if s in ("exc_page_fault", "asm_exc_page_fault"):
            return "[page fault] " + user
        if s.startswith(("__x64_sys_", "__do_sys_", "__se_sys_")):
            return "[" + re.sub(r"^__(x64|do|se)_sys_", "", s) + "] " + user
        if s in ("do_syscall_64", "x64_sys_call"):
            return "[" + below + "] " + user  # the system call's own function, inlined into the entry
        below = s
    return "[kernel] " + user


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    by_thread = collections.Counter()
    by_leaf = collections.defaultdict(collections.Counter)
    chunk = collections.Counter()
    total = 0
    for thread, period, frames in samples(sys.stdin):
        ms = period / 1e6
        total += ms
        g = group(thread)
        by_thread[g] += ms
        by_leaf[g][leaf(frames)] += ms
        names = [s for s, _ in frames]
        if g.startswith("flb-pipeline") and "cio_chunk_write" in names:
            who = "in_tail" if "in_tail_collect_static" in names else (
                "in_forward" if "fw_prot_process" in names else "other input")
            how = "realloc (chunk copied)" if "_int_realloc" in names else "memcpy into room"
            chunk[(who, how)] += ms
    print(f"{total:9.0f} ms sampled")
    print("\nby thread:")
    for g, ms in by_thread.most_common():
        print(f"{ms:9.0f} ms {100 * ms / total:5.1f}%  {g}")
    print("\npipeline thread, writes into chunks (cio_chunk_write):")
    for (who, how), ms in sorted(chunk.items()):
        print(f"{ms:9.0f} ms  {who:11s} {how}")
    for g, _ in by_thread.most_common(3):
        print(f"\ntop of {g}:")
        for name, ms in by_leaf[g].most_common(top):
            print(f"{ms:9.0f} ms  {name[:110]}")


if __name__ == "__main__":
    main()
