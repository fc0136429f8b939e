#!/usr/bin/env python3
"""Run the benchmark suite and write its report: docs/benchmarks.md, with a chart in docs/benchmarks.png.

    .venv/bin/python scripts/run_benchmarks.py                    # the full run, the report of record
    .venv/bin/python scripts/run_benchmarks.py --quick --output /tmp/bench/benchmarks.md
    .venv/bin/python scripts/run_benchmarks.py --cases anarchism-7z,aawiki-7z --output /tmp/bench/benchmarks.md
    .venv/bin/python scripts/run_benchmarks.py --from-json RUN.json    # rewrite the report, run nothing

The run is ``pytest benchmarks --benchmark-only --benchmark-json=RUN.json``:
the benchmarks of issue 16's aims, the cases of ``benchmarks/test_cases.py``
(dumpproc, the raw decompressor and the naive pipeline on each input),
``test_cpu.py`` (whole-job CPU against a bare lxml parse) and
``test_peak_memory.py`` (peak memory per process as the input grows, and with a
huge revision), and the other benchmarks (parse, diff, reader, pipeline), each
with a baseline of its own. ``--quick`` runs only the aims' benchmarks, on small
stand-in inputs, to check the machinery in a few minutes; ``--cases`` runs
only the named ids of those (``anarchism-7z``, ``wiki-zst``, ``wiki-growth``, ...).
The JSON is kept in the benchmark cache
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
TOOLS = (("dumpproc", "dumpproc"), ("dumpproc_lxml", "dumpproc --parser lxml"), ("raw", "raw decompressor"),
         ("naive", "naive pipeline"))
AIM_MODULES = ["benchmarks/test_cases.py", "benchmarks/test_cpu.py", "benchmarks/test_peak_memory.py"]
# issue 16's aims
CPU_AIMS = {"wiki-zst": 1.0, "anarchism-zst": 1.5}  # dumpproc's CPU (-j 1) / the bare lxml parse's, at most
NAIVE_AIMS = {"anarchism-7z": 10.0, "wiki-zst": 15.0}  # naive / dumpproc (-j 2) wall time, at least
RAW_AIMS = {"anarchism-bz2": 1.15}  # dumpproc / the raw decompressor's wall time, at most
GROWTH_AIM = 1.10  # peak per process on four times the input / on the input, at most
PEAK_AIM_MIB = 300  # peak per process on the generated wiki, below
HUGE_AIM = 2.0  # peak per process above the baseline with one revision of N MiB, below this times N


def run_suite(json_path: Path, quick: bool, cases: list[str]) -> int:
    """pytest over the benchmarks, the figures to ``json_path``; returns pytest's exit code."""
    targets = AIM_MODULES if quick or cases else ["benchmarks"]
    argv = [sys.executable, "-m", "pytest", *targets, "--benchmark-only", f"--benchmark-json={json_path}",
            "-p", "no:cacheprovider", "-s"]
    if cases:
        argv += ["-k", " or ".join(f"[{case}]" for case in cases)]
    env = {**os.environ, "DUMPPROC_BENCH_QUICK": "1" if quick else "0"}
    # byte-compiled first, as ``pip install`` leaves an installed package and the naive pipeline's
    # libraries: an editable checkout where PYTHONDONTWRITEBYTECODE is set would compile every module
    # on every start (a fifth of a second), which no installed dumpproc pays
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "dumpproc")], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    print("running:", " ".join(argv[1:]), flush=True)
    return subprocess.run(argv, cwd=ROOT, env=env).returncode


def _tools(info: dict) -> list[str]:
    """The tools a benchmark measured, in the report's order (older runs did not list them)."""
    measured = info.get("tools", ["dumpproc", "raw", "naive"])
    return [tool for tool, _ in TOOLS if tool in measured]


def case_figures(benchmark: dict) -> dict:
    """A case's figures with what the report derives from them: MB/s of XML per tool and the two ratios."""
    info = dict(benchmark["extra_info"])
    xml_mb = info["xml_bytes"] / 1e6
    for tool in _tools(info):
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


def _verdict(met: bool) -> str:
    return "**met**" if met else "**not met**"


def _lxml_too(info: dict, key: str, base: str) -> str:
    """The ``--parser lxml`` run's ratio, when the run had one."""
    if f"dumpproc_lxml_{key}" not in info:
        return ""
    return f"; with `--parser lxml` {info[f'dumpproc_lxml_{key}'] / info[f'{base}_{key}']:.2f}x"


def _aim(aim: str, figure: str | None) -> str:
    return f"- {aim}: {figure or 'not measured in this run'}."


def _aims(cases: dict[str, dict], cpu: dict[str, dict], memory: dict[str, dict]) -> list[str]:
    """One line per aim of issue 16: met or not, with its figure; or that this run did not measure it."""
    lines = []
    for input_id, limit in CPU_AIMS.items():
        figure = None
        if info := cpu.get(input_id):
            ratio = info["dumpproc_cpu_s"] / info["bare_lxml_cpu_s"]
            figure = (f"{_verdict(ratio <= limit)}, {ratio:.2f}x ({_n(info['dumpproc_cpu_s'])} against "
                      f"{_n(info['bare_lxml_cpu_s'])} CPU seconds{_lxml_too(info, 'cpu_s', 'bare_lxml')})")
        lines.append(_aim(f"whole-job CPU (`-j 1`, every default table) at most {limit:.1f}x a bare lxml "
                          f"iterparse's on `{input_id}`", figure))
    for case_id, limit in NAIVE_AIMS.items():
        figure = None
        if info := cases.get(case_id):
            ratio = info["naive_over_dumpproc"]
            lxml = f"; with `--parser lxml` {info['naive_s'] / info['dumpproc_lxml_s']:.1f}x" \
                if "dumpproc_lxml_s" in info else ""
            figure = (f"{_verdict(ratio >= limit)}, {ratio:.1f}x ({_n(info['naive_s'])} s against "
                      f"{_n(info['dumpproc_s'])} s{lxml})")
        lines.append(_aim(f"at least {limit:g}x as fast as the naive pipeline on `{case_id}` (`-j 2`, wall time)",
                          figure))
    for case_id, limit in RAW_AIMS.items():
        figure = None
        if info := cases.get(case_id):
            ratio = info["dumpproc_over_raw"]
            figure = (f"{_verdict(ratio <= limit)}, {ratio:.2f}x ({_n(info['dumpproc_s'])} s against "
                      f"{_n(info['raw_s'])} s of `{info['raw_command']}`{_lxml_too(info, 's', 'raw')})")
        lines.append(_aim(f"at most {limit:g}x the time of the raw decompressor alone on `{case_id}`", figure))
    flat_figure = peak_figure = None
    if growth := memory.get("memory-growth"):
        one, four = growth["one_file_process_peak_mib"], growth["all_files_process_peak_mib"]
        flat_figure = (f"{_verdict(four <= GROWTH_AIM * one)}, {four / one - 1:+.0%} ({_n(one)} MiB on the "
                       f"generated wiki's first file, {_n(four)} MiB on all 4)")
        peak_figure = f"{_verdict(max(one, four) < PEAK_AIM_MIB)}, {_n(max(one, four))} MiB"
    lines.append(_aim(f"peak memory per process within {GROWTH_AIM - 1:.0%} as the input grows fourfold",
                      flat_figure))
    lines.append(_aim(f"peak memory per process under {PEAK_AIM_MIB} MiB on the generated wiki", peak_figure))
    figure = None
    if huge := memory.get("huge-revision"):
        n, above = huge["huge_mib"], huge["huge_process_peak_mib"] - huge["plain_process_peak_mib"]
        figure = (f"N = {n}: {_verdict(above < HUGE_AIM * n)}, {_n(above)} MiB above, {above / n:.2f}N "
                  f"({_n(huge['huge_process_peak_mib'])} MiB against {_n(huge['plain_process_peak_mib'])} MiB)")
    lines.append(_aim(f"one huge revision of N MiB peaks less than {HUGE_AIM:g}N MiB above the same dump "
                      f"without it", figure))
    return lines


def _case_section(info: dict) -> list[str]:
    names = {"dumpproc": f"dumpproc (`process -j {info['workers']}`)",
             "dumpproc_lxml": f"dumpproc (`process -j {info['workers']} --parser lxml`)",
             "raw": f"`{info['raw_command']}`", "naive": "naive pipeline (`benchmarks/naive.py`)"}
    files = info["inputs"]
    lines = [
        f"### {info['case']}: {info['title']}", "",
        f"{len(files)} file{'s' if len(files) > 1 else ''} ({', '.join(f'`{name}`' for name in files)}): "
        f"{info['compressed_bytes'] / 1e6:,.1f} MB compressed, {info['xml_bytes'] / 1e6:,.1f} MB of XML, "
        f"{info['revisions']:,} revisions.", "",
        "| | seconds | MB of XML/s | time / dumpproc's | peak MB | sum of per-process peaks, MB | CPU seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for tool in _tools(info):
        cpu = info.get(f"{tool}_cpu_s")
        lines.append(f"| {names[tool]} | {_n(info[f'{tool}_s'])} | {_n(info[f'{tool}_mb_per_s'])} "
                     f"| {_n(info[f'{tool}_s'] / info['dumpproc_s'])} | {_n(info[f'{tool}_peak_mb'])} "
                     f"| {_n(info[f'{tool}_hwm_sum_mb'])} | {'?' if cpu is None else _n(cpu)} |")
    return lines + [""]


def _section(title: str, prose: str, columns: list[str], rows: list[list[str]]) -> list[str]:
    """A report section: its heading, what it measures, and one table."""
    return [f"## {title}", "", prose, "", f"| {' | '.join(columns)} |", f"|{'---|' * len(columns)}",
            *(f"| {' | '.join(row)} |" for row in rows), ""]


def _cpu_section(cpu: dict[str, dict]) -> list[str]:
    """The CPU benchmarks (``benchmarks/test_cpu.py``): each dumpproc run's CPU against the bare lxml parse's."""
    names = {"dumpproc": "dumpproc `-j 1`", "dumpproc_lxml": "dumpproc `-j 1 --parser lxml`",
             "bare_lxml": "bare lxml iterparse"}
    rows = [[f"{input_id}: {info['title']}", f"{info['xml_bytes'] / 1e6:,.0f}", f"{info['revisions']:,}",
             names.get(tool, tool), _n(info[f"{tool}_cpu_s"]), f"{info[f'{tool}_cpu_s'] / info['bare_lxml_cpu_s']:.2f}",
             _n(info[f"{tool}_s"]), _n(info[f"{tool}_process_peak_mib"])]
            for input_id, info in cpu.items() for tool in info["tools"]]
    return _section(
        "CPU against a bare lxml parse",
        "User + system CPU seconds of each command's whole process tree (`os.wait4`), start-up included, medians "
        "of the rounds, the commands alternating: dumpproc `process -j 1` with every default table (and "
        "`--parser lxml` where the run has it), and `benchmarks/bare_lxml.py`: `lxml.etree.iterparse` over the "
        "same zstd files decompressed in-process by the `zstandard` module, taking each revision's text as UTF-8 "
        "bytes and clearing elements as it goes (see `benchmarks/test_cpu.py`).",
        ["input", "MB of XML", "revisions", "command", "CPU seconds", "/ bare lxml's", "wall seconds",
         "peak per process, MiB"], rows)


def _memory_section(memory: dict[str, dict]) -> list[str]:
    """The memory benchmarks (``benchmarks/test_peak_memory.py``): peaks per process, and of the tree."""
    runs = {"memory-growth": (("one_file", "the first file"), ("all_files", "all 4 files")),
            "huge-revision": (("plain", "without the huge revision"), ("huge", "with it"))}
    rows = [[f"{info['id']}: {info['title']}", label, f"{info[f'{run}_xml_bytes'] / 1e6:,.0f}",
             _n(info[f"{run}_process_peak_mib"]), _n(info[f"{run}_peak_mb"]), _n(info[f"{run}_s"])]
            for aim, info in memory.items() for run, label in runs[aim]]
    return _section(
        "Peak memory per process",
        "dumpproc `process -j 2` with every default table, once per input. The peak per process is the kernel's "
        "peak RSS of the largest single process of the run (the parent or a worker); the tree's is the highest "
        "sampled sum of the processes' PSS (see `benchmarks/measure.py` and `benchmarks/test_peak_memory.py`).",
        ["benchmark", "input", "MB of XML", "peak per process, MiB", "tree's peak, MB", "wall seconds"], rows)


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
    aims = [b["extra_info"] for b in data["benchmarks"] if "aim" in b.get("extra_info", {})]
    cpu = {info["id"]: info for info in aims if info["aim"] == "cpu"}
    memory = {info["aim"]: info for info in aims if info["aim"] != "cpu"}
    others = [b for b in data["benchmarks"] if not {"case", "aim"} & set(b.get("extra_info", {}))]
    quick = any(info.get("quick") for info in [*cases.values(), *aims])
    lines = ["# Benchmarks", ""]
    if quick:
        lines += ["**Quick run: small stand-in inputs, to check the machinery. These figures say nothing about "
                  "speed; the aims are judged on the full run.**", ""]
    lines += [
        "Written by `scripts/run_benchmarks.py` from one run of the suite in `benchmarks/`; rerun with "
        "`.venv/bin/python scripts/run_benchmarks.py` (see the README).", "",
        "## Machine", "", *_machine(data), "",
        "## Aims", "",
        "Issue 16's, each a ratio to a baseline measured in the same run (sections below).", "",
        *_aims(cases, cpu, memory), "",
        "## Cases", "",
        "dumpproc (`process -j 2`, every default table; also with `--parser lxml` where the run has that option), "
        "the raw decompressor alone (XML to /dev/null) and the naive pipeline a researcher writes today "
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
                     f"| {', '.join(_n(info[f'{tool}_peak_mb']) for tool in ('dumpproc', 'raw', 'naive'))} |")
    lines.append("")
    for info in cases.values():
        lines += _case_section(info)
    if cpu:
        lines += _cpu_section(cpu)
    if memory:
        lines += _memory_section(memory)
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
    tools = [(tool, label) for tool, label in TOOLS if all(tool in _tools(info) for info in cases)]
    figure, axes = plt.subplots(figsize=(max(6, 1.8 * len(cases) + 2), 4.5))
    width = 0.8 / len(tools)
    for n, (tool, label) in enumerate(tools):
        xs = [i + (n - (len(tools) - 1) / 2) * width for i in range(len(cases))]
        values = [info[f"{tool}_mb_per_s"] for info in cases]
        bars = axes.bar(xs, values, width, label=label)
        axes.bar_label(bars, labels=[_n(v) for v in values], fontsize=7, padding=2)
    axes.set_xticks(range(len(cases)), [info["case"] for info in cases])
    axes.set_yscale("log")
    axes.set_ylim(top=max(info[f"{tool}_mb_per_s"] for info in cases for tool, _ in tools) * 8)  # room for the legend
    axes.set_ylabel("MB of XML per second (log scale)")
    quick = " (quick run: stand-in inputs)" if any(info.get("quick") for info in cases) else ""
    axes.set_title(f"Throughput per case{quick}")
    axes.legend(loc="upper center", ncol=len(tools))
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
