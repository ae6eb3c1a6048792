"""Reads `perf script -F comm,pid,ip,sym,dso` (with call graphs) on stdin and prints microseconds of CPU per upload:
by process, by library for the service, and by the work PostgreSQL's samples are under.
usage: perf script ... | python3 bench/profile.py UPLOADS_PER_SECOND CORES SERVICE_PID"""
import collections
import re
import sys

rate, cores, service_pid = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

# PostgreSQL's work, by a function on the sample's stack (the first that matches, in this order).
POSTGRES_WORK = [
    ("statistics trigger (PL/pgSQL)", "plpgsql_exec_trigger"),
    ("commit and WAL flush", "CommitTransactionCommand"),
    ("other after-triggers (foreign keys)", "AfterTriggerEndQuery"),
    ("index inserts", "ExecInsertIndexTuples"),
    ("row inserts", "heap_insert"),
    ("executor start", "standard_ExecutorStart"),
    ("rest of execution", "standard_ExecutorRun"),
]

samples = []
for block in sys.stdin.read().split("\n\n"):
    lines = block.strip().split("\n")
    if not lines or not lines[0].strip():
        continue
    head = lines[0].split()
    frames = [line.strip() for line in lines[1:]]
    samples.append((head, frames))

total = len(samples)
if total == 0:
    sys.exit("no samples")
# Each sample stands for an equal share of the machine's CPU time over the run: cores x seconds / samples.
us_per_sample = cores * 1e6 / rate / total


def who(head):
    comm, pid = " ".join(head[:-1]), head[-1].split("/")[0]
    if pid == service_pid:
        return "service"
    if comm.startswith("postgres"):
        return "postgres"
    if comm.startswith("wrk"):
        return "wrk"
    if comm.startswith("swapper"):
        return "idle"
    return "other"


by_process = collections.Counter()
service_libraries = collections.Counter()
postgres_work = collections.Counter()
for head, frames in samples:
    process = who(head)
    by_process[process] += 1
    top = frames[0] if frames else ""
    if process == "service":
        library = re.search(r"\(([^)]*)\)\s*$", top)
        name = library.group(1).rsplit("/", 1)[-1] if library else "?"
        if name.startswith("memfd:doublemapper") or name.startswith("perf-") or "[JIT]" in top:
            name = "managed code (JIT)"
        elif name == "[kernel.kallsyms]":
            name = "kernel (sockets, scheduling)"
        service_libraries[name] += 1
    elif process == "postgres":
        stack = " ".join(frames)
        label = next((label for label, function in POSTGRES_WORK if function in stack), "other (network, parse, idle loop)")
        postgres_work[label] += 1


def show(title, counter, limit=12):
    print(f"\n{title}")
    for name, count in counter.most_common(limit):
        print(f"  {name:<44} {count * us_per_sample:7.1f} us per upload  ({100 * count / total:4.1f} % of the machine)")


show("by process", by_process)
show("the service, by library", service_libraries)
show("PostgreSQL, by the work it is doing", postgres_work)
busy = total - by_process["idle"]
print(f"\nall in: {busy * us_per_sample:.0f} us of CPU per upload ({100 * busy / total:.0f} % of {cores} cores busy)")
