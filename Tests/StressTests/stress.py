"""Switchboard under stress: fault injection, load and hostile input against a stack of its
own (started here, stopped at the end), with a report of tables and figures.

usage: stress.py --binary PATH/switchboard [--reduced] [--sections faults,load,hostile,rolling] [--seed N]

--reduced is the form the test suite runs (fewer users, shorter load, fewer fuzz cases);
without it, the full form (scripts/stress). The last line printed is one JSON object:
{"passed": bool, "failed": [names], "sections": {...}}; the exit status is 1 on any failure.
"""
import argparse
import json
import os
import signal
import sys
import time

# No __pycache__ beside the Swift test targets (SwiftPM would call them unhandled files).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Client"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import faults  # noqa: E402
import hostile  # noqa: E402
import load  # noqa: E402
import rolling  # noqa: E402
from stack import Stack  # noqa: E402


def table(title, columns, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--reduced", action="store_true")
    parser.add_argument("--sections", default="faults,load,hostile,rolling")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    sections = args.sections.split(",")
    form = "reduced" if args.reduced else "full"
    print(f"# Switchboard stress report ({form} form, seed {args.seed}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M:%S')})")
    # SIGTERM (a CI timeout, Ctrl-C's cousin) still stops the stack: the finally below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = Stack(args.binary)
    results = {}
    failed = []
    started = time.time()
    try:
        stack.start()
        print(f"stack up in {time.time() - started:.0f} s: gateway {stack.url}, state {stack.state}")
        def section(name, body):
            try:
                body()
            except Exception as error:  # noqa: BLE001 - one section breaking does not skip the others
                failed.append(f"{name}: {type(error).__name__}: {error}"[:500])

        def load_section():
            rows, processes = load.run(stack, args.reduced)
            table("Load: mixed workload through the gateway", load.COLUMNS, rows)
            table("Load: processes (CPU and memory over the runs)", load.PROCESS_COLUMNS, processes)
            results["load"] = rows
            failed.extend(f"load: {r['run']} {r['operation']}" for r in rows if r.get("passed") is False)

        def hostile_section():
            rows = hostile.run(stack, args.reduced, args.seed)
            table("Hostile input", hostile.COLUMNS, rows)
            results["hostile"] = rows
            failed.extend(f"hostile: {r['check']}" for r in rows if not r["passed"])

        def faults_section():
            rows = faults.run(stack, args.reduced)
            table("Faults", ["scenario", "passed", "figures", "seconds", "detail"], rows)
            results["faults"] = rows
            failed.extend(f"faults: {r['scenario']}" for r in rows if not r["passed"])

        def rolling_section():
            figures, rows = rolling.run(stack, args.reduced)
            table("Rolling restarts under load", rolling.COLUMNS, figures)
            table("Rolling restarts: the load", load.COLUMNS[:-1], rows)
            results["rolling"] = figures
            failed.extend(f"rolling: {r['figure']}" for r in figures if not r["passed"])

        # Faults after load and hostile input: they restart servers, and those measure a healthy
        # stack. The rolling restarts last: they replace every instance.
        for name, body in (("load", load_section), ("hostile", hostile_section), ("faults", faults_section), ("rolling", rolling_section)):
            if name in sections:
                section(name, body)
        dead = [name for name in stack.all_names() if not stack.alive(name)]
        if dead:
            failed.append(f"processes not running at the end: {dead}")
            for name in dead:
                print(f"--- {name} log tail\n{stack.log_tail(name)}")
    except Exception as error:  # noqa: BLE001 - the report says what broke
        failed.append(f"the run itself: {type(error).__name__}: {error}"[:500])
    finally:
        stack.close()
    print(f"\n{len(failed)} failed; {time.time() - started:.0f} s in all")
    print(json.dumps({"passed": not failed, "failed": failed, "form": form, "seed": args.seed, "sections": results}, default=str))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
