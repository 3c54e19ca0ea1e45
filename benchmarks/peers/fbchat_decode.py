"""The decoder of Python fbchat (the /pull era): cut the body at its first
'{' and json.loads the rest. Counts bodies by kind, as fbcomet decode --lines
does, so that every body is really parsed."""
import json
import sys

kinds = {}
with open(sys.argv[1], "rb") as f:
    for raw in f:
        line = raw.decode("utf-8")
        j = json.loads(line[line.index("{"):])
        kind = j.get("t") or ("envelope" if j.get("error") == 0 else "error")
        kinds[kind] = kinds.get(kind, 0) + 1
print(sum(kinds.values()), "bodies:", kinds)
