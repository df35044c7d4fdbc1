#!/usr/bin/env bash
# Validates, offline, every Kubernetes manifest of docs/scale-out.md: each
# ```yaml block right after a `<!-- fragment: a Kubernetes manifest, … -->`
# line.
#
#   bash docs/check-scale-out.sh [FILE.md]      # default: docs/scale-out.md
#
# 1. Schemas: kubernetes-validate (PyPI), which carries the Kubernetes JSON
#    schemas, in strict mode (no unknown field), against Kubernetes 1.33
#    (backoffLimitPerIndex and maxFailedIndexes are GA from 1.33) and the
#    newest version the package carries. It is installed on first use into
#    ${XDG_CACHE_HOME:-~/.cache}/faucet/kubernetes-validate; validation itself
#    reads only those bundled files.
# 2. What the schemas leave out (they list no allowed values): the enum values
#    and cross-field rules the API server applies to the fields used here,
#    that every secretKeyRef names a Secret and key defined in the same page,
#    that every manifest-looking ```yaml block is marked, and that an Indexed
#    Job's completions equals the page's `shard: {count: N}`.
#
# Exits 0 when every manifest passes, 1 when one does not, 2 on a usage or
# setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
doc=${1:-$here/scale-out.md}
[[ -f $doc ]] || { echo "check-scale-out: no such file: $doc" >&2; exit 2; }
if [[ $# -gt 0 ]]; then shown=$1; else shown=$(realpath --relative-to=. "$doc"); fi

package_version=1.37.0
venv=${FAUCET_KUBE_VALIDATE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/faucet/kubernetes-validate}
if [[ $("$venv/bin/kubernetes-validate" --version 2>/dev/null || true) != *"$package_version"* ]]; then
    echo "check-scale-out: installing kubernetes-validate $package_version into $venv" >&2
    python3 -m venv "$venv" >&2 || { echo "check-scale-out: cannot create a venv at $venv" >&2; exit 2; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$package_version" >&2 \
        || { echo "check-scale-out: cannot install kubernetes-validate from PyPI" >&2; exit 2; }
fi

schemas=$("$venv/bin/python" -c 'import kubernetes_validate, os; print(os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema"))')
newest=$(ls "$schemas" | sed -n 's/^v\([0-9.]*\)-local-strict$/\1/p' | sort -V | tail -n 1)
versions="1.33.0"
[[ -n $newest && $newest != 1.33.0 ]] && versions="$versions $newest"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
# Extracts the manifests into $work (one file per block, named after its
# fence's line) and applies the checks the schemas cannot express.
"$venv/bin/python" - "$doc" "$work" "$shown" <<'PY' || status=1
import os
import sys

import yaml

doc, work, shown = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(doc, encoding="utf-8").read().splitlines()
K8S_MARKER = "<!-- fragment: a Kubernetes manifest"
errors = []


def error(line, what, message):
    errors.append(f"{shown}:{line}: {what}: {message}")


# Every ```yaml block: (fence line, text, the marker line before it).
blocks = []
i = 0
while i < len(lines):
    if lines[i].strip().startswith("```"):
        is_yaml = lines[i].strip() == "```yaml"
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        if is_yaml:
            before = lines[start - 1].strip() if start > 0 else ""
            blocks.append((start + 1, "\n".join(body) + "\n", before))
    i += 1

manifests = []  # (fence line, [documents])
shard_counts = set()
for line, text, before in blocks:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        if before.startswith(K8S_MARKER):
            error(line, "manifest", f"not YAML: {e}")
        continue
    if before.startswith(K8S_MARKER):
        if not docs:
            error(line, "manifest", "the block is empty")
        with open(os.path.join(work, f"manifest-line-{line:04d}.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
        manifests.append((line, docs))
        continue
    for d in docs:
        if isinstance(d, dict) and "apiVersion" in d and "kind" in d:
            error(line, "block", f"a Kubernetes manifest without the `{K8S_MARKER}, … -->` line right before it")
        if isinstance(d, dict) and isinstance(d.get("shard"), dict) and "count" in d["shard"]:
            shard_counts.add(d["shard"]["count"])

if not manifests:
    error(1, "page", "no Kubernetes manifest found")

secrets = {}
for line, docs in manifests:
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "Secret":
            keys = set((d.get("stringData") or {}).keys()) | set((d.get("data") or {}).keys())
            secrets[(d.get("metadata") or {}).get("name")] = keys


def one_of(line, what, value, allowed, field):
    if value is not None and value not in allowed:
        error(line, what, f"{field}: `{value}` is not one of {', '.join(allowed)}")


def check_pod(line, what, spec, kind):
    restart = spec.get("restartPolicy")
    one_of(line, what, restart, ["Always", "OnFailure", "Never"], "restartPolicy")
    if kind == "Job" and restart not in ("OnFailure", "Never"):
        error(line, what, "a Job's pods need restartPolicy OnFailure or Never")
    if kind == "Deployment" and restart not in (None, "Always"):
        error(line, what, "a Deployment's pods allow only restartPolicy Always")
    names = []
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        names.append(c.get("name"))
        cw = f"{what} container {c.get('name')}"
        one_of(line, cw, c.get("imagePullPolicy"), ["Always", "IfNotPresent", "Never"], "imagePullPolicy")
        for p in c.get("ports") or []:
            if not 1 <= int(p.get("containerPort", 0)) <= 65535:
                error(line, cw, f"containerPort {p.get('containerPort')} is not 1 to 65535")
            one_of(line, cw, p.get("protocol"), ["TCP", "UDP", "SCTP"], "protocol")
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref is None or ref.get("optional"):
                continue
            if ref.get("name") not in secrets:
                error(line, cw, f"env {e.get('name')}: Secret `{ref.get('name')}` is not defined on this page")
            elif ref.get("key") not in secrets[ref.get("name")]:
                error(line, cw, f"env {e.get('name')}: Secret `{ref.get('name')}` has no key `{ref.get('key')}`")
    if len(set(names)) != len(names):
        error(line, what, "two containers share a name")
    return names


def check_job(line, what, spec):
    pod = ((spec.get("template") or {}).get("spec")) or {}
    containers = check_pod(line, what, pod, "Job")
    mode = spec.get("completionMode")
    one_of(line, what, mode, ["NonIndexed", "Indexed"], "completionMode")
    completions = spec.get("completions")
    per_index = spec.get("backoffLimitPerIndex")
    if mode == "Indexed" and completions is None:
        error(line, what, "an Indexed Job needs completions")
    if per_index is not None and (mode != "Indexed" or pod.get("restartPolicy") != "Never"):
        error(line, what, "backoffLimitPerIndex needs completionMode Indexed and restartPolicy Never")
    failed = spec.get("maxFailedIndexes")
    if failed is not None:
        if per_index is None:
            error(line, what, "maxFailedIndexes needs backoffLimitPerIndex")
        if completions is not None and failed > completions:
            error(line, what, f"maxFailedIndexes {failed} exceeds completions {completions}")
    replacement = spec.get("podReplacementPolicy")
    one_of(line, what, replacement, ["TerminatingOrFailed", "Failed"], "podReplacementPolicy")
    policy = spec.get("podFailurePolicy")
    if policy is not None:
        if pod.get("restartPolicy") != "Never":
            error(line, what, "podFailurePolicy needs restartPolicy Never")
        if replacement not in (None, "Failed"):
            error(line, what, "with podFailurePolicy, podReplacementPolicy can only be Failed")
        for n, rule in enumerate(policy.get("rules") or []):
            rw = f"{what} podFailurePolicy rule {n}"
            action = rule.get("action")
            one_of(line, rw, action, ["FailJob", "FailIndex", "Ignore", "Count"], "action")
            if action == "FailIndex" and per_index is None:
                error(line, rw, "FailIndex needs backoffLimitPerIndex")
            codes, conditions = rule.get("onExitCodes"), rule.get("onPodConditions")
            if (codes is None) == (conditions is None):
                error(line, rw, "needs exactly one of onExitCodes and onPodConditions")
            if codes is not None:
                one_of(line, rw, codes.get("operator"), ["In", "NotIn"], "onExitCodes.operator")
                values = codes.get("values") or []
                if not values:
                    error(line, rw, "onExitCodes.values is empty")
                if codes.get("operator") == "In" and 0 in values:
                    error(line, rw, "onExitCodes with In cannot list 0")
                name = codes.get("containerName")
                if name is not None and name not in containers:
                    error(line, rw, f"containerName `{name}` names no container")
    if mode == "Indexed" and shard_counts:
        if len(shard_counts) != 1:
            error(line, what, f"the page's pipelines disagree on shard.count: {sorted(shard_counts)}")
        elif completions != next(iter(shard_counts)):
            error(line, what, f"completions {completions} differs from the pipeline's shard.count {next(iter(shard_counts))}")


def check_deployment(line, what, spec):
    template = spec.get("template") or {}
    check_pod(line, what, template.get("spec") or {}, "Deployment")
    wanted = ((spec.get("selector") or {}).get("matchLabels")) or {}
    labels = ((template.get("metadata") or {}).get("labels")) or {}
    if not wanted or any(labels.get(k) != v for k, v in wanted.items()):
        error(line, what, "spec.selector.matchLabels does not match the template's labels")
    one_of(line, what, (spec.get("strategy") or {}).get("type"), ["RollingUpdate", "Recreate"], "strategy.type")


for line, docs in manifests:
    for d in docs:
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind"):
            error(line, "manifest", "a document without apiVersion and kind")
            continue
        what = f"{d['kind']}/{(d.get('metadata') or {}).get('name')}"
        if not (d.get("metadata") or {}).get("name"):
            error(line, what, "metadata.name is missing")
        spec = d.get("spec") or {}
        if d["kind"] == "Job":
            check_job(line, what, spec)
        elif d["kind"] == "Deployment":
            check_deployment(line, what, spec)
        elif d["kind"] == "Pod":
            check_pod(line, what, spec, "Pod")
        elif d["kind"] == "Secret":
            one_of(line, what, d.get("type"), ["Opaque", "kubernetes.io/basic-auth", "kubernetes.io/tls",
                                              "kubernetes.io/dockerconfigjson"], "type")
        if not any(e.startswith(f"{shown}:{line}: {what}:") for e in errors):
            print(f"rules ok: {shown}:{line}: {what}")

for e in errors:
    print(f"error: {e}")
sys.exit(1 if errors else 0)
PY

shopt -s nullglob
files=("$work"/manifest-line-*.yaml)
for file in "${files[@]}"; do
    line=${file##*-line-}
    line=$((10#${line%.yaml}))
    for version in $versions; do
        if out=$("$venv/bin/kubernetes-validate" --strict --no-warn -k "$version" "$file" 2>&1); then
            echo "schema ok: $shown:$line against Kubernetes $version"
        else
            echo "error: $shown:$line against Kubernetes $version:"
            echo "${out//$file/block at line $line}" | sed 's/^/  /'
            status=1
        fi
    done
done

if (( status == 0 )); then
    echo "check-scale-out: ${#files[@]} manifest blocks of $shown are valid (Kubernetes $versions)"
else
    echo "check-scale-out: $shown has invalid manifests" >&2
fi
exit "$status"
