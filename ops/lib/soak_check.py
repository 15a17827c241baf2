#!/usr/bin/env python3
"""Verdict of an ops/soak run: memory and open files flat, nothing lost.

Usage: soak_check.py OUT_DIR [CHURN] (reads samples.csv and traffic.json; prints markdown;
exits 1 on a failure). For each process, the median of the samples in the second fifth of
the run (after the warm-up) is compared with the median of the last fifth: resident memory
may grow by at most max(25 %, 16 MiB), open files by at most max(10 %, 20) plus CHURN (the
churning clients, default 0: whether they are connected at a sample is a matter of phase,
and a short run has few samples per window; a leak grows by that much every cycle). Every traffic step must
have lost and duplicated nothing and had every send acknowledged. Every hostile phase
(hostile-N.json, from `chat-load hostile`) must have seen the watched processes' memory come
back within its bound; the delivery latency of the steps it overlapped is set beside that of
the other steps (what the other users felt; reported, not judged).
"""
import csv
import json
import pathlib
import statistics
import sys


def main():
    out = pathlib.Path(sys.argv[1])
    churn = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    rows = list(csv.DictReader((out / "samples.csv").open()))
    failures = []
    lines = ["# Soak summary", "", "| process | RSS after warm-up | RSS at the end | open files after warm-up | at the end | verdict |", "|---|---|---|---|---|---|"]
    if not rows:
        failures.append("no samples")
    end = max((int(r["secs"]) for r in rows), default=0)
    for name in sorted({r["process"] for r in rows}):
        mine = [r for r in rows if r["process"] == name]
        early = [r for r in mine if 0.2 * end <= int(r["secs"]) < 0.4 * end]
        late = [r for r in mine if int(r["secs"]) >= 0.8 * end]
        if not early or not late:
            failures.append(f"{name}: too few samples ({len(mine)})")
            continue
        rss0 = statistics.median(int(r["rss_kib"]) for r in early)
        rss1 = statistics.median(int(r["rss_kib"]) for r in late)
        fd0 = statistics.median(int(r["open_files"]) for r in early)
        fd1 = statistics.median(int(r["open_files"]) for r in late)
        problems = []
        if rss1 - rss0 > max(0.25 * rss0, 16 * 1024):
            problems.append(f"memory grew {rss0 / 1024:.1f} → {rss1 / 1024:.1f} MiB")
        if fd1 - fd0 > max(0.10 * fd0, 20) + churn:
            problems.append(f"open files grew {fd0:.0f} → {fd1:.0f}")
        failures += [f"{name}: {p}" for p in problems]
        lines.append(f"| {name} | {rss0 / 1024:.1f} MiB | {rss1 / 1024:.1f} MiB | {fd0:.0f} | {fd1:.0f} | {'flat' if not problems else '; '.join(problems)} |")
    traffic = json.loads((out / "traffic.json").read_text())
    sent = sum(s["sent"] for s in traffic["steps"])
    delivered = sum(s["unique_deliveries"] for s in traffic["steps"])
    for i, s in enumerate(traffic["steps"]):
        if s["lost"] or s["duplicates"]:
            failures.append(f"step {i + 1}: lost {s['lost']}, duplicated {s['duplicates']}")
        if s["acked"] != s["sent"]:
            failures.append(f"step {i + 1}: {s['sent']} sent but {s['acked']} acknowledged ({s['refused']})")
    failures += hostile_phases(out, traffic, lines)
    lines += ["", f"Traffic: {len(traffic['steps'])} steps, {sent:,} messages sent, {delivered:,} deliveries over {end} s of samples.", ""]
    if failures:
        lines += ["**Failures:**", ""] + [f"- {f}" for f in failures]
    else:
        lines.append("Verdict: memory and open files flat, nothing lost.")
    print("\n".join(lines))
    sys.exit(1 if failures else 0)


def hostile_phases(out, traffic, lines):
    """Checks each hostile phase and reports the latency of the steps it overlapped."""
    failures = []
    phases = sorted(out.glob("hostile-*.json"))
    for status_file in sorted(out.glob("hostile-*.status")):
        if status_file.read_text().strip() != "0" and not status_file.with_suffix(".json").exists():
            failures.append(f"{status_file.stem}: did not run (see {status_file.stem}.log)")
    if not phases:
        return failures
    steps = traffic["steps"]
    offset = traffic.get("connect", {}).get("secs", 0.0)
    bounds, t = [], offset
    for s in steps:
        bounds.append((t, t + s["secs"]))
        t += s["secs"]
    lines += ["", "## Hostile phases", "", "| phase | stalled replays | failed logins | memory back | delivery p50 / p99 during | other steps p50 / p99 |", "|---|---|---|---|---|---|"]
    for path in phases:
        h = json.loads(path.read_text())
        start_file = path.with_suffix(".start")
        start = float(start_file.read_text()) if start_file.exists() else 0.0
        end = start + h["attack_secs"]
        during = [i for i, (a, b) in enumerate(bounds) if a < end and b > start]
        others = [i for i in range(len(steps)) if i not in during]

        def lat(idx):
            if not idx:
                return "–"
            p50 = statistics.median(steps[i]["delivery_ms"]["p50"] for i in idx)
            p99 = max(steps[i]["delivery_ms"]["p99"] for i in idx)
            return f"{p50:.1f} / {p99:.1f} ms"

        back = []
        for m in h["memory"]:
            if m["returned_after_secs"] is None:
                failures.append(f"{h['label']}: pid {m['pid']} RSS {m['before_kib'] / 1024:.0f} → {m['after_kib'] / 1024:.0f} MiB, not back within {h['memory_slack_mib']} MiB in {h['recover_secs']} s")
                back.append(f"pid {m['pid']}: no")
            else:
                back.append(f"pid {m['pid']}: peak {m['peak_kib'] / 1024:.0f} MiB, back in {m['returned_after_secs']:.1f} s")
        stalled = ", ".join(f"{n} {k}" for k, n in h["stalled_outcomes"].items())
        logins = ", ".join(f"{n}× {k}" for k, n in h["login_statuses"].items())
        lines.append(f"| {h['label']} (t={start:.0f}–{end:.0f} s, steps {', '.join(str(i + 1) for i in during) or '–'}) | {stalled} | {logins} | {'; '.join(back)} | {lat(during)} | {lat(others)} |")
    return failures


if __name__ == "__main__":
    main()
