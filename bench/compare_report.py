#!/usr/bin/env python3
"""bench/compare_report.py: turns bench/compare's raw results into docs/BENCHMARKS.md."""
import argparse
import json
import os
import platform
import subprocess


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except Exception:
            return "?"
    return {
        "nproc": os.cpu_count(), "cpu": model, "memory": f"{mem_kib / 1048576:.1f} GiB",
        "kernel": platform.release(),
        "haproxy": version(["haproxy", "-v"]),
        "mosquitto": version(["mosquitto", "-h"]),
        "redis": version(["redis-server", "--version"]),
    }


def ratio(ours, other):
    return f"{ours / other:.2f}x" if other else "n/a"


def main():
    p = argparse.ArgumentParser()
    for name in ["results", "memory", "command", "pinned", "duration", "churn-concurrency",
                 "msg-connections", "hard-nofile", "loadavg", "out"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--idle-sessions", help="bench/idle-sessions --json output, if it ran")
    a = p.parse_args()
    results = load(a.results)
    memory = load(a.memory)
    # Repeated runs of one test (the message rounds): keep the median by messages/s.
    groups = {}
    for r in results:
        groups.setdefault((r["system"], r["test"]), []).append(r)
    def median_run(runs):
        ranked = sorted(runs, key=lambda r: r.get("messages", {}).get("received_per_second", 0) or 0)
        return ranked[(len(ranked) - 1) // 2]
    by = {key: median_run(runs) for key, runs in groups.items()}
    rounds = {key: runs for key, runs in groups.items() if len(runs) > 1}
    m = machine()
    names = {"proxy": "mqtt-auth-proxy", "haproxy": "HAProxy", "mosquitto_tls": "Mosquitto TLS",
             "mosquitto_plain": "Mosquitto plain TCP"}
    systems = ["proxy", "haproxy", "mosquitto_tls"]

    def cps(system, test):
        return float(by.get((system, test), {}).get("connections_per_second", 0) or 0)

    def mps(system, test):
        return float(by.get((system, test), {}).get("messages", {}).get("received_per_second", 0) or 0)

    def fails(system, test):
        r = by.get((system, test), {})
        return sum(r.get("failures", {}).values()) + r.get("dropped", 0)

    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w("mqtt-auth-proxy against the two things users would otherwise deploy, on the same machine,")
    w("in the same run, with the same ECDSA P-256 certificate and the same Mosquitto backend:")
    w("")
    w("- **mqtt-auth-proxy**: token auth on a TLS port, one Redis lookup per CONNECT (`$7$`")
    w("  PBKDF2-SHA512 secret, 101 iterations as mosquitto_passwd writes them), then the CONNECT")
    w("  is forwarded to Mosquitto over plain TCP on loopback. `workers: 1`.")
    w("- **HAProxy** (Debian 2.6) terminating TLS in TCP mode in front of the same Mosquitto,")
    w("  **no authentication**. `nbthread 1`.")
    w("- **Mosquitto** terminating TLS itself (a second listener with `certfile`/`keyfile`),")
    w("  anonymous.")
    w("")
    w("## Machine and method")
    w("")
    w(f"- {m['nproc']} CPUs: {m['cpu']}; {m['memory']} RAM; Linux {m['kernel']}")
    w(f"- {m['haproxy']}; {m['mosquitto']}; {m['redis']}")
    w(f"- Load average at start / end of the run: {a.loadavg}. When other jobs share the")
    w("  machine, absolute figures drop and get noisy; the ratios within one run are what to")
    w("  read.")
    pinned = a.pinned == "1"
    if pinned:
        w("- **Pinned**: the whole server side (the front under test, the Mosquitto backend,")
        w("  Redis) runs on CPU 0 (`taskset -c 0`), the load generator on CPU 1. The server side")
        w("  of each system therefore has exactly one core; each front runs one thread.")
    else:
        w("- **Not pinned**: the load generator shares the 2 cores with the servers.")
    w(f"- Load generator: `mqtt-auth-bench` (this repo), MQTT 3.1.1, one thread. Connection")
    w(f"  rate: {a.churn_concurrency} connections in flight, each DISCONNECTs right after")
    w(f"  CONNACK and is replaced, for {a.duration} s (rate = CONNACK 0 count / time).")
    w(f"  Messages: {a.msg_connections} connections through the front (1 subscriber, the rest")
    w("  publishers, one topic), 256 B payloads, closed loop with at most 200 messages in")
    w("  flight; messages/s = messages the subscriber received per second; several rounds")
    w("  alternate the systems and the table shows each system's median round.")
    w("- Memory: RSS of the front process (`VmRSS`) with N idle TLS connections open after")
    w("  CONNACK minus its RSS before, divided by N. The backend Mosquitto's growth is shown")
    w("  separately (it is the same for the proxy and HAProxy and is not in the ratio).")
    w(f"- Devices for the proxy come from `mqtt-authctl device bulk-add` (one shared key).")
    w("")
    w("Reproduce (after `make`):")
    w("")
    w("```")
    w(f"{a.command}")
    w("```")
    w("")
    w("## New TLS connections per second, up to CONNACK")
    w("")
    w("| handshake | mqtt-auth-proxy | HAProxy | Mosquitto TLS | proxy / HAProxy | proxy / Mosquitto |")
    w("|---|---|---|---|---|---|")
    for test, label in [("churn_tls13", "TLS 1.3 full"), ("churn_tls12", "TLS 1.2 full"),
                        ("churn_tls13_resume", "TLS 1.3 resumed"),
                        ("churn_tls12_resume", "TLS 1.2 resumed")]:
        vals = [cps(s, test) for s in systems]
        w(f"| {label} | " + " | ".join(f"{v:.0f}" for v in vals) +
          f" | {ratio(vals[0], vals[1])} | {ratio(vals[0], vals[2])} |")
    w("")
    resumed = {s: by.get((s, "churn_tls13_resume"), {}).get("resumed", 0) for s in systems}
    attempted = {s: by.get((s, "churn_tls13_resume"), {}).get("attempted", 0) for s in systems}
    w("Resumed handshakes (TLS 1.3 run): " + ", ".join(
        f"{names[s]} {resumed[s]}/{attempted[s]}" for s in systems) + ".")
    bad = [f"{names[s]} {t}: {fails(s, t)}" for (s, t) in by if fails(s, t)]
    w("Failures or drops: " + ("; ".join(bad) if bad else "none") + ".")
    w("")
    w("## CONNACK latency at half the peak TLS 1.3 rate")
    w("")
    w("| | mqtt-auth-proxy | HAProxy | Mosquitto TLS |")
    w("|---|---|---|---|")
    rows = {"rate (conn/s)": lambda r: f"{r.get('connections_per_second', 0):.0f}"}
    for q in ["p50", "p90", "p99", "max"]:
        rows[f"{q} (ms)"] = (lambda q: lambda r: f"{r.get('latency_us', {}).get('connack', {}).get(q, 0) / 1000:.2f}")(q)
    for label, fn in rows.items():
        w(f"| {label} | " + " | ".join(fn(by.get((s, "half_peak"), {})) for s in systems) + " |")
    p99 = [by.get((s, "half_peak"), {}).get("latency_us", {}).get("connack", {}).get("p99", 0) for s in systems]
    w("")
    w(f"p99 ratio (lower is better): proxy / HAProxy {ratio(p99[0], p99[1])}, proxy / Mosquitto {ratio(p99[0], p99[2])}.")
    w("")
    w("## Messages per second through the front, 256 B payload")
    w("")
    w("| QoS | mqtt-auth-proxy | HAProxy | Mosquitto TLS | proxy / HAProxy | proxy / Mosquitto | e2e p99 ms (proxy / HAProxy / Mosquitto) |")
    w("|---|---|---|---|---|---|---|")
    for qos in ["qos0", "qos1"]:
        vals = [mps(s, qos) for s in systems]
        lat = [by.get((s, qos), {}).get("latency_us", {}).get("end_to_end", {}).get("p99", 0) / 1000 for s in systems]
        w(f"| {qos[-1]} | " + " | ".join(f"{v:.0f}" for v in vals) +
          f" | {ratio(vals[0], vals[1])} | {ratio(vals[0], vals[2])} | " +
          " / ".join(f"{x:.2f}" for x in lat) + " |")
    w("")
    if rounds:
        w("Every round, messages/s (the table shows each system's median):")
        w("")
        for qos in ["qos0", "qos1"]:
            w(f"- QoS {qos[-1]}: " + "; ".join(
                names[s] + " " + ", ".join(f"{r.get('messages', {}).get('received_per_second', 0):.0f}"
                                           for r in rounds.get((s, qos), []))
                for s in systems))
        w("")
    w("## Memory per idle authenticated TLS connection")
    w("")
    w("| connections | mqtt-auth-proxy KiB/conn | HAProxy KiB/conn | Mosquitto TLS KiB/conn | proxy / HAProxy | proxy / Mosquitto | backend Mosquitto KiB/conn (proxy run) |")
    w("|---|---|---|---|---|---|---|")
    counts = sorted({r["count"] for r in memory})
    for count in counts:
        per = {}
        backend = 0
        live = {}
        for r in memory:
            if r["count"] == count:
                n = max(r["live"], 1)
                per[r["system"]] = r["front_kib"] / n
                live[r["system"]] = r["live"]
                if r["system"] == "proxy":
                    backend = r["backend_kib"] / n
        vals = [per.get(s, 0) for s in systems]
        w(f"| {count} (open: " + "/".join(str(live.get(s, 0)) for s in systems) + ") | " +
          " | ".join(f"{v:.1f}" for v in vals) +
          f" | {ratio(vals[0], vals[1])} | {ratio(vals[0], vals[2])} | {backend:.1f} |")
    w("")
    for line in 'The backend column is Mosquitto\'s RSS growth while the proxy\'s connections were open;\n0.0 means it reused memory freed after earlier steps of the same run, so read it as "small",\nnot as free.\n'.splitlines():
        w(line)
    w("")
    w(f"One process here cannot go much past 9,900 connections: the container's hard "
      f"`RLIMIT_NOFILE` is {a.hard_nofile} and cannot be raised without CAP_SYS_RESOURCE, and")
    w("the proxy and HAProxy need two descriptors per connection (device + backend).")
    w("")
    idle = json.load(open(a.idle_sessions)) if a.idle_sessions and os.path.exists(a.idle_sessions) else None
    if idle:
        failed = sum(idle["failures"].values()) + idle["dropped"]
        w(f"### {idle['count']:,} idle sessions (`bench/idle-sessions --count {idle['count']}`)")
        w("")
        w(f"Past the per-process limit the proxy scales out on the same host: {idle['proxy_processes']}")
        w("proxy processes (`workers: 1` each) share the listening ports through SO_REUSEPORT,")
        w(f"with {idle['backends']} Mosquitto backends (`balance: least_connections`) and "
          f"{idle['load_generators']} load generators,")
        w("each process under the fd limit. Every session is a full TLS 1.3 handshake, a Redis")
        w("lookup and a `$7$` check, then held idle.")
        w("")
        w("| sessions asked | held | CONNACK 0 | failures + drops | ramp | proxies' RSS before → after | KiB per session |")
        w("|---|---|---|---|---|---|---|")
        w(f"| {idle['count']} | {idle['held']} | {idle['connected']} | {failed} | {idle['ramp_seconds']} s | "
          f"{idle['proxy_rss_before_kib'] / 1024:.0f} → {idle['proxy_rss_after_kib'] / 1024:.0f} MiB | "
          f"{idle['kib_per_session']} |")
        w("")
        w(f"All {idle['proxy_processes_alive_at_end']} proxy processes were still running at the end; "
          f"the load generators' largest RSS was {idle['bench_max_rss_kib'] / 1024:.0f} MiB.")
        w("")
    w("## Is the load generator the bottleneck?")
    w("")
    w("Against Mosquitto directly, plain TCP (no TLS), the same bench reaches:")
    w("")
    for test in ["churn_plain", "qos0"]:
        r = by.get(("mosquitto_plain", test), {})
        if test == "churn_plain":
            w(f"- {r.get('connections_per_second', 0):.0f} connections/s (CONNECT/CONNACK/DISCONNECT),"
              f" bench CPU {100 * r.get('bench_cpu', 0):.0f}% of its core, server side {100 * r.get('server_cpu', 0):.0f}%;")
        else:
            w(f"- {r.get('messages', {}).get('received_per_second', 0):.0f} QoS 0 messages/s,"
              f" bench CPU {100 * r.get('bench_cpu', 0):.0f}%, server side {100 * r.get('server_cpu', 0):.0f}%.")
    w("")
    w("CPU per unit of work (CPU time, not wall time, so it holds on a busy machine too): a")
    w("bench that needs far less CPU per connection or per message than the server side cannot")
    w("be what limits the run. Server side = front + Mosquitto + Redis (+ HAProxy/proxy idle).")
    w("")
    w("| run | system | bench CPU share | server CPU share | bench ms/unit | server ms/unit |")
    w("|---|---|---|---|---|---|")
    for r in results:
        units = r.get("messages", {}).get("received", 0) if r["test"].startswith("qos") else r.get("connected", 0)
        units = max(units, 1)
        bench_ms = 1000 * r["bench_cpu"] * r["wall"] / units
        server_ms = 1000 * r["server_cpu"] * r["wall"] / units
        w(f"| {r['test']} | {names[r['system']]} | {100 * r['bench_cpu']:.0f}% | {100 * r['server_cpu']:.0f}% | {bench_ms:.3f} | {server_ms:.3f} |")
    w("")
    w("(unit: one connection up to CONNACK for connection runs, one received message for qos")
    w("runs; the bench CPU of a connection run includes its own TLS handshake.)")
    w("")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "benchmarks_notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            w(f.read().rstrip())
        w("")
    text = "\n".join(lines) + "\n"
    if a.out == "-":
        print(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)
        print(text)
        print(f"written to {a.out}")


if __name__ == "__main__":
    main()
