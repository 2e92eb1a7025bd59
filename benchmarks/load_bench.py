"""Load benchmark: the real service (`tradebot run`, HTTP mode) against `tradebot fake-slack`, under a burst.

    python -m benchmarks.load_bench --articles 10000 --burst 50 --seconds 1

Both run as separate processes on 127.0.0.1, in a work directory under `--data`. Steps:
a bot with its own empty index directory gets SIGTERM `--stop-after` seconds into its
build (issue #14: stop promptly in every state); a bot started from scratch gets one
burst as soon as search is ready (the people directory may still be building) and
SIGTERM once its index is saved; a bot restarted from that saved index gets the measured
bursts (`--rounds`), each followed by the sequential baseline, and then SIGTERM.
A burst is `--burst` mixed, correctly signed `/trade` commands
(searches with and without typos, `who`, `latest`, `sources`) sent open-loop over
`--seconds`; the baseline is the same commands one at a time, in the same run, so the
ratios compare like with like on a shared, noisy machine. Per command: time to the HTTP
ack, and time until the answer reaches the fake's response_url (seen by polling
`GET /_calls` every 20 ms, so answer times are upper bounds within about 20 ms). An answer
that has not arrived 10 s after its command is lost. Percentiles are nearest-rank (p99 of
50 commands is the slowest). Every wait is bounded; the benchmark stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from benchmarks.synth import generate
from bot.corpus import Article, render_article

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TIMEOUT_S = 10.0  # an answer later than this is counted as lost
ACK_LIMIT_S = 3.0  # Slack shows the user an error when the ack takes longer
POLL_S = 0.02
SETTLE_S = 5.0  # after the save from scratch: then the bot's RSS is read once more
SAMPLE_S = 0.25  # between readings of the bot's memory
IDLE_WAIT_S = 120.0  # and again once its people worker has ended (idle), if it does within this
FRESH_PREFIX = "zz-bench-fresh-"  # the fresh-article step's file; removed after it (and left-overs at the start)
BUSY = "busy"  # in an overload notice ("busy, try again in a moment"); a notice has at most 2 blocks
FAILED = "went wrong"  # the error notice ("something went wrong on our side")
NOT_READY = "still reading the articles"  # the loading and people-pending notices
SEARCHES = ["tariffs china", "rare earths", "export controls semiconductors", "trade deal", "reciprocal tariffs",
            '"rare earths" -nvidia', "tarrifs china", "rare erths", "exprot controls", "reciprocal tarrifs",
            "trade negotiations since:2024-06-01", "semiconducter export"]
NAMES = ["greer", "bessent", "besent", "lutnick"]
PATTERN = "SSWSLSWSXS"  # per ten commands: 6 searches, 2 who, 1 latest, 1 sources


@dataclass
class Sample:
    text: str
    ack_s: float | None = None
    answer_s: float | None = None
    status: int | None = None
    outcome: str = "lost"  # answered | busy | not-ready | failed | rejected | refused | lost
    error: str = ""  # why Slack refused the answer
    response_id: str = ""
    said: str = ""  # the answer's parameters as lower-case JSON


@dataclass
class Phase:
    name: str
    samples: list[Sample] = field(default_factory=list)
    late: int = 0  # lost answers that did arrive, later
    bot_cpu_s: float = 0.0  # CPU time the bot's own process used meanwhile (its child processes not counted)

    def count(self, outcome: str) -> int:
        return sum(s.outcome == outcome for s in self.samples)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    return sorted(values)[max(0, math.ceil(len(values) * q / 100) - 1)]


def who_names(corpus_dir: Path, limit: int = 4) -> list[str]:
    """Names from the first few headlines (synthetic ones start with a person), plus real seed names."""
    found: list[str] = []
    for path in sorted(corpus_dir.glob("*.md"))[:40]:
        title = next((line[7:] for line in path.read_text(encoding="utf-8").splitlines()
                      if line.startswith("title: ")), "")
        match = re.match(r"([A-Z][a-z]+ [A-Z][a-z]+) (says|warns|signals|rejects)\b", title)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found[:limit] + NAMES


def command_mix(n: int, names: list[str], seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    mix = []
    for i in range(n):
        kind = PATTERN[i % len(PATTERN)]
        if kind == "S":
            mix.append(rng.choice(SEARCHES))
        elif kind == "W":
            mix.append(f"who {rng.choice(names)}")
        elif kind == "L":
            mix.append(rng.choice(["latest", "latest 10"]))
        else:
            mix.append("sources")
    return mix


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux: /proc), or NaN where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def family(pid: int) -> set[int]:
    """The process and its descendants, from /proc (psutil is a bench extra; the suite runs this
    benchmark without it)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                grew = True
    return found


def worker_processes(pid: int) -> int:
    """How many of the bot's child processes are workers (the people worker, build helpers)."""
    count = 0
    for child in family(pid) - {pid}:
        try:
            count += b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
    return count


@dataclass(frozen=True)
class Memory:
    """Resident memory of the bot and its child processes (build and people workers), MB: in all,
    of it anonymous (the rest is file-backed: pages of the memory-mapped saved index, page cache
    the OS can reclaim and other processes share), and the bot's own process."""

    total: float
    anon: float
    bot: float

    def __str__(self) -> str:
        return f"{self.total:.0f} MB ({self.anon:.0f} anonymous; bot {self.bot:.0f})"


NO_MEMORY = Memory(math.nan, math.nan, math.nan)


def memory(pid: int) -> Memory:
    total = anon = bot = 0.0
    for member in family(pid):
        try:
            with open(f"/proc/{member}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            rss, anonymous = (int(fields[k].split()[0]) / 1e3 for k in ("VmRSS", "RssAnon"))
        except (OSError, KeyError, ValueError):  # gone meanwhile (or a kernel thread)
            continue
        total, anon = total + rss, anon + anonymous
        bot = rss if member == pid else bot
    return Memory(total, anon, bot) if total else NO_MEMORY


class Slack:
    """The benchmark's side of Slack: signs and sends commands, watches the fake for their answers."""

    def __init__(self, http: aiohttp.ClientSession, fake_url: str, secret: str) -> None:
        self.http = http
        self.fake_url = fake_url
        self.verifier = SignatureVerifier(secret)
        self.bot_url = ""
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._seen = 0
        self._wake = asyncio.Event()
        self._poller = asyncio.create_task(self._poll())

    async def close(self) -> None:
        self._poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._poller

    async def new_response_url(self) -> str:
        async with self.http.post(f"{self.fake_url}/_interaction", json={"user": "U0ALICE", "channel": "C0TRADE"}) as r:
            return str((await r.json())["response_url"])

    async def answered(self, response_ids: set[str]) -> int:
        """How many of these response_urls have received an answer by now."""
        async with self.http.get(f"{self.fake_url}/_calls") as r:
            calls = await r.json()
        return len({c["params"].get("response_id") for c in calls if c.get("method") == "response_url"} & response_ids)

    async def _poll(self) -> None:
        """Fetch the fake's recorded calls while answers are awaited (the list only grows)."""
        while True:
            if not self._waiting:
                self._wake.clear()
                await self._wake.wait()
            try:  # only the calls not seen yet: the whole list grows to thousands over a run
                async with self.http.get(f"{self.fake_url}/_calls", params={"since": str(self._seen)}) as r:
                    calls = await r.json()
            except (aiohttp.ClientError, ValueError):
                await asyncio.sleep(POLL_S)
                continue
            for call in calls:
                rid = call.get("params", {}).get("response_id") if call.get("method") == "response_url" else None
                future = self._waiting.pop(rid, None) if rid else None
                if future is not None and not future.done():
                    future.set_result(call)
            self._seen += len(calls)
            await asyncio.sleep(POLL_S)

    async def command(self, text: str, response_url: str) -> Sample:
        rid = response_url.rsplit("/", 1)[-1]
        sample = Sample(text, response_id=rid)
        answer = self._waiting[rid] = asyncio.get_running_loop().create_future()
        self._wake.set()
        body = urlencode({"token": "deprecated", "team_id": "T0HARNESS", "team_domain": "harness",
                          "channel_id": "C0TRADE", "channel_name": "trade-news", "user_id": "U0ALICE",
                          "user_name": "alice", "command": "/trade", "text": text, "api_app_id": "A0TRADEBOT",
                          "response_url": response_url, "trigger_id": f"{random.getrandbits(40)}.1.x"})
        stamp = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": stamp, "Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Signature": self.verifier.generate_signature(timestamp=stamp, body=body) or ""}
        start = time.perf_counter()
        try:
            async with self.http.post(self.bot_url, data=body, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_S)) as r:
                await r.read()
                sample.status, sample.ack_s = r.status, time.perf_counter() - start
        except (TimeoutError, aiohttp.ClientError):
            pass
        if sample.status != 200:
            self._waiting.pop(rid, None)
            sample.outcome = "refused" if sample.status else "lost"
            return sample
        try:
            call = await asyncio.wait_for(answer, max(0.0, start + ANSWER_TIMEOUT_S - time.perf_counter()))
        except TimeoutError:
            self._waiting.pop(rid, None)
            return sample
        sample.answer_s = time.perf_counter() - start
        said = sample.said = json.dumps(call.get("params", {}), ensure_ascii=False).lower()
        sample.error = f"{call.get('error')} {call.get('why') or ''}".strip()
        notice = len(call.get("params", {}).get("blocks") or []) <= 2  # article text may say "busy" too
        sample.outcome = ("rejected" if not call.get("ok") else "busy" if notice and BUSY in said
                          else "failed" if notice and FAILED in said
                          else "not-ready" if notice and NOT_READY in said else "answered")
        return sample


async def burst(slack: Slack, texts: list[str], seconds: float) -> list[Sample]:
    """Send all commands open-loop, evenly spread over `seconds` (response_urls are made beforehand)."""
    urls = [await slack.new_response_url() for _ in texts]
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    async def one(i: int) -> Sample:
        await asyncio.sleep(max(0.0, t0 + i * seconds / len(texts) - loop.time()))
        return await slack.command(texts[i], urls[i])

    return list(await asyncio.gather(*(one(i) for i in range(len(texts)))))


async def sequential(slack: Slack, texts: list[str]) -> list[Sample]:
    return [await slack.command(text, await slack.new_response_url()) for text in texts]


class Bot:
    """One `tradebot run` process in HTTP mode; its log goes to a file (never parsed for secrets)."""

    def __init__(self, env: dict[str, str], workdir: Path, label: str) -> None:
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log = workdir / f"bot-{label}.log"
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        self.started = time.perf_counter()
        with self.log.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=self.env,
                                                             cwd=self.workdir, stdout=log, stderr=log)

    async def health(self, http: aiohttp.ClientSession) -> dict[str, Any] | None:
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
                return dict(await r.json())
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None

    async def wait_until(self, http: aiohttp.ClientSession, ready: Any, timeout: float) -> float:
        """Seconds from process start until `ready(health)` holds; raises if the bot dies or times out."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            assert self.proc is not None
            if self.proc.returncode is not None:
                raise RuntimeError(f"the bot exited ({self.proc.returncode}); log:\n{self.tail()}")
            state = await self.health(http)
            if state is not None and ready(state):
                return time.perf_counter() - self.started
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the bot was not ready within {timeout:.0f}s; log:\n{self.tail()}")

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self, patience: float = 30.0) -> float | None:
        """SIGTERM, then seconds until it exited; None when it had to be killed after `patience`."""
        if self.proc is None or self.proc.returncode is not None:
            return None
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), patience)
            return time.perf_counter() - t0
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            return None


def loaded(state: dict[str, Any]) -> bool:
    return int(state.get("articles") or 0) > 0


def people_ready(state: dict[str, Any]) -> bool:
    return bool(state.get("people_ready"))


async def people_phase(cache: Path, samples: list[Memory]) -> int:
    """The number of samples taken SETTLE_S after the saved search index appeared (the bot has swapped
    its built copy for the saved one by then; the people are saved later)."""
    while not any(cache.glob("index-*/manifest.json")):
        await asyncio.sleep(0.2)
    await asyncio.sleep(SETTLE_S)
    return len(samples)


async def saved_index(cache: Path, bot: Bot, timeout: float) -> float:
    """Seconds from bot start until the saved index is written and has stopped changing (people included)."""
    deadline, last, stable_since = time.perf_counter() + timeout, None, 0.0
    while time.perf_counter() < deadline:
        files = [p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".tmp") and ".tmp-" not in str(p)]
        state = sorted((str(p), p.stat().st_size) for p in files) if files else None
        now = time.perf_counter()
        if state is not None and state == last:
            if now - stable_since >= 1.0:
                return stable_since - bot.started
        else:
            last, stable_since = state, now
        await asyncio.sleep(0.2)
    raise RuntimeError(f"no saved index in {cache} within {timeout:.0f}s; log:\n{bot.tail()}")


async def start_fake(workdir: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """`tradebot fake-slack` on a free port; its printed settings (the harness's test tokens)."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "fake-slack", cwd=workdir,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    async with asyncio.timeout(30):
        while "SLACK_SIGNING_SECRET" not in printed:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise RuntimeError("fake-slack exited before printing its settings")
            if match := re.match(r"\s*fake Slack at (\S+)", line):
                printed["url"] = match.group(1)
            elif match := re.match(r"\s*(SLACK_[A-Z_]+)=(\S+)", line):
                printed[match.group(1)] = match.group(2)
    return proc, printed


def row(name: str, phase: Phase, base: Phase | None) -> str:
    acks = [s.ack_s * 1000 for s in phase.samples if s.ack_s is not None]
    answers = [s.answer_s * 1000 for s in phase.samples if s.answer_s is not None]
    late = sum(a > ACK_LIMIT_S * 1000 for a in acks)
    cells = [f"{pct(acks, q):>7.0f}" for q in (50, 95, 99)] + [f"{pct(answers, q):>8.0f}" for q in (50, 95, 99)]
    ratio = ""
    if base is not None:
        base_acks = [s.ack_s for s in base.samples if s.ack_s is not None]
        base_answers = [s.answer_s for s in base.samples if s.answer_s is not None]
        mine_acks = [a / 1000 for a in acks]
        mine_answers = [a / 1000 for a in answers]
        ratio = (f"  {pct(mine_acks, 99) / pct(base_acks, 99):.1f}x / "
                 f"{pct(mine_answers, 99) / pct(base_answers, 99):.1f}x")
    return (f"{name:<22}{len(phase.samples):>4} " + " ".join(cells) +
            f" {phase.count('lost'):>5} {phase.count('busy'):>5} {phase.count('not-ready'):>5}"
            f" {phase.count('rejected') + phase.count('refused') + phase.count('failed'):>5} {late:>5}{ratio}")


def by_kind(phase: Phase) -> str:
    groups: dict[str, list[float]] = {}
    for s in phase.samples:
        word = s.text.split()[0]
        if s.answer_s is not None:
            groups.setdefault(word if word in ("who", "latest", "sources") else "search", []).append(s.answer_s * 1000)
    return ", ".join(f"{k} {pct(v, 50):.0f}/{pct(v, 99):.0f}" for k, v in sorted(groups.items()))


def print_table(phases: list[Phase]) -> None:
    print(f"{'':<22}{'n':>4} {'ack p50':>7} {'p95':>7} {'p99':>7} {'ans p50':>8} {'p95':>8} {'p99':>8} "
          f"{'lost':>5} {'busy':>5} {'!rdy':>5} {'fail':>5} {'ack>3s':>5}  p99 vs sequential (ack / answer)")
    base = next(p for p in phases if p.name == "sequential")
    for phase in phases:
        print(row(phase.name, phase, None if phase is base else base))
    for phase in phases:
        print(f"  answer p50/p99 ms by kind, {phase.name}: {by_kind(phase)}")
    print("  bot process CPU per command (ms; background work meanwhile included): " + ", ".join(
        f"{p.name} {p.bot_cpu_s * 1000 / max(len(p.samples), 1):.1f}" for p in phases))
    refusals = Counter((p.name, s.text, s.error[:120] if s.outcome == "rejected"
                       else "error notice" if s.outcome == "failed" else f"ack HTTP {s.status}")
                       for p in phases for s in p.samples if s.outcome in ("rejected", "refused", "failed"))
    for (name, text, why), n in sorted(refusals.items()):
        print(f"  failed, {name}: {n} x /trade {text}: {why}")
    for phase in phases:
        if phase.count("lost"):
            print(f"  lost, {phase.name}: {phase.late} of {phase.count('lost')} arrived late (counted once no answer was in flight, "
                  "at most 30 s after the burst)")
    print("(ms; answers = until the answer reached response_url; lost = none within 10 s; "
          "!rdy = 'still reading' notices; fail = non-200 acks, answers Slack refused, error notices)")


@dataclass
class Figures:
    phases: list[Phase] = field(default_factory=list)
    stops: dict[str, float | None] = field(default_factory=dict)  # SIGTERM to exit, seconds; None: killed
    starts: dict[str, float] = field(default_factory=dict)
    rss_build: list[Memory] = field(default_factory=list)  # from the start from scratch to its save
    rss_load: list[Memory] = field(default_factory=list)  # the restarted bot, from ready through its bursts
    people_phase_at = 0  # the first sample of `rss_build` SETTLE_S after its search index was saved (the
    # bot has swapped its built copy for the saved one; the people directory is still being built)
    rss_settled: Memory = NO_MEMORY  # after the build from scratch, once saved and settled
    rss_idle: tuple[float, Memory] = (math.nan, NO_MEMORY)  # then once its people worker ended: seconds after the save
    fresh: dict[str, float | None] = field(default_factory=dict)  # seconds until searches see a change

    def report(self) -> None:
        s = self.starts
        print(f"start: search ready from scratch {s['scratch']:.1f}s, people {s['scratch people']:.1f}s, saved index "
              f"(people included) written at {s['saved']:.1f}s; restart from the saved index: ready in {s['restart']:.1f}s, "
              f"people ready {s['restart people']:.1f}s")
        during = self.rss_build[self.people_phase_at:] if self.people_phase_at else []
        people_phase = f"peak {peak(during)}" if during else "(no reading: saved within that)"
        print(f"bot RSS (with any child processes): peak {peak(self.rss_build)} while building from scratch, "
              f"{people_phase} from {SETTLE_S:.0f} s after its search save to its people save, "
              f"{self.rss_settled} {SETTLE_S:.0f} s after that, "
              f"{self.rss_idle[1]} once its idle people worker ended ({self.rss_idle[0]:.0f} s after the save); "
              f"after the restart {(self.rss_load or [NO_MEMORY])[0]} when ready, peak {peak(self.rss_load)} under load")
        if self.fresh:
            print("fresh articles (restarted bot): " + "; ".join(
                f"{k}: {'not seen within 120 s' if v is None else f'searches see it after {v:.1f}s'}"
                for k, v in self.fresh.items()) + " (the file moved into place, then deleted; searched every 0.2 s)")
        print("SIGTERM to exit: " + "; ".join(f"{k} {'killed after 30 s' if v is None else f'{v:.1f}s'}"
                                              for k, v in self.stops.items()))
        print_table(self.phases)


class LoadRun:
    """The steps of one benchmark run, in order; every bot started is stopped by `close`."""

    def __init__(self, args: argparse.Namespace, corpus: Path, workdir: Path, printed: dict[str, str],
                 http: aiohttp.ClientSession) -> None:
        self.args, self.workdir, self.http, self.corpus = args, workdir, http, corpus
        self.texts = command_mix(args.burst, who_names(corpus))
        self.slack = Slack(http, printed["url"], printed["SLACK_SIGNING_SECRET"])
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRADEBOT_", "DIGEST_"))}
        self.env = {**keep, "SLACK_API_URL": printed["SLACK_API_URL"], "SLACK_BOT_TOKEN": printed["SLACK_BOT_TOKEN"],
                    "SLACK_SIGNING_SECRET": printed["SLACK_SIGNING_SECRET"], "TRADEBOT_MODE": "http",
                    "HOST": "127.0.0.1", "TRADEBOT_CORPUS": str(corpus), "TRADEBOT_DB": str(workdir / "db.sqlite3"),
                    "TRADEBOT_INDEX_CACHE": str(workdir / "index"), "TRADEBOT_FEEDS_ENABLED": "false",
                    "DIGEST_ENABLED": "false", "LOG_LEVEL": "INFO"}
        self.bots: list[Bot] = []
        self.figures = Figures()

    async def start_bot(self, label: str, **env: str) -> Bot:
        bot = Bot({**self.env, **env}, self.workdir, label)
        self.bots.append(bot)
        await bot.start()
        return bot

    async def stop_during_build(self) -> None:
        bot = await self.start_bot("abandoned", TRADEBOT_INDEX_CACHE=str(self.workdir / "index-abandoned"))
        await bot.wait_until(self.http, lambda _: True, 60)
        await asyncio.sleep(self.args.stop_after)
        building = not loaded(await bot.health(self.http) or {})
        self.figures.stops["during the build" if building else "(build already done)"] = await bot.stop()

    async def from_scratch(self) -> None:
        bot = await self.start_bot("scratch")
        sampler = asyncio.create_task(sample_rss(bot.pid, self.figures.rss_build))
        phase = asyncio.create_task(people_phase(self.workdir / "index", self.figures.rss_build))
        self.figures.starts["scratch"] = await bot.wait_until(self.http, loaded, self.args.ready_timeout)
        people = asyncio.create_task(bot.wait_until(self.http, people_ready, self.args.ready_timeout))
        self.slack.bot_url = bot.events_url
        fresh = Phase("burst (fresh build)")
        await self.burst(bot, fresh)
        self.figures.phases.append(fresh)
        self.figures.starts["scratch people"] = await people  # `who` answers from the directory from then on
        self.figures.starts["saved"] = await saved_index(self.workdir / "index", bot, self.args.ready_timeout)
        sampler.cancel()
        self.figures.people_phase_at = phase.result() if phase.done() else 0
        phase.cancel()
        await asyncio.sleep(SETTLE_S)  # the bot swaps to the saved (mapped) copy and hands freed memory back
        self.figures.rss_settled = memory(bot.pid)
        waited = SETTLE_S
        while worker_processes(bot.pid) and waited < IDLE_WAIT_S:  # it ends once idle (after writing its results)
            await asyncio.sleep(1.0)
            waited += 1.0
        if not worker_processes(bot.pid):
            self.figures.rss_idle = (waited, memory(bot.pid))
        self.figures.stops["after the build"] = await bot.stop()

    async def restarted(self) -> None:
        bot = await self.start_bot("restarted")
        self.figures.starts["restart"] = await bot.wait_until(self.http, loaded, self.args.ready_timeout)
        people = asyncio.create_task(bot.wait_until(self.http, people_ready, self.args.ready_timeout))
        self.slack.bot_url = bot.events_url
        bursts, seqs = Phase("burst"), Phase("sequential")
        sampler = asyncio.create_task(sample_rss(bot.pid, self.figures.rss_load))
        for _ in range(self.args.rounds):
            await self.burst(bot, bursts)
            cpu = cpu_seconds(bot.pid)
            seqs.samples += await sequential(self.slack, self.texts)
            seqs.bot_cpu_s += cpu_seconds(bot.pid) - cpu
        sampler.cancel()
        self.figures.starts["restart people"] = await people  # read while the first burst was answered
        self.figures.phases += [bursts, seqs]
        await self.fresh_article()
        self.figures.stops["after load"] = await bot.stop()

    async def fresh_article(self) -> None:
        """Seconds from a new article file (moved into place, as the feeds write) until a search finds
        it, then from its deletion until no search does; searched every 0.2 s."""
        word = "".join(random.choice("bcdfghjklmnpqrstvwxz") for _ in range(12))  # a word in no corpus
        article = Article(id=f"{FRESH_PREFIX}{word}", title=f"Quokka exporters weigh {word} tariffs", publisher="Bench Wire",
                          url=f"https://bench.example/{word}", published=dt.date.today(),
                          paragraphs=[f"Exporters of {word} said new tariffs would hit them hard."])  # type: ignore[call-arg]
        path = self.corpus / f"{article.id}.md"
        tmp = self.workdir / f"{article.id}.md"
        tmp.write_text(render_article(article), encoding="utf-8")
        try:
            t0 = time.perf_counter()
            shutil.move(tmp, path)
            self.figures.fresh["added"] = await self.until_found(word, True, t0)
            t0 = time.perf_counter()
            path.unlink()
            self.figures.fresh["deleted"] = await self.until_found(word, False, t0)
        finally:
            path.unlink(missing_ok=True)

    async def until_found(self, word: str, wanted: bool, t0: float, timeout: float = 120.0) -> float | None:
        while time.perf_counter() - t0 < timeout:
            sample = await self.slack.command(word, await self.slack.new_response_url())
            if sample.outcome == "answered" and (FRESH_PREFIX + word in sample.said) == wanted:
                return time.perf_counter() - t0
            await asyncio.sleep(0.2)
        return None

    async def burst(self, bot: Bot, phase: Phase) -> None:
        """One burst; then wait for the answers still in flight and count the lost ones that arrived late."""
        cpu = cpu_seconds(bot.pid)
        samples = await burst(self.slack, self.texts, self.args.seconds)
        phase.samples += samples
        await quiet(bot, self.http)
        phase.bot_cpu_s += cpu_seconds(bot.pid) - cpu
        phase.late += await self.slack.answered({s.response_id for s in samples if s.outcome == "lost"})

    async def close(self) -> None:
        await self.slack.close()
        for bot in self.bots:
            await bot.stop(5)


async def run(args: argparse.Namespace) -> int:
    corpus = (args.corpus.resolve() if args.corpus
              else generate(ROOT / "corpus", (args.data / str(args.articles)).resolve(), args.articles))
    for leftover in corpus.glob(f"{FRESH_PREFIX}*.md"):  # from a run that was killed
        leftover.unlink()
    args.data.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="load-", dir=args.data.resolve()))
    print(f"machine: {os.cpu_count()} cores; corpus {corpus} ({sum(1 for _ in corpus.glob('*.md')):,} articles); "
          f"burst of {args.burst} over {args.seconds:g}s, {args.rounds} round(s)", flush=True)
    fake: asyncio.subprocess.Process | None = None
    try:
        fake, printed = await start_fake(workdir)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            steps = LoadRun(args, corpus, workdir, printed, http)
            try:
                if args.stop_during_build:
                    await steps.stop_during_build()
                await steps.from_scratch()
                await steps.restarted()
            finally:
                await steps.close()
    finally:
        if fake is not None:
            await stop_fake(fake)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    steps.figures.report()
    return 0


async def stop_fake(fake: asyncio.subprocess.Process) -> None:
    fake.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(fake.wait(), 10)
    except TimeoutError:
        fake.kill()
        await fake.wait()


def peak(values: list[Memory]) -> Memory:
    """The sample of the highest total."""
    return max((v for v in values if not math.isnan(v.total)), key=lambda v: v.total, default=NO_MEMORY)


async def sample_rss(pid: int, into: list[Memory]) -> None:
    for _ in range(10_000):
        into.append(memory(pid))
        await asyncio.sleep(SAMPLE_S)


async def quiet(bot: Bot, http: aiohttp.ClientSession, timeout: float = 30.0) -> None:
    """Let answers still in flight finish before the next phase (bounded)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        state = await bot.health(http)
        if state is not None and not state.get("answers_in_flight"):
            return
        await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="synthetic corpus size")
    parser.add_argument("--corpus", type=Path, help="use this corpus directory instead of a synthetic one")
    parser.add_argument("--burst", type=int, default=50, help="commands per burst")
    parser.add_argument("--seconds", type=float, default=1.0, help="the burst is spread over this many seconds")
    parser.add_argument("--rounds", type=int, default=1, help="bursts (each followed by the sequential baseline)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TRADEBOT_BENCH_DATA", "bench-data")))
    parser.add_argument("--ready-timeout", type=float, default=900.0, help="seconds to wait for each start")
    parser.add_argument("--no-stop-during-build", dest="stop_during_build", action="store_false",
                        help="skip the SIGTERM sent to a bot that is still building its index")
    parser.add_argument("--stop-after", type=float, default=2.0, help="seconds into that build to send SIGTERM")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (bot logs, saved index)")
    args = parser.parse_args()
    if not 1 <= args.burst <= 1000 or not 1 <= args.rounds <= 20 or not 0 < args.seconds <= 60:
        parser.error("--burst 1..1000, --rounds 1..20, --seconds (0, 60]")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
