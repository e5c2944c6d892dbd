"""Summarises gremlins' JSON results (scripts/mutation.sh) as markdown:
the score per target and every mutant that lived, with its source line."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
rows, lived = [], []
for path in sorted(out.glob("*.json")):
    data = json.loads(path.read_text())
    target = path.stem.replace("-", "/")
    counts = {}
    for f in data.get("files", []):
        for m in f.get("mutations", []):
            counts[m["status"]] = counts.get(m["status"], 0) + 1
            if m["status"] == "LIVED":
                src = pathlib.Path(target, f["file_name"])
                line = src.read_text().splitlines()[m["line"] - 1].strip() if src.exists() else ""
                lived.append(f"| `{target}/{f['file_name']}:{m['line']}:{m['column']}` | {m['type']} | `{line}` |")
    killed, alive = counts.get("KILLED", 0), counts.get("LIVED", 0)
    score = 100 * killed / (killed + alive) if killed + alive else 100.0
    rows.append(f"| {target} | {killed} | {alive} | {counts.get('NOT COVERED', 0)} | "
                f"{counts.get('TIMED OUT', 0)} | {score:.1f}% |")
print("# Mutation testing\n")
print("| target | killed | lived | not covered | timed out | efficacy |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
print("\n## Mutants that lived\n")
if lived:
    print("| where | mutation | line |\n|---|---|---|")
    print("\n".join(lived))
else:
    print("None.")
