#!/usr/bin/env python3
"""Run the benchmark suite and write its report: docs/benchmarks.md, with a chart in docs/benchmarks.png.

    .venv/bin/python scripts/run_benchmarks.py                    # the full run, the report of record
    .venv/bin/python scripts/run_benchmarks.py --quick --output /tmp/bench/benchmarks.md
    .venv/bin/python scripts/run_benchmarks.py --cases anarchism-7z,aawiki-7z --output /tmp/bench/benchmarks.md
    .venv/bin/python scripts/run_benchmarks.py --from-json RUN.json    # rewrite the report, run nothing

The run is ``pytest benchmarks --benchmark-only --benchmark-json=RUN.json``:
the cases of ``benchmarks/test_cases.py`` (dumpproc, the raw decompressor and
the naive pipeline on each input, see there) and the other benchmarks (parse,
diff, reader, pipeline), each with a baseline of its own. ``--quick`` runs only
the cases, on small stand-in inputs, to check the machinery in a minute or two;
``--cases`` runs only the named cases. The JSON is kept in the benchmark cache
(``~/.cache/dumpproc-bench``, ``DUMPPROC_BENCH_CACHE``) and its path printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("DUMPPROC_BENCH_CACHE", Path.home() / ".cache" / "dumpproc-bench"))
TOOLS = (("dumpproc", "dumpproc"), ("raw", "raw decompressor"), ("naive", "naive pipeline"))
NAIVE_AIM = ("anarchism-7z", 8.0)  # naive / dumpproc at least this
RAW_AIM = 1.3  # dumpproc / raw decompressor at most this, on every bz2 case


def run_suite(json_path: Path, quick: bool, cases: list[str]) -> int:
    """pytest over the benchmarks, the figures to ``json_path``; returns pytest's exit code."""
    targets = ["benchmarks/test_cases.py"] if quick or cases else ["benchmarks"]
    argv = [sys.executable, "-m", "pytest", *targets, "--benchmark-only", f"--benchmark-json={json_path}",
            "-p", "no:cacheprovider", "-s"]
    if cases:
        argv += ["-k", " or ".join(f"[{case}]" for case in cases)]
    env = {**os.environ, "DUMPPROC_BENCH_QUICK": "1" if quick else "0"}
    print("running:", " ".join(argv[1:]), flush=True)
    return subprocess.run(argv, cwd=ROOT, env=env).returncode


def case_figures(benchmark: dict) -> dict:
    """A case's figures with what the report derives from them: MB/s of XML per tool and the two ratios."""
    info = dict(benchmark["extra_info"])
    xml_mb = info["xml_bytes"] / 1e6
    for tool, _ in TOOLS:
        info[f"{tool}_mb_per_s"] = xml_mb / info[f"{tool}_s"]
    info["dumpproc_over_raw"] = info["dumpproc_s"] / info["raw_s"]
    info["naive_over_dumpproc"] = info["naive_s"] / info["dumpproc_s"]
    return info


def _n(value: float) -> str:
    """A figure with about three significant digits."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _machine(data: dict) -> list[str]:
    info = data.get("machine_info", {})
    memory = info.get("mem_total_bytes")
    load = info.get("load_average")
    return [
        "| cores | memory | CPU | Python | dumpproc | date | load average at start |",
        "|---|---|---|---|---|---|---|",
        f"| {info.get('cores', '?')} | {f'{memory / 2**30:.1f} GiB' if memory else '?'} "
        f"| {info.get('cpu_model') or info.get('cpu', {}).get('brand_raw', '?')} | {info.get('python_version', '?')} "
        f"| {info.get('dumpproc_version', '?')} | {data.get('datetime', '?')[:16].replace('T', ' ')} UTC "
        f"| {', '.join(f'{x:.2f}' for x in load) if load else '?'} |",
    ]


def _aims(cases: dict[str, dict]) -> list[str]:
    lines = []
    case_id, aim = NAIVE_AIM
    if case_id in cases:
        ratio = cases[case_id]["naive_over_dumpproc"]
        lines.append(f"- dumpproc at least {aim:g} times as fast as the naive pipeline on `{case_id}`: "
                     f"**{'met' if ratio >= aim else 'not met'}**, {ratio:.1f} times.")
    for case_id, info in cases.items():
        if case_id.endswith("-bz2"):
            ratio = info["dumpproc_over_raw"]
            lines.append(f"- dumpproc at most {RAW_AIM:g} times the time of `{info['raw_command']}` on `{case_id}`: "
                         f"**{'met' if ratio <= RAW_AIM else 'not met'}**, {ratio:.2f} times.")
    return lines or ["- no case of the aims ran."]


def _case_section(info: dict) -> list[str]:
    names = {"dumpproc": f"dumpproc (`process -j {info['workers']}`)", "raw": f"`{info['raw_command']}`",
             "naive": "naive pipeline (`benchmarks/naive.py`)"}
    files = info["inputs"]
    lines = [
        f"### {info['case']}: {info['title']}", "",
        f"{len(files)} file{'s' if len(files) > 1 else ''} ({', '.join(f'`{name}`' for name in files)}): "
        f"{info['compressed_bytes'] / 1e6:,.1f} MB compressed, {info['xml_bytes'] / 1e6:,.1f} MB of XML, "
        f"{info['revisions']:,} revisions.", "",
        "| | seconds | MB of XML/s | time / dumpproc's | peak MB | sum of per-process peaks, MB |",
        "|---|---|---|---|---|---|",
    ]
    for tool, _ in TOOLS:
        lines.append(f"| {names[tool]} | {_n(info[f'{tool}_s'])} | {_n(info[f'{tool}_mb_per_s'])} "
                     f"| {_n(info[f'{tool}_s'] / info['dumpproc_s'])} | {_n(info[f'{tool}_peak_mb'])} "
                     f"| {_n(info[f'{tool}_hwm_sum_mb'])} |")
    return lines + [""]


def _other(benchmark: dict) -> str:
    """One line for a benchmark that is not a case: its figures as it recorded them."""
    info = dict(benchmark.get("extra_info") or {})
    if "j1_s" in info and "j2_s" in info:
        info["j1_over_j2"] = info["j1_s"] / info["j2_s"]
    if "j2_s" in info and "lbzip2_s" in info:
        info["j2_over_lbzip2"] = info["j2_s"] / info["lbzip2_s"]
    if not info:
        stats = benchmark["stats"]
        return f"| `{benchmark['fullname']}` | median {_n(stats['median'])} s of {stats['rounds']} rounds |"
    figures = ", ".join(f"{key} {_n(value) if isinstance(value, (int, float)) else value}"
                        for key, value in info.items())
    return f"| `{benchmark['fullname']}` | {figures} |"


def render(data: dict, chart_name: str) -> str:
    """The report's markdown for a pytest-benchmark JSON."""
    cases = {b["extra_info"]["case"]: case_figures(b) for b in data["benchmarks"] if "case" in b.get("extra_info", {})}
    others = [b for b in data["benchmarks"] if "case" not in b.get("extra_info", {})]
    quick = any(info.get("quick") for info in cases.values())
    lines = ["# Benchmarks", ""]
    if quick:
        lines += ["**Quick run: small stand-in inputs, to check the machinery. These figures say nothing about "
                  "speed; the aims are judged on the full run.**", ""]
    lines += [
        "Written by `scripts/run_benchmarks.py` from one run of the suite in `benchmarks/`; rerun with "
        "`.venv/bin/python scripts/run_benchmarks.py` (see the README).", "",
        "## Machine", "", *_machine(data), "",
        "## Aims", "", *_aims(cases), "",
        "## Cases", "",
        "dumpproc, the raw decompressor alone (XML to /dev/null) and the naive pipeline a researcher writes today "
        "(mwxml reading, difflib line diffs, mwreverts reverts, one process, rows to Parquet) on the same input in "
        "the same run. Times are wall seconds, start-up included (medians of the rounds for dumpproc and the "
        "decompressor, which alternate; the naive pipeline runs once). MB/s is MB of uncompressed XML per second. "
        "Peak memory is of the whole process tree (workers and decompressor processes included): the highest sum "
        "of the processes' PSS sampled every 20 ms, or the largest single process's kernel-kept peak RSS if higher; "
        "the sum of every process's own peak is an upper bound (see `benchmarks/measure.py`).", "",
        f"![MB of XML per second, per case and tool]({chart_name})", "",
        "| case | MB of XML | dumpproc s | raw decompressor s | naive s | dumpproc / raw | naive / dumpproc "
        "| dumpproc MB/s | peak MB: dumpproc, raw, naive |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case_id, info in cases.items():
        lines.append(f"| {case_id} | {info['xml_bytes'] / 1e6:,.0f} | {_n(info['dumpproc_s'])} | {_n(info['raw_s'])} "
                     f"| {_n(info['naive_s'])} | {info['dumpproc_over_raw']:.2f} | {info['naive_over_dumpproc']:.1f} "
                     f"| {_n(info['dumpproc_mb_per_s'])} "
                     f"| {', '.join(_n(info[f'{tool}_peak_mb']) for tool, _ in TOOLS)} |")
    lines.append("")
    for info in cases.values():
        lines += _case_section(info)
    if others:
        lines += ["## The other benchmarks", "",
                  "Each stage against its own baseline in the same run, as the benchmark recorded it "
                  "(seconds as `_s`; see each module's docstring in `benchmarks/` for its input and aim).", "",
                  "| benchmark | figures |", "|---|---|", *(_other(b) for b in others), ""]
    return "\n".join(lines)


def chart(data: dict, path: Path) -> None:
    """Grouped bars: MB of XML per second for each case and tool, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [case_figures(b) for b in data["benchmarks"] if "case" in b.get("extra_info", {})]
    figure, axes = plt.subplots(figsize=(max(6, 1.8 * len(cases) + 2), 4.5))
    width = 0.8 / len(TOOLS)
    for n, (tool, label) in enumerate(TOOLS):
        xs = [i + (n - (len(TOOLS) - 1) / 2) * width for i in range(len(cases))]
        values = [info[f"{tool}_mb_per_s"] for info in cases]
        bars = axes.bar(xs, values, width, label=label)
        axes.bar_label(bars, labels=[_n(v) for v in values], fontsize=7, padding=2)
    axes.set_xticks(range(len(cases)), [info["case"] for info in cases])
    axes.set_yscale("log")
    axes.set_ylim(top=max(info[f"{tool}_mb_per_s"] for info in cases for tool, _ in TOOLS) * 8)  # room for the legend
    axes.set_ylabel("MB of XML per second (log scale)")
    quick = " (quick run: stand-in inputs)" if any(info.get("quick") for info in cases) else ""
    axes.set_title(f"Throughput per case{quick}")
    axes.legend(loc="upper center", ncol=len(TOOLS))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(data: dict, output: Path) -> tuple[Path, Path]:
    """``output`` (markdown) and the chart beside it, same name, ``.png``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    png = output.with_suffix(".png")
    chart(data, png)
    output.write_text(render(data, png.name), encoding="utf-8")
    return output, png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the cases, on small stand-in inputs")
    parser.add_argument("--cases", default="", help="comma list of case ids (benchmarks/test_cases.py) to run alone")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="the report to write; the chart goes beside it as .png (default: docs/benchmarks.md)")
    parser.add_argument("--from-json", type=Path, help="write the report from this pytest-benchmark JSON, run nothing")
    args = parser.parse_args(argv)
    status = 0
    if args.from_json:
        json_path = args.from_json
    else:
        if args.quick and args.output == ROOT / "docs" / "benchmarks.md":
            parser.error("a quick run's report is not the report of record: give --output")
        CACHE.mkdir(parents=True, exist_ok=True)
        json_path = CACHE / ("quick-run.json" if args.quick else "run.json")
        json_path.unlink(missing_ok=True)
        status = run_suite(json_path, args.quick, [case for case in args.cases.split(",") if case])
        if not json_path.exists():
            print(f"run_benchmarks: pytest exited {status} and wrote no {json_path}", file=sys.stderr)
            return status or 1
    with open(json_path, encoding="utf-8") as fh:
        data = json.load(fh)
    report, png = write_report(data, args.output)
    print(f"figures: {json_path}\nreport:  {report}\nchart:   {png}")
    if status:
        print(f"run_benchmarks: pytest exited {status}: some benchmarks failed; the report holds the others",
              file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
