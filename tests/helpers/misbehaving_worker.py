"""A stand-in worker that misbehaves on purpose, by task kind, to test the runner.

Kinds: ok (answers), crash (aborts the process), hang (never answers), garbage
(prints a line that is not JSON), trap (answers with a failed measurement),
memory (grows its resident memory until killed), silent_exit (exits 3 quietly).
"""

import json
import os
import sys
import time

job = json.loads(sys.stdin.read())
out = sys.stdout
out.write(json.dumps({"id": "_hello", "ok": True, "modes": [], "availability": {}}) + "\n")
out.flush()
hog = []
for task in job["tasks"]:
    kind = task["kind"]
    if kind == "ok":
        out.write(json.dumps({"id": task["id"], "ok": True, "value": 1}) + "\n")
    elif kind == "trap":
        out.write(json.dumps({"id": task["id"], "ok": False, "reason": "exit 1: unreachable"})
                  + "\n")
    elif kind == "crash":
        out.flush()
        os.abort()
    elif kind == "hang":
        out.flush()
        time.sleep(3600)
    elif kind == "garbage":
        out.write("Segmentation fault (core dumped) <not json>\n")
    elif kind == "memory":
        out.flush()
        while True:
            hog.append(bytearray(16 << 20))
            time.sleep(0.005)
    elif kind == "silent_exit":
        out.flush()
        sys.exit(3)
    out.flush()
