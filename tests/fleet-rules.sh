#!/bin/sh
# SPDX-License-Identifier: MIT
# What echod ships for a fleet (etc/prometheus, etc/grafana; issue 25) holds: the rules pass
# `promtool check rules` and their unit tests (each alert fires on a synthetic series and
# stays silent on a healthy one); the scrape example with its file_sd targets passes
# `promtool check config`; the Grafana dashboard is JSON whose every panel has a datasource
# and queries, names every probe metric, and whose every PromQL expression parses (each
# becomes a recording rule of a generated file for `promtool check rules`) and, on
# synthetic series of a two-host mesh, evaluates and returns series (`promtool test rules`).
set -u

srcdir=${srcdir:-.}
prom=$srcdir/etc/prometheus
dashboard=$srcdir/etc/grafana/echod-fleet.json
for tool in promtool python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not installed (Debian: prometheus, python3; tools/deps.sh)"
		exit 77
	fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
# run WHAT COMMAND...: print its output; a non-zero exit fails the test.
run() {
	what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		failed=1
	fi
	sed 's/^/    /' "$tmp/out"
}

run "promtool check rules" promtool check rules "$prom/echod-rules.yml"
run "promtool test rules" promtool test rules "$prom/echod-rules.test.yml"
# check config reads the rule files and the file_sd files it names, relative to itself.
run "promtool check config" promtool check config "$prom/prometheus-echod.yml"
# A file_sd file that is not there is only a warning to promtool: not to this test.
if grep -q 'WARNING' "$tmp/out"; then
	echo "FAIL: promtool check config warns"
	failed=1
fi

# A broken targets file must fail check config, or the check above proves nothing about it.
cp "$prom/prometheus-echod.yml" "$prom/echod-rules.yml" "$tmp/"
printf -- '- targets: [ "no-port-here:" ]\n  labels: { 0bad: x }\n' >"$tmp/echod-targets.yml"
if promtool check config "$tmp/prometheus-echod.yml" >/dev/null 2>&1; then
	echo "FAIL: promtool check config accepts a broken file_sd targets file"
	failed=1
else
	echo "ok: promtool check config refuses a broken file_sd targets file"
fi

# The dashboard: structure in Python, the expressions through promtool.
if python3 - "$dashboard" "$tmp/dashboard-rules.yml" <<'PY'
import json, re, sys

path, out = sys.argv[1], sys.argv[2]
errors = []
try:
    dash = json.load(open(path, encoding="utf-8"))
except ValueError as e:
    sys.exit("FAIL: %s is not JSON: %s" % (path, e))

def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))

exprs = []
ids = set()
for p in panels(dash.get("panels", [])):
    name = "panel %r" % p.get("title")
    if p.get("id") in ids:
        errors.append("%s: id %r twice" % (name, p.get("id")))
    ids.add(p.get("id"))
    if p.get("type") == "row":
        continue
    if not p.get("datasource"):
        errors.append(name + ": no datasource")
    if not p.get("targets"):
        errors.append(name + ": no targets")
    for t in p.get("targets", []):
        if not t.get("datasource") or not t.get("expr", "").strip():
            errors.append(name + ": a target without a datasource or an expr")
        else:
            exprs.append((name, t["expr"]))

variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
for want in ("datasource", "instance", "target"):
    if want not in variables:
        errors.append("no template variable $" + want)
for v in variables.values():
    if v.get("type") != "query":
        continue
    if not v.get("datasource"):
        errors.append("variable $%s: no datasource" % v.get("name"))
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else q
    m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q or "")
    if not m:
        errors.append("variable $%s: not label_values(SELECTOR, LABEL): %r" % (v["name"], q))
    else:
        exprs.append(("variable $" + v["name"], m.group(1)))

# Every probe metric of issue 25 is on the dashboard.
text = "\n".join(e for _, e in exprs)
for metric in ("rtt_seconds", "sent_total", "received_total", "lost_total",
               "one_way_delay_seconds", "reflector_dwell_seconds", "hops", "reply_dscp", "up"):
    if not re.search(r"\bechod_probe_" + metric + r"(_bucket)?\b", text):
        errors.append("no panel reads echod_probe_" + metric)

# The pair the synthetic series below hold; a variable chosen as a value, not ".*", so that
# a misspelt label in a selector selects nothing and fails.
PICKED = {"instance": "h1", "target": "h2", "probe": "mesh"}
def substitute(e):
    # Grafana's range variables become a duration; template variables a value or "all".
    e = re.sub(r"\$(__rate_interval|__interval|__range)\b", "5m", e)
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)",
                  lambda m: PICKED.get(m.group(1) or m.group(2), ".*"), e)

with open(out, "w", encoding="utf-8") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (name, e) in enumerate(exprs):
        f.write("      # %s\n      - record: dashboard_expr_%d\n        expr: %s\n"
                % (name, i, json.dumps(substitute(e))))
# Each expression also runs, on synthetic series of a two-host mesh (every probe metric, as
# the issue names them), and must return something: count() of it, capped at 1, is 1.
# An expression that parses but cannot evaluate (a many-to-many match) or selects nothing
# (a misspelt name or label) fails here.
def series(name, labels, values):
    return "      - series: '%s{%s}'\n        values: '%s'\n" % (
        name, ",".join('%s="%s"' % kv for kv in labels.items()), values)

inputs = ""
for src, dst in (("h1", "h2"), ("h2", "h1")):
    pair = {"job": "echod", "instance": src, "probe": "mesh", "target": dst, "protocol": "stamp"}
    for metric, extra in (("echod_probe_rtt_seconds", {}),
                          ("echod_probe_one_way_delay_seconds", {"direction": "forward"}),
                          ("echod_probe_one_way_delay_seconds", {"direction": "backward"})):
        for le, per_min in (("0.0001", 10), ("0.001", 55), ("0.01", 59), ("+Inf", 59)):
            inputs += series(metric + "_bucket", dict(pair, **extra, le=le), "0+%dx15" % per_min)
        inputs += series(metric + "_sum", dict(pair, **extra), "0+0.02x15")
        inputs += series(metric + "_count", dict(pair, **extra), "0+59x15")
    inputs += series("echod_probe_sent_total", pair, "0+60x15")
    inputs += series("echod_probe_received_total", pair, "0+59x15")
    for direction, per_min in (("forward", 1), ("backward", 0), ("unknown", 0)):
        inputs += series("echod_probe_lost_total", dict(pair, direction=direction),
                         "0+%dx15" % per_min)
    for name, value in (("echod_probe_reflector_dwell_seconds", "0.00002"),
                        ("echod_probe_hops", "3"), ("echod_probe_reply_dscp", "34"),
                        ("echod_probe_up", "1")):
        inputs += series(name, pair, "%sx15" % value)

with open(out.replace("rules.yml", "test.yml"), "w", encoding="utf-8") as f:
    f.write("rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n"
            "    input_series:\n" + inputs + "    promql_expr_test:\n")
    for name, e in exprs:  # a variable's selector too: the series its values come from
        f.write("      # %s\n      - expr: %s\n        eval_time: 10m\n"
                "        exp_samples:\n          - labels: '{}'\n            value: 1\n"
                % (name, json.dumps("clamp_max(count(%s), 1)" % substitute(e))))

for e in errors:
    print("FAIL: " + e)
print("%d expressions from %d panels and variables" % (len(exprs), len(ids)))
sys.exit(1 if errors else 0)
PY
then
	echo "ok: the dashboard's structure"
	run "every dashboard expression parses (promtool check rules)" \
		promtool check rules "$tmp/dashboard-rules.yml"
	run "every dashboard expression returns series (promtool test rules)" \
		promtool test rules "$tmp/dashboard-test.yml"
else
	echo "FAIL: the dashboard's structure"
	failed=1
fi
exit $failed
