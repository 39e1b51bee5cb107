"""Monte Carlo members and the executors that run them (serial, local processes, Dask).

Member i draws everything random (forecast errors, compliance, inspections) from
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(i,)))``, the i-th child of
``SeedSequence(seed).spawn(members)``. Work is split into batches of members; results are put
back in member order, so every executor returns identical numbers for the same seed.
"""

from __future__ import annotations

import math
import os
import queue
import re
import socket
import struct
import sys
import time
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Callable

import numpy as np

from sim.engine.simulation import EngineInputs, EngineResult, WarningCentre, run_engine, run_engines
from sim.errors import InputError
from sim.engine.forecast import ForecastTemplate
from sim.config.scenario import WarningsConfig

EXECUTORS = ("serial", "processes", "dask")
#: Seconds to wait for a Dask scheduler to accept a connection and to answer the handshake.
#: Estimate: a scheduler on the same network answers in well under a second; 10 s covers a
#: slow VPN while a wrong address still fails quickly (Dask's own default is 30 s).
SCHEDULER_TIMEOUT_S = 10
#: Seconds a spawned worker process needs before it can run a member: interpreter start,
#: imports (numpy, simpy, pydantic, the package) and unpickling the inputs. Measured on the
#: project's 2-core machine: 1.1-1.2 s for the imports alone (``python -c "import
#: sim.engine.ensemble"``). An ensemble whose remaining work is shorter stays in the parent.
WORKER_START_S = 1.0
_SCHEDULER_FIX = "give the address of a running Dask scheduler as tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), or leave out --scheduler to run on a local cluster."
_ADDRESS = re.compile(r"(?:tcp://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})/?")
_OTHER_TRANSPORT = re.compile(r"(?:tls|ws|wss|ucx)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})/?")


@dataclass(frozen=True)
class SharedInputs:
    """What every member shares; sent once to each worker."""

    engine: EngineInputs
    forecasts: dict[int, ForecastTemplate]  # by city index; empty for a fixed schedule
    warnings: WarningsConfig
    rule_set: object
    seed: int


@dataclass
class BatchOutput:
    """Member results of one batch; per-line totals are summed over the batch to save memory."""

    indices: list[int]
    runs: list[EngineResult]
    line_total_sum_kg: np.ndarray
    other_total_sum_kg: np.ndarray
    pid: int = 0  # the process that ran the batch


#: Memory a run needs per member [bytes]: BYTES_PER_MEMBER_HOUR × hours (× cities) plus
#: BYTES_PER_MEMBER_LINE × lines. Measured: peak RSS of demo_city_forecast (3007 lines, serial)
#: grows by 171 kB per member over 216 h and by 827 kB per member over 1488 h (50-3200 members),
#: i.e. 516 B per member-hour and 60 kB per member whatever the hours (20 B per line); the
#: 100000-member run that used 16.7 GB fits (17.2 GB from these slopes, 18.9 GB with the
#: constants below). What grows: each member's hourly series kept for the bands (emissions,
#: levels, line counts: ~115 B/h), the member stacks built for means, percentiles and the PM2.5
#: projection, and a batch's per-line totals before they are summed (48 B per line and member,
#: a quarter of the members at a time). Rounded up by 10 %. An extra city adds its own hourly
#: series and projection: estimate 120 B per member-hour (kept 48, projection stacks ~60).
BYTES_PER_MEMBER_HOUR = 570
BYTES_PER_MEMBER_LINE = 22
BYTES_PER_MEMBER_HOUR_PER_EXTRA_CITY = 120


def memory_estimate(members: int, hours: int, lines: int, cities: int = 1) -> int:
    """Memory [bytes] that ``members`` members of a run of ``hours`` hours over ``lines``
    lines in ``cities`` cities add to the process (see :data:`BYTES_PER_MEMBER_HOUR`)."""
    per_hour = BYTES_PER_MEMBER_HOUR + BYTES_PER_MEMBER_HOUR_PER_EXTRA_CITY * max(cities - 1, 0)
    return int(members) * (hours * per_hour + lines * BYTES_PER_MEMBER_LINE)


def available_memory() -> int | None:
    """Memory [bytes] this process can still use, or None when it cannot be read.

    Linux: MemAvailable of /proc/meminfo (free memory plus the cache the kernel can drop),
    capped by a cgroup (container) limit; other POSIX systems: free pages (``SC_AVPHYS_PAGES``)
    or, where that is missing (macOS), all physical pages. Windows: None (no check)."""
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        for name in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
            try:
                pages, size = os.sysconf(name), os.sysconf("SC_PAGE_SIZE")
            except (AttributeError, ValueError, OSError):
                continue
            if pages > 0 and size > 0:
                found = pages * size
                break
    try:  # cgroup v2: a container's limit is lower than the machine's memory
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read().strip())
        try:  # the page cache the kernel can reclaim counts in memory.current: leave it out
            with open("/sys/fs/cgroup/memory.stat", encoding="ascii") as f:
                stats = dict(line.split()[:2] for line in f if line.strip())
            used = max(used - int(stats.get("inactive_file", 0)), 0)
        except (OSError, ValueError):
            pass
        if limit != "max":
            left = max(int(limit) - used, 0)
            found = left if found is None else min(found, left)
    except (OSError, ValueError):
        pass
    return found


def check_memory(members: int, hours: int, lines: int, cities: int, file: object, limit: int | None = None) -> int:
    """The memory estimate [bytes]; InputError when the members would not fit in ``limit``
    (default: the memory available now)."""
    limit = available_memory() if limit is None else limit
    need = memory_estimate(members, hours, lines, cities)
    if limit is None or need <= limit:
        return need
    fits = max(int(limit // max(memory_estimate(1, hours, lines, cities), 1)), 0)
    gb = lambda n: f"{n / 1e9:,.1f} GB"  # noqa: E731
    raise InputError(file, "key ensemble.members (or --members)",
                     f"{members:,} members of {hours:,} h over {lines:,} lines need about {gb(need)} of memory, and {gb(limit)} is available.",
                     f"run at most {fits:,} members (the bundled forecast scenario uses 200), or use a machine with more memory: every member's hourly series "
                     "comes back to this process, whatever the executor.")


def member_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of member ``index``: the index-th child of ``SeedSequence(seed)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def member_centres(shared: SharedInputs, rngs: list[np.random.Generator]) -> list[dict[int, WarningCentre]]:
    """The warning centres of members, by city, forecasts drawn with each member's generator
    (city by city in index order: each generator is drawn in the same order as alone)."""
    out: list[dict[int, WarningCentre]] = [{} for _ in rngs]
    for city, f in sorted(shared.forecasts.items()):
        for centres, centre in zip(out, f.member_centres(shared.warnings, shared.rule_set, rngs)):
            centres[city] = centre
    return out


def run_member(shared: SharedInputs, index: int) -> EngineResult:
    """Run one member: draw its forecasts, then the event simulation with its generator."""
    rng = member_rng(shared.seed, index)
    return run_engine(shared.engine, rng, member_centres(shared, [rng])[0])


def member_sum(arrays: list[np.ndarray]) -> np.ndarray:
    """``np.sum(arrays, axis=0)`` without stacking them: members added one after the other,
    as that sum adds them (along its first axis, in order), so the same numbers."""
    total = arrays[0].copy()
    for a in arrays[1:]:
        total += a
    return total


def run_batch(shared: SharedInputs, indices: list[int]) -> BatchOutput:
    """Run the members ``indices`` in order; keep per-line totals only as their sum.

    Every member's forecasts are drawn first (each from its own generator, before its
    compliance draws and inspections, as in :func:`run_member`) and worked out together, and
    the members' line and enterprise counts are counted together (:func:`run_engines`)."""
    rngs = [member_rng(shared.seed, i) for i in indices]
    runs = run_engines(shared.engine, list(zip(rngs, member_centres(shared, rngs))))
    line_sum, other_sum = member_sum([r.line_total_kg for r in runs]), member_sum([r.other_total_kg for r in runs])
    for r in runs:
        if shared.engine.n_cities == 1:
            r.hourly_by_city_kg_h = None  # the same as the totals: not worth shipping back
        r.line_total_kg = np.zeros((0, 0))
        r.other_total_kg = np.zeros((0, 0))
        r.events = []
    return BatchOutput(list(indices), runs, line_sum, other_sum, os.getpid())


#: Members are split into this many batches whatever the executor, so that per-line totals
#: (summed batch by batch) come out bit for bit the same on every executor and machine;
#: 16 keeps up to eight workers busy to the end.
BATCHES = 16


def batches(members: int) -> list[list[int]]:
    """Member indices split into :data:`BATCHES` consecutive batches (fewer for few members)."""
    size = max(1, math.ceil(members / BATCHES))
    return [list(range(i, min(i + size, members))) for i in range(0, members, size)]


def run_members(
    shared: SharedInputs,
    members: int,
    executor: str = "serial",
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[BatchOutput]:
    """Run ``members`` members on the chosen executor; batches come back in member order.

    ``executor``: ``serial``, ``processes`` (local worker processes, one per core) or ``dask``
    (the cluster at ``scheduler``, e.g. ``tcp://host:8786``, or a local cluster when None).
    ``progress`` is called with the number of members finished by each batch.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}")
    done: dict[int, BatchOutput] = {}
    tick = progress or (lambda n: None)
    if executor == "serial":
        for k, batch in enumerate(batches(members)):
            done[k] = run_batch(shared, batch)
            tick(len(batch))
    elif executor == "processes":
        done = _run_processes(shared, members, tick)
    else:
        done = _run_dask(shared, members, scheduler, tick)
    return [done[k] for k in sorted(done)]


def _worker(inbox, tasks, results) -> None:
    """A worker process: load the inputs, say it is ready, then run batches until told to stop."""
    shared = inbox.get()
    results.put(("ready", None, None))
    while (task := tasks.get()) is not None:
        k, indices = task
        try:
            results.put(("done", k, run_batch(shared, indices)))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            results.put(("error", k, f"{type(exc).__name__}: {exc}"))
            return


def _run_processes(shared: SharedInputs, members: int, tick: Callable[[int], None]) -> dict[int, BatchOutput]:
    """Members on local worker processes, with the parent working too.

    A spawned worker must import the package and unpickle the inputs before it can work
    (about a second), so the parent runs batches itself from the end of the list while the
    workers start, and hands a batch to a worker only once it has said it is ready. A short
    ensemble is then never slower than serial: workers that are still starting when the
    work runs out are stopped. The inputs travel once per worker, not once per batch."""
    workers = max(1, (os.cpu_count() or 1) - 1)  # the parent is the other worker
    todo = batches(members)
    done: dict[int, BatchOutput] = {}
    back = len(todo)
    started = time.perf_counter()
    back -= 1
    done[back] = run_batch(shared, todo[back])
    tick(len(todo[back]))
    if (time.perf_counter() - started) * back < WORKER_START_S:  # the rest is quicker here than a worker's start
        for k in range(back):
            done[k] = run_batch(shared, todo[k])
            tick(len(todo[k]))
        return done
    context = get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    # the inputs go through a queue (written by a background thread): as a process argument
    # they would hold the parent until the child had imported enough to read them
    inboxes = [context.Queue() for _ in range(workers)]
    procs = [context.Process(target=_worker, args=(inbox, tasks, results), daemon=True) for inbox in inboxes]
    for proc, inbox in zip(procs, inboxes):
        proc.start()
        inbox.put(shared)
    front = 0  # workers take batches from the front, the parent from the back
    ready = outstanding = 0

    def receive(block: bool) -> bool:
        """Take one message from the workers (wait for it when ``block``); whether one came."""
        nonlocal ready, outstanding, front
        try:
            kind, k, payload = results.get(timeout=1.0) if block else results.get_nowait()
        except queue.Empty:
            # a worker leaves only when told to, after the last batch: one gone now died (memory,
            # a signal) and may have held a batch that would never come back
            if block and not all(p.is_alive() for p in procs):
                codes = ", ".join(str(p.exitcode) for p in procs if not p.is_alive())
                raise RuntimeError(f"an ensemble worker process stopped unexpectedly (exit code {codes}); run again with --executor serial to see why") from None
            return False
        if kind == "error":
            raise RuntimeError(f"an ensemble worker failed on members {todo[k][0]}-{todo[k][-1]}: {payload}")
        if kind == "ready":
            ready += 1
        else:
            done[k] = payload
            outstanding -= 1
            tick(len(payload.indices))
        while outstanding < ready and front < back:  # one batch at a time per ready worker
            tasks.put((front, todo[front]))
            front, outstanding = front + 1, outstanding + 1
        return True

    try:
        while front < back:
            while receive(block=False):  # every message waiting: no worker idles for a batch of ours
                pass
            if front < back:
                back -= 1
                done[back] = run_batch(shared, todo[back])
                tick(len(todo[back]))
        while outstanding:
            receive(block=True)
    finally:
        for _ in procs:
            tasks.put(None)
        for proc in procs:  # every result is in: a worker still starting up is not needed
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for inbox in (*inboxes, tasks, results):
            inbox.cancel_join_thread()  # what a stopped worker never read is dropped
            inbox.close()
    return done


def check_scheduler(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> tuple[str, int]:
    """Check, before any work is done, that ``address`` (``tcp://HOST:PORT`` or ``HOST:PORT``)
    is well formed and that a Dask scheduler answers there within ``timeout_s``; the host and
    port. Raises InputError (for ``--scheduler``) otherwise.

    A Dask server sends its handshake as soon as a connection opens, framed by its length as
    an 8-byte unsigned integer (distributed.comm.tcp); Dask's own client waits for it without
    a time limit and takes any 8 bytes for that length (an HTTP server's reply asks for 3 EiB).
    So the first 8 bytes are read here, with the timeout, and must give a handshake's size.

    Other transports (``tls://``, ``ws://``, ...) speak their own protocol first: they are only
    checked for form here, and Dask's client connects with the same timeout (:func:`_connect`)."""
    other = _OTHER_TRANSPORT.fullmatch(address.strip())
    if other is not None:
        return other["host"].strip("[]"), int(other["port"])
    hit = _ADDRESS.fullmatch(address.strip())
    if hit is None or not 0 < int(hit["port"]) < 65536:
        raise InputError(None, "--scheduler", f"'{address}' is not a scheduler address.", _SCHEDULER_FIX)
    host, port = hit["host"].strip("[]"), int(hit["port"])
    deadline = time.monotonic() + timeout_s  # one limit for connecting and the handshake together
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            head = b""
            while len(head) < 8:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except socket.gaierror:
        raise InputError(None, "--scheduler", f"the host '{host}' of '{address}' is not known.", _SCHEDULER_FIX) from None
    except ConnectionRefusedError:
        raise InputError(None, "--scheduler", f"nothing accepts connections at '{address}' (connection refused).", _SCHEDULER_FIX) from None
    except (TimeoutError, socket.timeout):
        raise InputError(None, "--scheduler", f"no Dask scheduler answered at '{address}' within {timeout_s:g} s.", _SCHEDULER_FIX) from None
    except OSError as exc:
        raise InputError(None, "--scheduler", f"cannot connect to '{address}' ({exc.strerror or exc}).", _SCHEDULER_FIX) from None
    # a handshake is a few hundred bytes; 1 MiB leaves room for any version of Dask
    if len(head) < 8 or not 0 < struct.unpack("Q", head)[0] < 2**20:
        raise InputError(None, "--scheduler", f"the server at '{address}' is not a Dask scheduler (it did not answer with a Dask handshake).", _SCHEDULER_FIX)
    return host, port


def _connect(scheduler: str):
    """A Dask client of the scheduler at ``scheduler`` (checked first), or InputError."""
    from dask.distributed import Client

    check_scheduler(scheduler)
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as exc:  # whatever the handshake raises means: no usable scheduler there
        raise InputError(None, "--scheduler", f"the Dask scheduler at '{scheduler}' could not be used ({type(exc).__name__}: {exc}).", _SCHEDULER_FIX) from None


def _run_dask(shared: SharedInputs, members: int, scheduler: str | None, tick: Callable[[int], None]) -> dict[int, BatchOutput]:
    from dask.distributed import Client, LocalCluster, as_completed as dask_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50)
        client = Client(cluster)
    else:
        client = _connect(scheduler)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        [remote] = client.scatter([shared], broadcast=True)
        futures = {}
        for k, batch in enumerate(batches(members)):
            futures[client.submit(run_batch, remote, batch, pure=False)] = k
        done: dict[int, BatchOutput] = {}
        for future in dask_completed(list(futures)):
            out = future.result()
            done[futures[future]] = out
            tick(len(out.indices))
        return done
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def progress_bar(total: int, quiet: bool) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A tqdm progress bar on stderr (nothing when quiet or for a single member)."""
    if quiet or total <= 1:
        return (lambda n: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="member", file=sys.stderr, desc="members", leave=False)
    return bar.update, bar.close
