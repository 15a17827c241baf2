#!/usr/bin/env python3
"""Summary of one ops/bench run: each scenario's figure for this product and its peers,
the ratio to the peers, and the target with how far it is met or missed.

Usage: bench_summary.py RESULTS_DIR  (reads the *.json files chat-load wrote there;
prints markdown). Exits 1 if a result shows lost or duplicated messages of this product.
"""
import json
import pathlib
import sys

P99_BOUND_MS = 50.0


def load(out, name):
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def best_step(result, bound=P99_BOUND_MS):
    """The step with the most deliveries/s whose p99 is within the bound and lost nothing."""
    if not result:
        return None
    ok = [s for s in result["steps"] if s["delivery_ms"]["p99"] <= bound and s["lost"] == 0]
    return max(ok, key=lambda s: s["deliveries_per_sec"]) if ok else None


def verdict(value, target, higher_is_better):
    if value is None:
        return "not measured"
    if higher_is_better:
        return "met" if value >= target else f"missed: {value / target:.0%} of the target"
    return "met" if value <= target else f"missed: {value / target:.1f}x the target"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def fmt(v, unit=""):
    return "–" if v is None else f"{v:,.0f}{unit}" if v >= 100 else f"{v:.2f}{unit}"


def main():
    out = pathlib.Path(sys.argv[1])
    lines = ["# Benchmark summary", ""]
    cmd = (out / "command").read_text().strip() if (out / "command").exists() else "ops/bench"
    lines += [f"From `{cmd}`; every table of the run is in report.md beside this file.", ""]
    lines += ["| scenario | this product | Socket.IO | Bun | vs Socket.IO | vs Bun | target | verdict |",
              "|---|---|---|---|---|---|---|---|"]
    failures = []

    def integrity(name, result):
        if not result:
            return
        for s in result.get("steps", []):
            if s["lost"] or s["duplicates"]:
                failures.append(f"{name}: lost {s['lost']}, duplicated {s['duplicates']} at {s['rate']} sends/s")
        storm = result.get("storm")
        if storm and storm["lost"]:
            failures.append(f"{name}: {storm['lost']} replayed events lost")

    # 1. Idle connections: server memory per connection.
    idle = {t: load(out, f"idle-{t}") for t in ("chat", "socketio", "bun")}
    per = {t: (r["rss"]["bytes_per_connection"] / 1024 if r and r.get("rss") else None) for t, r in idle.items()}
    if idle["chat"]:
        n = idle["chat"]["connect"]["joined"]
        lines.append(f"| idle: server RSS per connection ({n:,} held) | {fmt(per['chat'], ' KiB')} | {fmt(per['socketio'], ' KiB')} | {fmt(per['bun'], ' KiB')} | {ratio(per['socketio'], per['chat'])} less | {ratio(per['bun'], per['chat'])} less | ≤ 8 KiB | {verdict(per['chat'], 8, False)} |")

    # 2. Small rooms (over /ws, and over /socket.io/ beside the Socket.IO peer in the same
    # framing) and 3. one big room: deliveries/s within p99 ≤ 50 ms.
    for name, product, target, label in (
            ("small-rooms", "chat", 60000, "small rooms: deliveries/s at p99 ≤ 50 ms"),
            ("small-rooms", "chat-socketio", None, "small rooms over /socket.io/ (the Socket.IO peer in the same framing): deliveries/s at p99 ≤ 50 ms"),
            ("big-room", "chat", None, "one big room: deliveries/s at p99 ≤ 50 ms")):
        # Bun does not speak Socket.IO: it is shown beside /ws only.
        peers = ("socketio", "bun") if product == "chat" else ("socketio",)
        runs = {t: load(out, f"{name}-{t}") for t in peers}
        runs["bun"] = runs.get("bun")
        runs["chat"] = load(out, f"{name}-{product}")
        if not runs["chat"]:
            continue
        integrity(name if product == "chat" else f"{name} over /socket.io/", runs["chat"])
        best = {t: best_step(r) for t, r in runs.items()}
        val = {t: (b["deliveries_per_sec"] if b else (0.0 if runs[t] else None)) for t, b in best.items()}
        p99 = {t: (f" (p99 {b['delivery_ms']['p99']:.1f} ms)" if b else "") for t, b in best.items()}
        cell = {t: (fmt(val[t]) + p99[t] if val[t] is not None else "–") for t in val}
        tgt = "≥ 60,000 and ≥ 3x Socket.IO" if target else "–"
        if target:
            v = verdict(val["chat"], target, True)
            if val["socketio"]:
                v += f"; {ratio(val['chat'], val['socketio'])} Socket.IO ({'met' if val['chat'] >= 3 * val['socketio'] else 'missed'})"
        elif product == "chat-socketio":
            ws = best_step(load(out, f"{name}-chat"))
            v = f"(no target) {ratio(val['chat'], ws['deliveries_per_sec'] if ws else None)} of /ws"
        else:
            v = "(no target)"
        lines.append(f"| {label} | {cell['chat']} | {cell['socketio']} | {cell['bun']} | {ratio(val['chat'], val['socketio'])} | {ratio(val['chat'], val['bun'])} | {tgt} | {v} |")

    # 4. Persisted send latency.
    r = load(out, "send-latency-chat")
    if r and r["steps"]:
        integrity("send-latency", r)
        s = r["steps"][-1]
        rate = s["acked"] / s["secs"]
        a = s["ack_ms"]
        lines.append(f"| persisted send at {s['rate']:,.0f}/s asked ({rate:,.0f}/s acked): ack p50 / p99 / p99.9 | {a['p50']:.2f} / {a['p99']:.2f} / {a['p999']:.2f} ms | – | – | – | – | p50 ≤ 2 ms, p99 ≤ 15 ms | p50 {verdict(a['p50'], 2, False)}; p99 {verdict(a['p99'], 15, False)} |")

    # 5. Projector.
    r = load(out, "projector-chat")
    if r:
        lines.append(f"| projector: {r['events']:,} events caught up (events/s) | {r['catch_up_secs']:.1f} s ({r['events_per_sec']:,.0f}/s) | – | – | – | – | ≥ 50,000/s; 1M in ≤ 20 s | {verdict(r['events_per_sec'], 50000, True)} |")

    # 6. getMessages under ingest.
    r = load(out, "history-chat")
    if r and r["steps"] and r["steps"][-1].get("http"):
        integrity("history", r)
        s = r["steps"][-1]
        h = s["http"]
        lines.append(f"| getMessages at {h['qps']:,.0f}/s while {s['acked'] / s['secs']:,.0f} msgs/s stored: p50 / p99 | {h['ms']['p50']:.2f} / {h['ms']['p99']:.2f} ms | – | – | – | – | p99 ≤ 5 ms | {verdict(h['ms']['p99'], 5, False)} |")

    # 7. Reconnect storm.
    r = load(out, "storm-chat")
    if r and r.get("storm"):
        integrity("storm", r)
        st = r["storm"]
        lines.append(f"| reconnect storm: {st['clients']:,} clients resume at once | {st['resumed']:,} resumed in {st['secs_to_all_resumed']:.2f} s, {st['not_replayed']:,} events not replayed, lost {st['lost']} | – | – | – | – | all in ≤ 5 s, none lost | {verdict(st['secs_to_all_resumed'], 5, False) if st['resumed'] == st['clients'] else 'missed: not all resumed'} |")

    lines.append("")
    if failures:
        lines += ["**Integrity failures:**", ""] + [f"- {f}" for f in failures] + [""]
    print("\n".join(lines))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
