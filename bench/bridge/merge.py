#!/usr/bin/env python3
"""Merges shmq_bridge_bench's bridge.json (its records, targets and
results.md section) into the benchmark's results.json and results.md, in
place of an earlier bridge run's, as the Python comparison merges its own."""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python"))
import report  # noqa: E402  (bench/python/report.py, found through the path above)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output-dir", type=pathlib.Path, required=True,
                        help="the directory of results.json, results.md and bridge.json")
    options = parser.parse_args()
    bridge = json.loads((options.output_dir / "bridge.json").read_text())
    report.merge_json(options.output_dir / "results.json", bridge["records"], bridge["targets"], [], [], bridge["settings"],
                      scenario_prefix="bridge_", target_prefix="Bridge", settings_key="bridge")
    report.merge_markdown(options.output_dir / "results.md", bridge["targets"], bridge["section"],
                          title=bridge["section"][0], target_prefix="Bridge")


if __name__ == "__main__":
    main()
