#!/usr/bin/env python3
"""Plants and removes the mutants of loom-tests/mutants.txt for scripts/mutants.sh.

    mutants.py check LIST           every entry applies (its text occurs once)
    mutants.py names LIST           the entries' names, one a line
    mutants.py apply LIST NAME DIR  plants NAME, saving the originals in DIR
    mutants.py restore DIR          puts the saved originals back
"""
import json
import os
import shutil
import sys


def parse(path):
    entries, current, block, mode = [], None, None, None
    with open(path) as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        where = f"{path}:{number}"
        if mode in ("find", "replace"):
            if line == "---" and mode == "find":
                mode = "replace"
            elif line == ">>>" and mode == "replace":
                current["edits"].append(block)
                block, mode = None, None
            else:
                block[mode].append(line)
            continue
        if line.startswith("=== "):
            name, _, about = line[4:].partition(":")
            current = {"name": name.strip(), "about": about.strip(), "edits": []}
            entries.append(current)
            file = None
        elif line.startswith("file: "):
            file = line[len("file: "):].strip()
        elif line == "<<<":
            if current is None or file is None:
                sys.exit(f"{where}: a block needs an entry and a file above it")
            block, mode = {"file": file, "find": [], "replace": []}, "find"
        elif line.strip() and not line.startswith("#"):
            sys.exit(f"{where}: unexpected line {line!r}")
    if mode is not None:
        sys.exit(f"{path}: unterminated block")
    for entry in entries:
        if not entry["edits"]:
            sys.exit(f"{path}: entry {entry['name']} plants nothing")
    return entries


def plant(entry, dry_run):
    sources = {}
    for edit in entry["edits"]:
        path = edit["file"]
        text = sources.get(path)
        if text is None:
            with open(path) as f:
                text = f.read()
        find = "\n".join(edit["find"]) + "\n"
        replace = "\n".join(edit["replace"]) + ("\n" if edit["replace"] else "")
        count = text.count(find)
        if count != 1:
            sys.exit(f"mutant {entry['name']}: its text occurs {count} times in {path}, not once")
        sources[path] = text.replace(find, replace)
    if not dry_run:
        for path, text in sources.items():
            with open(path, "w") as f:
                f.write(text)
    return list(sources)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "restore":
        (work,) = args
        saved = os.path.join(work, "saved.json")
        if os.path.exists(saved):
            with open(saved) as f:
                for path, copy in json.load(f).items():
                    shutil.copyfile(copy, path)
            os.remove(saved)
        return
    entries = parse(args[0])
    if command == "check":
        names = [e["name"] for e in entries]
        if len(set(names)) != len(names):
            sys.exit("two mutants share a name")
        for entry in entries:
            plant(entry, dry_run=True)
    elif command == "names":
        print("\n".join(e["name"] for e in entries))
    elif command == "apply":
        name, work = args[1], args[2]
        matching = [e for e in entries if e["name"] == name]
        if not matching:
            sys.exit(f"no mutant named {name}")
        saved = {}
        for edit in matching[0]["edits"]:
            path = edit["file"]
            if path not in saved:
                copy = os.path.join(work, str(len(saved)) + ".orig")
                shutil.copyfile(path, copy)
                saved[path] = copy
        with open(os.path.join(work, "saved.json"), "w") as f:
            json.dump(saved, f)
        plant(matching[0], dry_run=False)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
