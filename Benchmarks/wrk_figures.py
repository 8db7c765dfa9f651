"""One wrk run's figures, from its output (wrk --latency) on standard input, for the
benchmark scripts: `requests requests/s p50-ms p99-ms non-2xx`, one line."""
import re
import sys

out = sys.stdin.read()


def milliseconds(percentile):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\b" % percentile, out, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


requests = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print("%d %.0f %.2f %.2f %s" % (requests, rps, milliseconds(50), milliseconds(99), bad.group(1) if bad else "0"))
