#!/usr/bin/env python3
"""Verdict of an ops/soak run: memory and open files flat, nothing lost.

Usage: soak_check.py OUT_DIR (reads samples.csv and traffic.json; prints markdown; exits 1
on a failure). For each process, the median of the samples in the second fifth of the run
(after the warm-up) is compared with the median of the last fifth: resident memory may grow
by at most max(25 %, 16 MiB), open files by at most max(10 %, 20). Every traffic step must
have lost and duplicated nothing and had every send acknowledged.
"""
import csv
import json
import pathlib
import statistics
import sys


def main():
    out = pathlib.Path(sys.argv[1])
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
        if fd1 - fd0 > max(0.10 * fd0, 20):
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
    lines += ["", f"Traffic: {len(traffic['steps'])} steps, {sent:,} messages sent, {delivered:,} deliveries over {end} s of samples.", ""]
    if failures:
        lines += ["**Failures:**", ""] + [f"- {f}" for f in failures]
    else:
        lines.append("Verdict: memory and open files flat, nothing lost.")
    print("\n".join(lines))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
