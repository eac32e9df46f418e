"""The Python comparison's figures, as the C++ driver reports its own:
medians over the repeats with their spread, ratios taken within each
repeat, and the targets with their verdicts; merged into results.json
and results.md (the driver's, when bench/run.sh ran it first)."""

import json
import statistics

NOISY_SPREAD = 0.2  # as the C++ driver: a spread over 20% of the median
SECTION = "## Python: one process to another"


def summary(values):
    """Median, min, max, spread and the noisy flag of a figure's repeats."""
    median = statistics.median(values)
    spread = (max(values) - min(values)) / median if median else 0.0
    return {"median": median, "min": min(values), "max": max(values), "spread": spread,
            "noisy": spread > NOISY_SPREAD, "repeats": values}


def number(value):
    """3 significant digits with k and M, as results.md writes figures."""
    for scale, suffix in ((1e6, " M"), (1e3, " k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def ratio_text(value):
    """2 significant digits below 1 ("0.16x"), one decimal from there ("1.0x", "6.3x")."""
    return f"{value:.2g}x" if value < 0.995 else f"{value:.1f}x"


def figure_text(figure):
    text = f"{number(figure['median'])} ({number(figure['min'])}–{number(figure['max'])})"
    return text + (" **noisy**" if figure["noisy"] else "")


def merge_json(path, records, targets, failed, skipped, settings,
               scenario_prefix="python_", target_prefix="Python", settings_key="python"):
    """Adds this run's records, targets, failures and skipped runs to
    results.json (made if missing), in place of those of an earlier run of
    the same comparison (its scenarios and targets start with the prefixes)."""
    document = {"machine": {}, "settings": {}, "records": [], "targets": [], "skipped": [], "failed": []}
    if path.exists():
        document = json.loads(path.read_text())
    document["records"] = [record for record in document["records"]
                           if not record["scenario"].startswith(scenario_prefix)] + records
    document["targets"] = [target for target in document["targets"]
                           if not target["target"].startswith(target_prefix)] + targets
    for key, mine in (("failed", failed), ("skipped", skipped)):
        document[key] = [entry for entry in document[key]
                         if not entry.get("scenario", "").startswith(scenario_prefix)] + mine
    document["settings"][settings_key] = settings
    path.write_text(json_text(document))


def json_text(document):
    """The layout the C++ driver writes: a line per record, target or
    problem, numbers to 6 significant digits, so that a run's changes read
    as a diff."""
    items = []
    for key, value in document.items():
        text = value_text(value)
        if isinstance(value, list):
            text = "[\n" + ",\n".join(f"    {value_text(entry)}" for entry in value) + "\n  ]" if value else "[\n  ]"
        items.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(items) + "\n}\n"


def value_text(value):
    if isinstance(value, float):
        return format(value, ".6g")  # as a C++ stream writes a double
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {value_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(value_text, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def target_rows(targets):
    return [f"| {target['target']} | {target['measured']} | {'met' if target['met'] else '**missed**'} |"
            for target in targets]


def merge_markdown(path, targets, section, title=SECTION, target_prefix="Python"):
    """Puts the targets' rows at the end of results.md's Targets table and
    the section (its first line `title`) at the end of the file (made if
    missing), in place of those of an earlier run of the same comparison."""
    lines = path.read_text().splitlines() if path.exists() else [
        "# shmq benchmark results", "", "## Targets", "", "| target | this run | verdict |", "|---|---|---|"]
    if title in lines:  # an earlier run's section: up to the next section
        start = lines.index(title)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        del lines[start:end]
        while lines and not lines[-1]:
            lines.pop()
    lines = [line for line in lines if not line.startswith(f"| {target_prefix} ")]
    table = lines.index("## Targets") + 3
    while table + 1 < len(lines) and lines[table + 1].startswith("|"):
        table += 1
    lines[table + 1:table + 1] = target_rows(targets)
    path.write_text("\n".join(lines + [""] + section) + "\n")
