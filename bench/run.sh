#!/usr/bin/env bash
# faucet's benchmark harness (issues 9 and 18). Builds the generator, the
# compiled scenarios and the hand-written references in release, generates the
# seeded data, runs every scenario next to its reference (and faucet-cli 1.17.0,
# the peer, when it can be installed), checks that the outputs hold the same
# records, and prints a table, then the typed scenarios' ratios. See BENCHMARKS.md.
#
# Scenarios: A (CSV -> JSON Lines), B (PostgreSQL -> JSON Lines), C (PostgreSQL
# -> PostgreSQL; also against `pg_dump --data-only | psql`, and split into 1, 2
# and 4 shards in one process, C typed in 1 and 2), D (A through
# flatten, rename_keys, snake_case), J (typed JSON Lines -> JSON Lines), E (A at
# other sizes). A, B, C, D and J also run their typed variant against the same
# reference (D's is "D typed (CSV)", where flatten has nothing to do); D also
# runs D typed, its transforms on J's nested input, against its own
# hand-written reference.
#
#   bench/run.sh                  A, B, C, D and J at 1M rows, E at 100k and 10M rows
#   bench/run.sh --smoke          A, B, C, D and J at 10k rows, one run each, no peer,
#                                 debug build (CI; --release builds in release)
#   bench/run.sh --rows 200000 --only "A D" --e-sizes "100000 1000000" --runs 3
#
# B and C (PostgreSQL) use database faucet_bench on 127.0.0.1:5432
# (FAUCET_BENCH_PG_URL overrides it), created and loaded from the seeded CSV,
# and C's pg_dump reference writes into database faucet_bench_dump.
# Environment: FAUCET_BENCH_SKIP_PEER=1 skips faucet-cli; FAUCET_BENCH_DIR is
# where data and outputs go (default target/bench/run); CARGO_TARGET_DIR
# defaults to target/bench for the release build, so it leaves the shared
# debug artifacts alone, and to target for the smoke's debug build, so it
# reuses them. Timings never fail the script; a failed run or a parity
# mismatch does.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

smoke=0 release=1 rows=1000000 only="A B C D J E" e_sizes="100000 10000000" runs=5 warmup=1 seed=42
force_release=0
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1 ;;
    --release) force_release=1 ;;
    --rows) rows=$2; shift ;;
    --only) only=$2; shift ;;
    --e-sizes) e_sizes=$2; shift ;;
    --runs) runs=$2; shift ;;
    --seed) seed=$2; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then
  rows=10000 only="A B C D J" runs=1 warmup=0 release=$force_release
  export FAUCET_BENCH_SKIP_PEER=1
fi

if [ "$release" = 1 ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/bench}
  bin=$CARGO_TARGET_DIR/release
else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
  bin=$CARGO_TARGET_DIR/debug
fi
work=${FAUCET_BENCH_DIR:-$root/target/bench/run}
mkdir -p "$work/data" "$work/out"

log() { printf '\n==> %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() { # apt_install PACKAGE: best effort, quiet
  have apt-get || return 1
  apt-get install -y -qq "$1" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$1" >/dev/null 2>&1; }
}

# --- tools -----------------------------------------------------------------
have hyperfine || apt_install hyperfine || true
have jq || apt_install jq || true
[ -x /usr/bin/time ] || apt_install time || true
use_hyperfine=0
if have hyperfine && have jq; then
  use_hyperfine=1
elif [ "$smoke" = 1 ]; then
  echo "hyperfine or jq is missing: smoke mode times single runs with GNU time instead" >&2
else
  echo "run.sh: hyperfine and jq are required (apt-get install -y hyperfine jq)" >&2
  exit 1
fi
if [ ! -x /usr/bin/time ]; then
  echo "run.sh: GNU time is required for peak RSS (apt-get install -y time)" >&2
  exit 1
fi

log "machine"
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(rustc --version)"
echo "$machine" >&2

# --- build -----------------------------------------------------------------
if [ "$release" = 1 ]; then
  log "build (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  cargo build --release -p faucet-bench --bins
else
  log "build (debug, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  cargo build -p faucet-bench --bins
fi

# --- the peer ----------------------------------------------------------------
# shellcheck source=bench/peer.sh
. "$root/bench/peer.sh"
peer=
peer_note=
if [ "${FAUCET_BENCH_SKIP_PEER:-0}" = 1 ]; then
  peer_note="faucet-cli skipped (FAUCET_BENCH_SKIP_PEER=1 or --smoke)"
else
  peer_locate bench-peer "source-csv,sink-jsonl,source-postgres,sink-postgres,transforms"
fi
[ -n "$peer_note" ] && echo "$peer_note" >&2

# --- data ------------------------------------------------------------------
# dataset ROWS [FORMAT]: prints the path of the seeded data (FORMAT csv, the
# default, or jsonl: the same rows as typed JSON Lines), generating it once.
dataset() {
  local format=${2:-csv}
  local file=$work/data/bench-$1-seed$seed.$format
  if [ ! -s "$file" ]; then
    log "generating $1 rows as $format (seed $seed)"
    "$bin/gen-data" --rows "$1" --seed "$seed" --format "$format" --out "$file.tmp" && mv "$file.tmp" "$file"
  fi
  echo "$file"
}

# --- measuring -------------------------------------------------------------
results=$work/results.tsv
: >"$results"
failed=0

# measure SCENARIO ROWS PROGRAM OUT CMD...: one run under GNU time (peak RSS,
# and the output checked for parity), then hyperfine for the median wall time.
# $before_run (a shell command, empty by default) runs before every run too.
before_run=
measure() {
  local scenario=$1 n=$2 program=$3 out=$4; shift 4
  local cmd
  cmd=$(printf '%q ' "$@")
  rm -f "$out"
  [ -z "$before_run" ] || bash -c "$before_run"
  local tfile=$work/out/time.txt
  if ! /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$work/out/last.log" 2>&1; then
    echo "FAILED: $scenario $program: $cmd" >&2
    cat "$work/out/last.log" >&2
    failed=1
    return 0
  fi
  local wall rss
  read -r wall rss <"$tfile"
  local median=$wall
  if [ "$use_hyperfine" = 1 ] && [ "$runs" -gt 1 ]; then
    local json=$work/out/hyperfine.json
    hyperfine --style basic --warmup "$warmup" --runs "$runs" \
      --prepare "rm -f $(printf '%q' "$out")${before_run:+; $before_run}" \
      --export-json "$json" "$cmd" >&2
    median=$(jq '.results[0].median' "$json")
    # Leave the output of a complete run behind for the parity check.
    rm -f "$out"
    [ -z "$before_run" ] || bash -c "$before_run"
    "$@" >/dev/null 2>&1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$scenario" "$n" "$program" "$median" "$rss" >>"$results"
  printf '%s %s rows, %s: median %ss, peak %s KiB\n' "$scenario" "$n" "$program" "$median" "$rss" >&2
}

# parity SCENARIO N EXPECTED ACTUAL PROGRAM
parity() {
  local count
  if [ ! -f "$4" ]; then
    echo "PARITY FAILED: $1 $5 wrote no output ($4)" >&2
    failed=1
  elif count=$("$bin/bench-parity" "$3" "$4"); then
    if [ "$count" != "$2" ]; then
      echo "PARITY FAILED: $1 $5 wrote $count records, the input has $2" >&2
      failed=1
    else
      echo "parity: $1 $5 = reference ($count records, key-sorted)" >&2
    fi
  else
    echo "PARITY FAILED: $1 $5 differs from the reference" >&2
    failed=1
  fi
}

# out_file LABEL ROWS PROGRAM: where a program's output goes.
out_file() { local name="$1-$2-$3"; echo "$work/out/${name// /_}.jsonl"; }

# faucet_programs ROWS EXPECTED VAR=INPUT [PROGRAM ROW_LABEL]...: runs each
# compiled faucet PROGRAM writing JSON Lines to BENCH_OUT, with VAR=INPUT set,
# as the row ROW_LABEL, and checks its output against EXPECTED.
faucet_programs() {
  local n=$1 expected=$2 input=$3
  shift 3
  while [ $# -gt 0 ]; do
    local o_fct
    o_fct=$(out_file "$2" "$n" faucet)
    measure "$2" "$n" faucet "$o_fct" env "$input" BENCH_OUT="$o_fct" "$bin/$1"
    parity "$2" "$n" "$expected" "$o_fct" faucet
    rm -f "$o_fct"
    shift 2
  done
}

# file_scenario ROWS FORMAT LABEL REFERENCE PEER_YAML [PROGRAM ROW_LABEL]...: a
# file scenario (A, D and E read the CSV, J and D typed the JSON Lines, both
# from dataset ROWS FORMAT). The hand-written REFERENCE runs first, then each
# compiled faucet PROGRAM (its row labelled ROW_LABEL), then faucet-cli with
# PEER_YAML ("-": no peer); every output is checked against the reference's.
file_scenario() {
  local n=$1 format=$2 label=$3 reference=$4 peer_yaml=$5
  shift 5
  local input
  input=$(dataset "$n" "$format")
  local o_ref o_peer
  o_ref=$(out_file "$label" "$n" reference) o_peer=$(out_file "$label" "$n" faucet-cli)
  log "scenario $label: $n rows"
  measure "$label" "$n" reference "$o_ref" "$bin/$reference" "$input" "$o_ref"
  faucet_programs "$n" "$o_ref" BENCH_IN="$input" "$@"
  if [ -n "$peer" ] && [ "$peer_yaml" != - ]; then
    measure "$label" "$n" faucet-cli "$o_peer" env BENCH_IN="$input" BENCH_OUT="$o_peer" "$peer" run "$peer_yaml"
    parity "$label" "$n" "$o_ref" "$o_peer" faucet-cli
  fi
  rm -f "$o_ref" "$o_peer"
}

# --- PostgreSQL (B, C) ----------------------------------------------------------
pg_url=${FAUCET_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/faucet_bench}
pg_db=${pg_url##*/}
pg_params=
case $pg_db in *\?*) pg_params=?${pg_db#*\?} ;; esac
pg_db=${pg_db%%\?*}
# The database `pg_dump | psql` writes into: its table has the source's name.
dump_url=${pg_url%/*}/${pg_db}_dump$pg_params
psql_bench() { psql "$pg_url" -v ON_ERROR_STOP=1 -qAtX "$@"; }

# create_db NAME: creates database NAME on pg_url's server unless it exists.
create_db() {
  local admin=${pg_url%/*}/postgres$pg_params
  if [ -z "$(psql "$admin" -qAtX -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]; then
    psql "$admin" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$1\""
  fi
}

# pg_load ROWS: table `bench` holds the seeded CSV of ROWS rows (loaded once
# per size). `bench_dest` (faucet's target), `bench_dest_typed` (C typed's) and
# `bench_dest_ref` (the reference's) are `bench` with `created_at` as text, as
# faucet-stream's benchmark has them. `pg_dump | psql` copies `bench` as it is,
# into a table `bench` of the same columns in database <db>_dump. Like the
# other targets it has no primary key.
#
# The typed scenarios' schemas are these tables as `faucet-gen prepare` read
# them into bench/.faucet/: after changing a column here, rerun it (see
# bench/scenarios/bench_c_typed.yaml).
pg_load() {
  local input
  input=$(dataset "$1")
  create_db "$pg_db"
  create_db "${pg_db}_dump"
  psql "$dump_url" -v ON_ERROR_STOP=1 -qAtX -c "CREATE TABLE IF NOT EXISTS bench (id bigint, first_name text,
    country text, amount double precision, created_at timestamptz, active boolean, attributes jsonb)"
  local tag="$1 rows, seed $seed, with bench_dest_typed"
  if [ "$(psql_bench -c "SELECT obj_description(to_regclass('bench'))" 2>/dev/null)" != "$tag" ]; then
    log "loading $1 rows into PostgreSQL ($pg_url, table bench)"
    psql_bench <<SQL
DROP TABLE IF EXISTS bench, bench_dest, bench_dest_ref, bench_dest_typed;
CREATE TABLE bench (id bigint PRIMARY KEY, first_name text, country text, amount double precision,
                    created_at timestamptz, active boolean, attributes jsonb);
\copy bench FROM '$input' (FORMAT csv, HEADER true)
CREATE TABLE bench_dest (id bigint, first_name text, country text, amount double precision,
                         created_at text, active boolean, attributes jsonb);
CREATE TABLE bench_dest_ref (LIKE bench_dest);
CREATE TABLE bench_dest_typed (LIKE bench_dest);
COMMENT ON TABLE bench IS '$tag';
VACUUM ANALYZE bench;
SQL
  fi
}

# table_rows URL TABLE OUT: the table's rows as JSON Lines, in id order, for the parity check.
table_rows() {
  psql "$1" -v ON_ERROR_STOP=1 -qAtX -c "SELECT row_to_json(t) FROM (SELECT * FROM $2 ORDER BY id) t" >"$3"
}

# pg_b ROWS: B (PostgreSQL -> JSON Lines) and B typed.
pg_b() {
  local n=$1
  pg_load "$n"
  local o_ref o_peer
  o_ref=$(out_file B "$n" reference) o_peer=$(out_file B "$n" faucet-cli)
  log "scenario B: $n rows"
  measure B "$n" reference "$o_ref" "$bin/reference_b" "$pg_url" "$o_ref"
  faucet_programs "$n" "$o_ref" BENCH_PG_URL="$pg_url" faucet_b B faucet_b_typed "B typed"
  if [ -n "$peer" ]; then
    measure B "$n" faucet-cli "$o_peer" env BENCH_PG_URL="$pg_url" BENCH_OUT="$o_peer" "$peer" run bench/scenarios/bench_b.yaml
    parity B "$n" "$o_ref" "$o_peer" faucet-cli
  fi
  rm -f "$o_ref" "$o_peer"
}

# pg_c ROWS: C (PostgreSQL -> PostgreSQL) and C typed, each target emptied
# before every run and compared, in id order, with the reference's. The second
# reference is `pg_dump --data-only -t bench | psql` into <db>_dump; its peak
# RSS is the largest of pg_dump's, psql's and the shell's.
pg_c() {
  local n=$1
  pg_load "$n"
  before_run="psql $(printf '%q' "$pg_url") -qX -c 'TRUNCATE bench_dest, bench_dest_ref, bench_dest_typed' \
    && psql $(printf '%q' "$dump_url") -qX -c 'TRUNCATE bench'"
  local o_ref o_out
  o_ref=$(out_file C "$n" reference)
  log "scenario C: $n rows"
  measure C "$n" reference "$o_ref" "$bin/reference_c" "$pg_url" bench_dest_ref
  table_rows "$pg_url" bench_dest_ref "$o_ref"
  o_out=$(out_file C "$n" pg_dump)
  measure C "$n" "pg_dump | psql" "$o_out" bash -c "set -o pipefail; pg_dump --data-only -t bench $(printf '%q' "$pg_url") \
    | psql -qX -v ON_ERROR_STOP=1 $(printf '%q' "$dump_url")"
  table_rows "$dump_url" bench "$o_out"
  parity C "$n" "$o_ref" "$o_out" "pg_dump | psql"
  o_out=$(out_file C "$n" faucet)
  measure C "$n" faucet "$o_out" env BENCH_PG_URL="$pg_url" "$bin/faucet_c"
  table_rows "$pg_url" bench_dest "$o_out"
  parity C "$n" "$o_ref" "$o_out" faucet
  o_out=$(out_file "C typed" "$n" faucet)
  measure "C typed" "$n" faucet "$o_out" env BENCH_PG_URL="$pg_url" "$bin/faucet_c_typed"
  table_rows "$pg_url" bench_dest_typed "$o_out"
  parity "C typed" "$n" "$o_ref" "$o_out" faucet
  # C split into 1, 2 and 4 shards of `id`, all in one process (issue 21).
  for shards in 1 2 4; do
    o_out=$(out_file C "$n" "faucet-${shards}-shards")
    measure C "$n" "faucet, $shards shard(s)" "$o_out" env BENCH_PG_URL="$pg_url" "$bin/faucet_c_shards" "$shards"
    table_rows "$pg_url" bench_dest "$o_out"
    parity C "$n" "$o_ref" "$o_out" "faucet, $shards shard(s)"
  done
  for shards in 1 2; do
    o_out=$(out_file "C typed" "$n" "faucet-${shards}-shards")
    measure "C typed" "$n" "faucet, $shards shard(s)" "$o_out" env BENCH_PG_URL="$pg_url" "$bin/faucet_c_shards" "typed-$shards"
    table_rows "$pg_url" bench_dest_typed "$o_out"
    parity "C typed" "$n" "$o_ref" "$o_out" "faucet, $shards shard(s)"
  done
  if [ -n "$peer" ]; then
    o_out=$(out_file C "$n" faucet-cli)
    measure C "$n" faucet-cli "$o_out" env BENCH_PG_URL="$pg_url" "$peer" run bench/scenarios/bench_c.yaml
    table_rows "$pg_url" bench_dest "$o_out"
    parity C "$n" "$o_ref" "$o_out" faucet-cli
  fi
  before_run=
  rm -f "$work"/out/C-"$n"-*.jsonl "$work"/out/C_typed-"$n"-*.jsonl
}

for s in $only; do
  case $s in
    A|a) file_scenario "$rows" csv A reference_a bench/peer/bench_a.yaml faucet_a A faucet_a_typed "A typed" ;;
    B|b) pg_b "$rows" ;;
    C|c) pg_c "$rows" ;;
    D|d)
      file_scenario "$rows" csv D reference_d bench/peer/bench_d.yaml faucet_d D faucet_d_typed_csv "D typed (CSV)"
      file_scenario "$rows" jsonl "D typed" reference_d_typed - faucet_d_typed "D typed"
      ;;
    J|j) file_scenario "$rows" jsonl J reference_j - faucet_j J faucet_j_typed "J typed" ;;
    E|e) for n in $e_sizes; do file_scenario "$n" csv E reference_a bench/peer/bench_a.yaml faucet_a E; done ;;
    *) echo "run.sh: unknown scenario $s" >&2; exit 2 ;;
  esac
done

# --- the tables ----------------------------------------------------------------
# A row's × reference and × faucet-cli compare it with its scenario's programs;
# a typed variant without a reference of its own (A, B, C, J typed and D typed
# (CSV)) with its untyped scenario's. Then the issue 18 comparisons, at --rows rows.
log "results ($machine; $([ "$use_hyperfine" = 1 ] && [ "$runs" -gt 1 ] && echo "hyperfine median of $runs runs after $warmup warm-up" || echo "one run"); $([ "$release" = 1 ] && echo release || echo "debug build"))"
awk -F'\t' -v rows="$rows" '
  { sc[NR] = $1; n[NR] = $2; prog[NR] = $3; wall[$1 FS $2 FS $3] = $4; peak[$1 FS $2 FS $3] = $5
    if ($1 == "E") e_sizes[$2] = 1 }
  function get(table, key) { return (key in table) ? table[key] : "" }
  function base(s, size) { if (!((s FS size FS "reference") in wall)) sub(/ typed.*$/, "", s); return s }
  # b / a: how much faster a is than b (wall times), or how much more memory a takes than b (peaks).
  function quotient(a, b) { return (a == "" || b == "" || a == 0 || b == 0) ? "" : b / a }
  function ratio(a, b) { return quotient(a, b) == "" ? "–" : sprintf("%.2f×", quotient(a, b)) }
  function speed(s1, p1, s2, p2, size) { return ratio(get(wall, s1 FS size FS p1), get(wall, s2 FS size FS p2)) }
  function memory(s1, p1, s2, p2, size) { return ratio(get(peak, s2 FS size FS p2), get(peak, s1 FS size FS p1)) }
  function md(text) { gsub(/\|/, "\\|", text); return text }
  function line(what, value, target) { printf "| %s | %s | %s |\n", md(what), value, target }
  # BENCHMARKS.md run 5 (1M rows; E at 100k and 10M): the untyped ratios to keep within 5%.
  function run5(s, size,    r, now, q) {
    r["A" FS 1000000] = 0.85; r["B" FS 1000000] = 0.71; r["C" FS 1000000] = 0.45; r["D" FS 1000000] = 0.41
    r["E" FS 100000] = 0.79; r["E" FS 10000000] = 0.85
    now = speed(s, "faucet", s, "reference", size)
    q = quotient(get(wall, s FS size FS "faucet"), get(wall, s FS size FS "reference"))
    if (!((s FS size) in r)) return now " (run 5: not at this size)"
    if (q == "") return now
    return sprintf("%s (run 5: %.2f×, %+.0f%%)", now, r[s FS size], (q / r[s FS size] - 1) * 100)
  }
  END {
    print "| scenario | rows | program | median wall s | rows/s | peak MiB | × reference | × faucet-cli |"
    print "|---|---:|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= NR; i++) {
      b = base(sc[i], n[i]); key = sc[i] FS n[i] FS prog[i]
      rate = wall[key] > 0 ? sprintf("%d", n[i] / wall[key]) : "–"
      printf "| %s | %d | %s | %.3f | %s | %.1f | %s | %s |\n", sc[i], n[i], md(prog[i]), wall[key], rate,
        peak[key] / 1024, speed(sc[i], prog[i], b, "reference", n[i]), speed(sc[i], prog[i], b, "faucet-cli", n[i])
    }
    print ""
    print "| typed records (issue 18), " rows " rows | measured | target |"
    print "|---|---:|---|"
    line("A typed ÷ reference, rows/s", speed("A typed", "faucet", "A", "reference", rows), "≥ 1.00×")
    line("A typed ÷ reference, peak RSS", memory("A typed", "faucet", "A", "reference", rows), "≤ 1.50×")
    line("D typed ÷ A typed, rows/s (JSON Lines against CSV input)", speed("D typed", "faucet", "A typed", "faucet", rows), "≥ 0.95×")
    line("D typed (CSV) ÷ A typed, rows/s (the same CSV input)", speed("D typed (CSV)", "faucet", "A typed", "faucet", rows), "≥ 0.95×")
    line("D typed ÷ J typed, rows/s (the same JSON Lines input)", speed("D typed", "faucet", "J typed", "faucet", rows), "–")
    line("D typed ÷ its reference, rows/s", speed("D typed", "faucet", "D typed", "reference", rows), "–")
    line("B typed ÷ reference", speed("B typed", "faucet", "B", "reference", rows), "≥ 0.90×")
    line("C typed ÷ reference", speed("C typed", "faucet", "C", "reference", rows), "≥ 0.90×")
    line("C typed ÷ pg_dump | psql", speed("C typed", "faucet", "C", "pg_dump | psql", rows), "≥ 0.80×")
    line("C typed ÷ faucet-cli", speed("C typed", "faucet", "C", "faucet-cli", rows), "≥ 5.00×")
    line("C, 2 shards ÷ 1 shard (issue 21)", speed("C", "faucet, 2 shard(s)", "C", "faucet, 1 shard(s)", rows), "≥ 1.30×")
    line("C typed, 2 shards ÷ 1 shard (issue 21)", speed("C typed", "faucet, 2 shard(s)", "C typed", "faucet, 1 shard(s)", rows), "≥ 1.30×")
    for (k = 1; k <= 4; k *= 2)
      line("C, " k " shard(s) ÷ pg_dump | psql", speed("C", "faucet, " k " shard(s)", "C", "pg_dump | psql", rows), "–")
    split("A typed|B typed|C typed|D typed (CSV)|J typed", typed, "|")
    for (t = 1; t <= 5; t++) {
      untyped_of = typed[t]; sub(/ typed.*$/, "", untyped_of)
      line(typed[t] " ÷ " untyped_of " (untyped)", speed(typed[t], "faucet", untyped_of, "faucet", rows), "–")
    }
    split("A B C D", untyped, " ")
    for (t = 1; t <= 4; t++)
      line(untyped[t] " (untyped) ÷ reference", run5(untyped[t], rows), "within 5% of run 5")
    for (size in e_sizes)
      line("E (untyped) ÷ reference at " size " rows", run5("E", size), "within 5% of run 5")
  }' "$results" | tee "$work/results.md"
echo "(× = rows/s relative to that program, above 1 is faster; for peak RSS, memory relative to it. Raw rows: $results)"
[ -n "$peer_note" ] && echo "$peer_note"

if [ "$failed" = 1 ]; then
  echo "run.sh: a run failed or an output differs from the reference" >&2
  exit 1
fi
