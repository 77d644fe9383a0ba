#!/usr/bin/env python3
"""GiBleed insight as a Tusk long-lived worker: one process serves many datums.

Tusk starts this once per processor thread and writes one JSON line per datum to stdin:
  {"member": "...", "jobId": "...", "commitId": "...", "datumHash": "...",
   "tables": {"TABLE": {"columns": ["COLUMN", ...], "data": [["value or null", ...], ...]}, ...}}
with `inputFormat: split` (pandas' split layout; pandas.DataFrame(**table) reads it), which this
example's pipeline.yaml asks for: two fifths the bytes of the default, row objects
({"TABLE": [{"COLUMN": "value or null", ...}, ...]}), and read in half the time. It reads both.
For each line it must answer exactly one line on stdout, in order:
  {"output": <any JSON value>}      the datum's output (stored as compact JSON)
  {"error": "why"}                  the attempt failed; the worker goes on to the next datum
Anything else on stdout puts the stream out of step: Tusk kills and restarts the worker. Log to
stderr. A worker that exits or answers nothing within the datum timeout is restarted and the
datum retried.

The insight is the command example's (../python-command/insight.py), so both examples and the
Java transform give byte-identical outputs.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "python-command"))
from insight import gibleed_insight  # noqa: E402


def main():
    served = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        datum = json.loads(line)
        try:
            answer = {"output": gibleed_insight(datum["member"], datum["tables"])}
        except ValueError as e:
            answer = {"error": str(e)}
        sys.stdout.write(json.dumps(answer, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        served += 1
    print(f"worker {os.getpid()} served {served} datum(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
