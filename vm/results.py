#!/usr/bin/env python3
"""Reads the JUnit XML reports one guest run left in OUT/junit and says what happened.

usage: vm/results.py OUT CLASS...   (CLASS: the classes the run was asked to run)

Prints every test with its time and outcome, then 'LABEL: N passed, N failed, N skipped',
and writes 'passed failed skipped' to OUT/counts. Exits 1 if anything failed, was skipped
(the VM's kernel must run every test) or if a class asked for ran no test at all.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def main():
    out, classes = sys.argv[1], sys.argv[2:]
    label = os.path.basename(os.path.normpath(out))
    reports = sorted(glob.glob(os.path.join(out, "junit", "*.xml")))
    if not reports:
        print(f"{label}: no JUnit report in {out}/junit: the tests did not run")
        return 1
    passed, failed, skipped, problems = 0, 0, 0, []
    ran = {}
    cases = [c for r in reports for c in ET.parse(r).getroot().iter("testcase")]
    cases.sort(key=lambda c: (c.get("classname", ""), c.get("name", "")))
    for case in cases:
        cls, name = case.get("classname", "?"), case.get("name", "?")
        ran[cls] = ran.get(cls, 0) + 1
        outcome = "passed"
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome = "skipped" if kind == "skipped" else "FAILED"
                why = (el.get("message") or el.text or "").strip().splitlines()
                problems.append(f"{cls.rsplit('.', 1)[-1]}.{name}: {outcome}: {why[0] if why else kind}")
                break
        if outcome == "passed":
            passed += 1
        elif outcome == "skipped":
            skipped += 1
        else:
            failed += 1
        print(f"  {float(case.get('time', 0)):7.1f}s  {outcome:7}  {cls.rsplit('.', 1)[-1]}.{name}")
    for cls in classes:
        cls = cls.split("#", 1)[0]
        if not ran.get(cls):
            problems.append(f"{cls}: ran no test (misspelt in vm/suite.txt, or no @Test?)")
            failed += 1
    for p in problems:
        print(f"  {p}")
    with open(os.path.join(out, "counts"), "w") as f:
        f.write(f"{passed} {failed} {skipped}\n")
    print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
