#!/usr/bin/env python3
"""Runs the SQL mutations of mutants.toml one at a time.

For each mutant: replace its text in its .sql file, run its test targets
(`cargo test -p <package> --test <target>`), record whether a test failed
(caught) or all passed (survived), and restore the file, always: on
success, failure, timeout, Ctrl-C or SIGTERM. A baseline run first checks
that the targets pass unmutated, or every "caught" would mean nothing.

Usage (from anywhere in the workspace):
    scripts/sql-mutants/run.py                 # every mutant, its own targets
    scripts/sql-mutants/run.py --list          # check and list the mutants
    scripts/sql-mutants/run.py retry-unfenced  # only these mutants
    scripts/sql-mutants/run.py --all-targets   # every Postgres target for each

Needs Python 3.11 (tomllib), cargo, and the test database (DATABASE_URL).
Logs go to $CARGO_TARGET_DIR/sql-mutants/ (target/ by default). Exit
status: 0 when every mutant run was caught, 1 otherwise.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


class Mutant:
    def __init__(self, entry):
        self.name = entry["name"]
        self.file = ROOT / entry["file"]
        self.find = entry["find"]
        self.replace = entry["replace"]
        self.targets = entry["targets"]
        self.why = entry["why"]

    def problem(self):
        """Why this mutant cannot be applied, or None."""
        if not self.file.is_file():
            return f"no file {self.file.relative_to(ROOT)}"
        count = self.file.read_text().count(self.find)
        if count != 1:
            return f"its text occurs {count} times in {self.file.relative_to(ROOT)} (stale?)"
        if self.find == self.replace:
            return "its replacement changes nothing"
        return None


def load(path):
    with open(path, "rb") as file:
        data = tomllib.load(file)
    mutants = [Mutant(entry) for entry in data["mutant"]]
    names = [mutant.name for mutant in mutants]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        sys.exit(f"duplicate mutant names: {', '.join(sorted(duplicates))}")
    return data["all_targets"], mutants


def group_by_package(targets):
    """[(package, [target, ...]), ...] in first-seen order."""
    packages = {}
    for spec in targets:
        package, _, target = spec.partition(":")
        if not target:
            sys.exit(f"target `{spec}` is not `package:test-target`")
        packages.setdefault(package, []).append(target)
    return list(packages.items())


def run_targets(targets, log, timeout):
    """Runs the targets, one cargo call per package, stopping at the first
    that fails. Returns (outcome, detail): outcome is "passed", "failed",
    "unviable" (it did not build) or "timeout"."""
    deadline = time.monotonic() + timeout
    for package, names in group_by_package(targets):
        command = ["cargo", "test", "-p", package]
        for name in names:
            command += ["--test", name]
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        child = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            status = child.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return "timeout", package
        except BaseException:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise
        if status != 0:
            log.flush()
            text = Path(log.name).read_text(errors="replace")
            if "could not compile" in text:
                return "unviable", package
            failed = [
                line.split()[1]
                for line in text.splitlines()
                if line.startswith("test ") and line.endswith("FAILED")
            ]
            return "failed", f"{package}: {', '.join(failed) or 'exit status ' + str(status)}"
    return "passed", ""


def apply_and_run(mutant, targets, log, timeout):
    original = mutant.file.read_bytes()
    try:
        mutant.file.write_text(original.decode().replace(mutant.find, mutant.replace, 1))
        return run_targets(targets, log, timeout)
    finally:
        mutant.file.write_bytes(original)
        if mutant.file.read_bytes() != original:
            sys.exit(f"could not restore {mutant.file}; restore it with git checkout")


def sql_is_clean():
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "pm-postgres/sql"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return status.stdout.strip() == ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="check and list the mutants, run nothing")
    parser.add_argument("--all-targets", action="store_true",
                        help="run all_targets for each mutant instead of its own")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per run (default 300)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run although pm-postgres/sql has uncommitted changes")
    parser.add_argument("--file", type=Path, default=HERE / "mutants.toml")
    args = parser.parse_args()

    all_targets, mutants = load(args.file)
    if args.names:
        unknown = set(args.names) - {mutant.name for mutant in mutants}
        if unknown:
            sys.exit(f"no such mutant: {', '.join(sorted(unknown))}")
        mutants = [mutant for mutant in mutants if mutant.name in args.names]

    stale = [(mutant, mutant.problem()) for mutant in mutants if mutant.problem()]
    for mutant, problem in stale:
        print(f"STALE    {mutant.name}: {problem}")
    if args.list:
        for mutant in mutants:
            targets = ", ".join(mutant.targets)
            print(f"{mutant.name:40} {mutant.file.relative_to(ROOT)}  [{targets}]")
        return 1 if stale else 0

    # A file left mutated by a killed run would poison every result.
    if not args.allow_dirty and not sql_is_clean():
        sys.exit("pm-postgres/sql has uncommitted changes (a killed run?); "
                 "commit or restore them, or pass --allow-dirty")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))

    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    logs = target_dir / "sql-mutants"
    logs.mkdir(parents=True, exist_ok=True)
    runnable = [mutant for mutant in mutants if not mutant.problem()]

    def targets_of(mutant):
        return all_targets if args.all_targets else mutant.targets

    started = time.monotonic()
    if not args.no_baseline:
        union = list(dict.fromkeys(t for mutant in runnable for t in targets_of(mutant)))
        print(f"baseline: {', '.join(union)}", flush=True)
        with open(logs / "baseline.log", "w") as log:
            outcome, detail = run_targets(union, log, args.timeout)
        if outcome != "passed":
            sys.exit(f"the baseline did not pass ({outcome}: {detail}); see {logs / 'baseline.log'}")
        print(f"baseline passed in {time.monotonic() - started:.0f}s", flush=True)

    results = []
    for mutant in runnable:
        begun = time.monotonic()
        with open(logs / f"{mutant.name}.log", "w") as log:
            outcome, detail = apply_and_run(mutant, targets_of(mutant), log, args.timeout)
        verdict = {"failed": "caught", "passed": "SURVIVED"}.get(outcome, outcome.upper())
        seconds = time.monotonic() - begun
        results.append((mutant, verdict))
        print(f"{verdict:9} {mutant.name:40} {seconds:5.0f}s  {detail}", flush=True)

    caught = sum(1 for _, verdict in results if verdict == "caught")
    print(f"\n{caught} of {len(results)} caught in {time.monotonic() - started:.0f}s; logs in {logs}")
    for mutant, verdict in results:
        if verdict != "caught":
            print(f"  {verdict}: {mutant.name} ({mutant.file.relative_to(ROOT)}): {mutant.why}")
    return 0 if caught == len(results) and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
