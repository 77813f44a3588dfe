#!/usr/bin/env python3
"""Benchmark of `vitrine serve`: time from saving a file to the live-reload message.

Generates a site of N datasets (default 1,000, each with a small distinct thumbnail), starts
`vitrine serve --port 0` on it, listens on `/__vitrine/events` like a browser tab, and measures:
  - saving an edited descriptor  -> `reload`   (target: median under 100 ms, issue 23)
  - saving a new 2048x2048 image -> `reload`   (target: median under 600 ms)
and serve's CPU time for each descriptor edit, which a loaded machine disturbs less. With
`--site DIR` it runs on a copy of an existing site instead (e.g. the reference corpus of long
descriptions, 20 % private): the descriptor edited is the first public one's `display_name`,
and the image step is skipped. The copy goes to $TMPDIR: set TMPDIR=/dev/shm, since on this
machine's ext4 a file created soon after mass deletions (the last run's copy) walks past every
recently deleted inode, which added ~100 ms to each edit (bench/README.md). Standard library
only. Usage:
  python3 bench/serve.py [--bin target/debug/vitrine] [--datasets 1000] [--edits 15] [--images 7]
  TMPDIR=/dev/shm python3 bench/serve.py --bin target/release/vitrine --site /tmp/site-1000
"""

import argparse
import os
import queue
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib


def png_gray(width, height, seed):
    """A grayscale PNG whose pixels depend on `seed`, so every image hashes differently."""
    row = bytes(((x * 7 + seed * 13) ^ (x >> 3)) & 0xFF for x in range(width))
    # The seed's bytes in the first pixels make every image distinct, as real data would be
    # (the leak guard rightly refuses a public image identical to a private one).
    rows = [b"\x00" + seed.to_bytes(4, "big") + row[4:]]
    for y in range(1, height):
        shift = (y + seed) % width
        rows.append(b"\x00" + row[shift:] + row[:shift])
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


def descriptor(i, note):
    return (
        f"display_name: Dataset {i:04d}\n"
        f"description: Generated dataset number {i}. {note}\n"
        f"visibility: {'private' if i % 10 == 0 else 'public'}\n"
        "thumbnail: thumb.png\n"
        f"tags: [bench, group-{i % 25}]\n"
        "modality: FIB-SEM\n"
    )


def generate(root, count):
    datasets = os.path.join(root, "content", "datasets")
    os.makedirs(datasets)
    with open(os.path.join(root, "content", "site.yaml"), "w") as f:
        f.write("title: Serve benchmark\nbase_url: https://example.org\nhosting: netlify\n")
    for i in range(count):
        d = os.path.join(datasets, f"set-{i:04d}")
        os.makedirs(d)
        with open(os.path.join(d, "dataset.yaml"), "w") as f:
            f.write(descriptor(i, "initial"))
        with open(os.path.join(d, "thumb.png"), "wb") as f:
            f.write(png_gray(64, 64, i))


class Events:
    """A live-reload client; events land in a queue with the time they arrived."""

    def __init__(self, port):
        self.queue = queue.Queue()
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(f"GET /__vitrine/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        self.file = sock.makefile("rb")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        name = None
        for line in self.file:
            line = line.decode().rstrip("\r\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line == "" and name:
                self.queue.put((time.perf_counter(), name))
                name = None

    def drain(self):
        while not self.queue.empty():
            self.queue.get_nowait()

    def wait(self, wanted, timeout=300):
        deadline = time.perf_counter() + timeout
        while True:
            at, name = self.queue.get(timeout=max(0.0, deadline - time.perf_counter()))
            if name == wanted:
                return at
            if name == "error":
                sys.exit("the build failed during the benchmark; see serve's output")


def save_by_rename(path, data):
    tmp = path + ".tmp~"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def cpu_ms(pid):
    """CPU time (user + system, all threads) the process has used so far, in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(events, runs, save, pid):
    """Save-to-reload times, and serve's CPU time for each change: on a shared machine the
    wall time follows the load, the CPU time much less."""
    times, cpu = [], []
    for i in range(runs):
        events.drain()
        before = cpu_ms(pid)
        save(i)
        saved = time.perf_counter()
        times.append((events.wait("reload") - saved) * 1000)
        time.sleep(0.3)
        cpu.append(cpu_ms(pid) - before)
    return times, cpu


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(here, "..", "target", "debug", "vitrine"))
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--images", type=int, default=7)
    parser.add_argument("--site", help="run on a copy of this site (its content/ only)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vitrine-serve-bench-") as tmp:
        root = os.path.join(tmp, "site")
        kind = subprocess.run(["stat", "-f", "-c", "%T", tmp], capture_output=True, text=True)
        print(f"working in {tmp} ({kind.stdout.strip() or 'file system unknown'})")
        started = time.perf_counter()
        if args.site:
            shutil.copytree(os.path.join(args.site, "content"), os.path.join(root, "content"))
            print(f"copied {args.site} in {time.perf_counter() - started:.1f} s")
        else:
            generate(root, args.datasets)
            print(f"generated {args.datasets} datasets in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        serve = subprocess.Popen(
            [args.bin, "--root", root, "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        port = None
        builds = []
        for line in serve.stdout:
            match = re.match(r"Serving http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        if port is None:
            sys.exit("serve stopped before it printed its address")
        print(f"first build and start: {time.perf_counter() - started:.1f} s")

        def log():
            for line in serve.stdout:
                builds.append(line.strip())

        threading.Thread(target=log, daemon=True).start()
        try:
            events = Events(port)
            time.sleep(0.3)
            folder = os.path.join(root, "content", "datasets")
            if args.site:
                target = next(
                    os.path.join(folder, name, "dataset.yaml")
                    for name in sorted(os.listdir(folder))
                    if re.search(r"^visibility: public", open(os.path.join(folder, name, "dataset.yaml")).read(), re.M)
                )
                original = open(target).read()

                def edit(i):
                    text = re.sub(r"^display_name: .*$", f"display_name: 'Edited, run {i}'", original, count=1, flags=re.M)
                    save_by_rename(target, text.encode())

                edits, edits_cpu = measure(events, args.edits, edit, serve.pid)
                image_times = []
            else:
                # Two public datasets (every tenth one is private) from the middle of the site.
                edited, pictured = (args.datasets // 2) | 1, (args.datasets // 3) | 1
                target = os.path.join(folder, f"set-{edited:04d}", "dataset.yaml")
                edits, edits_cpu = measure(
                    events,
                    args.edits,
                    lambda i: save_by_rename(target, descriptor(edited, f"edit {i}").encode()),
                    serve.pid,
                )
                images = [png_gray(2048, 2048, 10_000 + i) for i in range(args.images)]
                thumb = os.path.join(folder, f"set-{pictured:04d}", "thumb.png")
                image_times, _ = measure(events, args.images, lambda i: save_by_rename(thumb, images[i]), serve.pid)
        finally:
            serve.send_signal(2)
            serve.wait(timeout=60)

        def summary(name, times, target):
            median = statistics.median(times)
            verdict = "ok" if median < target else "OVER TARGET"
            spread = ", ".join(f"{t:.0f}" for t in sorted(times))
            print(f"{name}: median {median:.0f} ms (target < {target} ms, {verdict}); all: {spread}")

        summary("descriptor save -> reload", edits, 100)
        print(f"serve's CPU time per descriptor edit (user + system): median {statistics.median(edits_cpu):.0f} ms; load {os.getloadavg()[0]:.1f}")
        if image_times:
            summary("2048x2048 image save -> reload", image_times, 600)
        print("serve's own build lines:")
        for line in builds[-(args.edits + len(image_times)) :]:
            print("  " + line)


if __name__ == "__main__":
    main()
