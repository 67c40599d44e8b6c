// The study config `emp init` writes: every key, what it means and its default, so that a person
// edits a working file instead of starting from the README. Tests load it and check it names every key.

/** The starter's text; `out` defaults to emp-results/<name of the file> (see resolve.ts). */
export const STARTER_CONFIG = `# emp study: which commits of a repository to measure, and how. Run it with \`emp run FILE\`.
# Durations take seconds (30) or a number with a unit: 500ms, 5s, 2m, 1h.
# Relative paths are relative to this file. A commented-out key shows its default.

# The git repository: a path or a URL (https://, git@host:path, ssh://, file://).
# Commits are checked out into worktrees of emp's own clone; your working tree is never touched.
repo: .

# Which commits to measure, one of:
#   commits: HEAD                  one ref (a branch, tag or sha; quote a sha of only digits)
#   commits: v1.0..HEAD            a range: the commits after v1.0 up to HEAD
#   commits: [v1.0, abc1234]       a list of refs
#   commits: { last: 5, ref: main }  the last 5 commits up to ref (default HEAD)
#   commits: { tags: "v*" }        the tags matching a glob (true: every tag)
commits:
  last: 5

# Keep only the commits that touch these git pathspecs.
# paths: [src/, Makefile]

# Shell commands (run with sh -c in the commit's worktree); build and setup run once per commit.
# build: make -j8
# setup: ./fetch-data.sh
# post_command: rm -rf /tmp/bench-cache    # after every run, not measured

# The measured command: a string runs with sh -c, a list runs as arguments without a shell.
command: ./bench --quick

# Added to the environment of build, setup and command; values are strings (quote numbers).
# env:
#   OMP_NUM_THREADS: "4"

# Measured runs per commit, and unmeasured warmup runs at the start of every visit to a commit.
# repeat: 10
# warmup: 1
# Which visits start with the warmups: every-visit, or first-visit (a commit's first visit of a
# session only: less time on warmups where each visit measures one run).
# warmup_policy: every-visit
# How commits take turns: interleaved (one batch of each in turn), shuffled (batches in a
# random order drawn from seed), grouped (all runs of a commit together).
# order: interleaved
# seed: 1
# Measured runs of one commit back to back per visit, before the next commit's turn.
# batch_size: 1
# Commits checked out and built in parallel (runs are always measured one at a time).
# jobs: 1

# Idle power measured before the runs, subtracted from each run's energy.
# baseline: 5s
# Idle time before each run.
# cooldown: 0
# A run longer than this is stopped and recorded as timed out (default: no limit).
# timeout: 10m
# A run ends when the command exits, and processes it left running are ended (and warned about);
# true makes each run last until the last of them has ended.
# wait_descendants: false
# Each run lasts at least this long (ms): a shorter command runs back to back inside one run, as many
# times as a calibration on the commit's first visit finds; energy and time are then per iteration.
# min_run_ms: 100
# The work of one run: results gain net energy per unit of work (J/MB), which a benchmark that runs
# for a fixed time rather than fixed work needs. Or read it from each run's log with metrics: a rate
# (UNIT ending in /s) times the run's time, or an amount (every match adds up).
# work: 256 MB
# metrics: ["tput[MB/s]=([0-9.]+) MB/s"]
# A build or setup longer than this fails its commit (default: no limit).
# build_timeout: 30m
# Before each run, wait until the CPU is at most max_c °C, for at most max_wait (a bare number is max_c).
# temperature_limit:
#   max_c: 70
#   max_wait: 5m

# Sampling rate of the sensors in Hz.
# sample_hz: 1000
# Energy interfaces to read: msr, perf-power, powercap, nvml (default: the best one per domain).
# sources: [powercap]
# perf counters per run (default: task-clock, context-switches, page-faults, cycles, instructions).
# counters: [task-clock, instructions]
# TDP in watts of the estimate used where no energy sensor can be read (default: 5 W per CPU).
# tdp: 65

# Custom stages: modules whose default export makes a stage, run in a group: pre (once, before the first run),
# prepare (per commit), run (per run) or post (once, last); options are passed to the module.
# stages:
#   - module: ./stages/check-fans.mjs
#     group: pre
#     options: { min_rpm: 800 }

# Only one of N balanced slices of the commits: shard K takes every N-th commit from the K-th on, so
# that N machines measure a study together (emp run --shard K/N on each); emp merge joins
# the shards' folders into one study.
# shard: 1/4

# Results folder (default: emp-results/<this file's name without extension>, in the current folder;
# with shard, emp-results/<name>-shard-K-of-N).
# out: results
`;
