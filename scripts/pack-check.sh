#!/usr/bin/env bash
# Checks socket-mesh the way a new user meets it: from the packed tarball, installed with npm
# into fresh projects, run as separate processes.
#
#   1. build, `npm pack`, check the tarball's file list
#   2. plain ESM project: the README's "Without NestJS" example (taken from README.md), then the
#      same mesh split into manager / NodeB / NodeA processes through 'socket-mesh/plain';
#      the topology page served by a plain Manager; the `socket-mesh` bin (--help, keygen,
#      manager --http serving the page); require('socket-mesh') from a .cjs file
#   3. NestJS 12 ESM project compiled with tsc: manager + two NodeB + NodeA as processes;
#      balanced calls rotate, the responding broadcast answers twice, the typed proxy works,
#      unknown command and BigInt payload give their MeshError codes; SIGTERM ends everything
#
# A developer script, not part of `npm test`: it installs NestJS from the registry.
# Exits non-zero on the first failure. KEEP=1 keeps the temp directory for inspection.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
HERE="$REPO/scripts/pack-check"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/socket-mesh-pack-check.XXXXXX")
PIDS=()
NPM_FLAGS=(--no-audit --no-fund --loglevel=error)

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# start NAME DIR CMD...: runs CMD in DIR in the background, output in $WORK/logs/NAME.log.
start() {
  local name=$1 dir=$2; shift 2
  (cd "$dir" && exec "$@") >"$WORK/logs/$name.log" 2>&1 &
  PIDS+=("$!")
  eval "PID_${name//-/_}=$!"
}
# forget PID: it exited and was reaped, so cleanup must not signal that number again.
forget() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
pid_of() { local v="PID_${1//-/_}"; echo "${!v}"; }

# wait_log NAME TEXT [SECONDS]: waits until NAME's log contains TEXT.
wait_log() {
  local name=$1 text=$2 limit=${3:-20} i
  for ((i = 0; i < limit * 10; i++)); do
    grep -qF -- "$text" "$WORK/logs/$name.log" && return 0
    kill -0 "$(pid_of "$name")" 2>/dev/null || { cat "$WORK/logs/$name.log" >&2; fail "$name exited before printing '$text'"; }
    sleep 0.1
  done
  cat "$WORK/logs/$name.log" >&2
  fail "$name did not print '$text' within ${limit}s"
}

# wait_exit NAME EXPECTED... : waits (10 s) for NAME to exit with one of the EXPECTED codes.
wait_exit() {
  local name=$1; shift
  local pid code i
  pid=$(pid_of "$name")
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { cat "$WORK/logs/$name.log" >&2; fail "$name still running 10 s later (an open handle?)"; }
  code=0; wait "$pid" || code=$?
  forget "$pid"
  for expected in "$@"; do [[ "$code" == "$expected" ]] && return 0; done
  cat "$WORK/logs/$name.log" >&2
  fail "$name exited with $code, expected $*"
}

mkdir -p "$WORK/logs" "$WORK/pack"

# ---------------------------------------------------------------------------------------------
step "1. build and pack"
(cd "$REPO" && npm run build --silent && npm pack --silent --pack-destination "$WORK/pack" >/dev/null)
TARBALL=$(ls "$WORK"/pack/socket-mesh-*.tgz)
ok "packed $(basename "$TARBALL")"

tar tzf "$TARBALL" | sort >"$WORK/files.txt"
unexpected=$(grep -vE '^package/(dist/.+\.(js|d\.ts)|dist/core/manager-http/assets/[a-z-]+\.(html|js)|README\.md|CHANGELOG\.md|LICENSE|package\.json)$' "$WORK/files.txt" || true)
[[ -z "$unexpected" ]] || fail "unexpected files in the tarball:"$'\n'"$unexpected"
for f in dist/index.js dist/index.d.ts dist/plain.js dist/plain.d.ts dist/terminus.js dist/cli/main.js dist/core/manager-http/assets/topology.html README.md CHANGELOG.md LICENSE package.json; do
  grep -qx "package/$f" "$WORK/files.txt" || fail "the tarball lacks $f"
done
# dist/ is the esbuild bundle: one .js per entry point plus shared chunks (dist/chunks/), and
# tsc's .d.ts for every lib file.
js=$(grep -cE '^package/dist/(index|plain|testing|terminus|cli/main)\.js$' "$WORK/files.txt")
dts=$(grep -cE '^package/dist/(index|plain|testing|terminus|cli/main)\.d\.ts$' "$WORK/files.txt")
chunks=$(grep -cE '^package/dist/chunks/[^/]+\.js$' "$WORK/files.txt" || true)
[[ "$js" == 5 && "$dts" == 5 ]] || fail "entry points: $js of 5 .js, $dts of 5 .d.ts"
[[ "$chunks" -gt 0 ]] || fail "no shared chunks in dist/chunks/"
stray=$(grep -E '^package/dist/.+\.js$' "$WORK/files.txt" | grep -vE '^package/dist/((index|plain|testing|terminus|cli/main)\.js|chunks/[^/]+\.js|core/manager-http/assets/[a-z-]+\.js)$' || true)
[[ -z "$stray" ]] || fail "unbundled .js files in dist:"$'\n'"$stray"
ok "tarball holds the bundle (5 entries + $chunks chunks), .d.ts, page assets, README, CHANGELOG, LICENSE, package.json; nothing else"

# ---------------------------------------------------------------------------------------------
step "2. plain Node.js project"
PLAIN="$WORK/plain-app"
mkdir -p "$PLAIN"
echo '{ "name": "plain-app", "version": "0.0.0", "private": true, "type": "module" }' >"$PLAIN/package.json"
(cd "$PLAIN" && npm install "${NPM_FLAGS[@]}" "$TARBALL")
cp "$HERE"/plain/*.mjs "$PLAIN/"

# The README's example, as written (the first js block under "## Without NestJS"), on a free port.
README_PORT=$(free_port)
awk '/^## Without NestJS/ { section = 1 } section && /^```js/ { code = 1; next } code && /^```/ { exit } code { print }' \
  "$REPO/README.md" >"$PLAIN/readme-example.mjs"
grep -q "new Manager" "$PLAIN/readme-example.mjs" || fail "no Manager example found under '## Without NestJS' in README.md"
sed -i "s/port: 8080/port: $README_PORT/g" "$PLAIN/readme-example.mjs"
cat "$PLAIN/readme-harness.mjs" >>"$PLAIN/readme-example.mjs"
start readme "$PLAIN" node readme-example.mjs
wait_log readme PLAIN_OK 20
wait_exit readme 0
grep -q "status: 'ok data'" "$WORK/logs/readme.log" || fail "README example printed no { status: 'ok data' }"
ok "README example (one process) answered { status: 'ok data' } and exited by itself after close()"

export MESH_PORT
MESH_PORT=$(free_port)
start plain-manager "$PLAIN" node split-manager.mjs
wait_log plain-manager MANAGER_READY
start plain-node-b "$PLAIN" node split-node-b.mjs
start plain-node-a "$PLAIN" node split-node-a.mjs
wait_log plain-node-a SPLIT_RESULT 20
wait_exit plain-node-a 0
node -e '
  const line = require("fs").readFileSync(process.argv[1], "utf8").split("\n").find((l) => l.startsWith("SPLIT_RESULT "));
  const r = JSON.parse(line.slice("SPLIT_RESULT ".length));
  if (r.status.status !== "ok data") throw new Error("status answered " + JSON.stringify(r.status));
  if (!Array.isArray(r.collect) || r.collect.length !== 1 || r.collect[0].command !== "data") throw new Error("collect answered " + JSON.stringify(r.collect));
' "$WORK/logs/plain-node-a.log" || fail "split plain mesh gave wrong answers: $(grep SPLIT_RESULT "$WORK/logs/plain-node-a.log")"
kill -TERM "$(pid_of plain-node-b)" "$(pid_of plain-manager)"
wait_exit plain-node-b 0
wait_exit plain-manager 0
ok "split plain mesh ('socket-mesh/plain', three processes) answered; SIGTERM + close() exits 0"

start topology "$PLAIN" node topology-page.mjs
wait_log topology TOPOLOGY_OK 20
wait_exit topology 0
ok "a plain Manager serves the topology page and its script from the installed package; one MeshError across entries"

(cd "$PLAIN" && npx --no-install socket-mesh --help) >"$WORK/logs/cli-help.log" 2>&1 || { cat "$WORK/logs/cli-help.log" >&2; fail "npx socket-mesh --help failed"; }
grep -q '^Usage: socket-mesh' "$WORK/logs/cli-help.log" || fail "npx socket-mesh --help printed no usage"
(cd "$PLAIN" && npx --no-install socket-mesh keygen) >"$WORK/logs/cli-keygen.log" 2>&1 || { cat "$WORK/logs/cli-keygen.log" >&2; fail "npx socket-mesh keygen failed"; }
grep -q '^MESH_PUBLIC_KEY=' "$WORK/logs/cli-keygen.log" && grep -q '^MESH_PRIVATE_KEY=' "$WORK/logs/cli-keygen.log" || fail "keygen printed no key pair"
HTTP_PORT=$(free_port)
set -a; eval "$(grep '^MESH_' "$WORK/logs/cli-keygen.log")"; set +a
start cli-manager "$PLAIN" ./node_modules/.bin/socket-mesh manager --port 0 --http "$HTTP_PORT" --host 127.0.0.1 --log-level info
unset MESH_PUBLIC_KEY MESH_PRIVATE_KEY
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/socket-mesh/port" && break; sleep 0.1; done
curl -sf -o "$WORK/logs/cli-page.html" "http://127.0.0.1:$HTTP_PORT/socket-mesh/ui" && grep -q '<html' "$WORK/logs/cli-page.html" || { cat "$WORK/logs/cli-manager.log" >&2; fail "the CLI manager did not serve the topology page"; }
kill -TERM "$(pid_of cli-manager)"
wait_exit cli-manager 0 143
ok "npx socket-mesh --help, keygen, and manager --http (serving the topology page) run from the tarball"

if node -e 'process.exit(process.features.require_module ? 0 : 1)'; then
  echo 'const m = require("socket-mesh"); const p = require("socket-mesh/plain");
    if (typeof m.SocketMeshModule !== "function" || typeof p.SocketNode !== "function") process.exit(1);' >"$PLAIN/require.cjs"
  (cd "$PLAIN" && node require.cjs) || fail "require('socket-mesh') from a .cjs file failed"
  ok "require('socket-mesh') and require('socket-mesh/plain') work from CommonJS on Node $(node -v)"
else
  echo "skip - Node $(node -v) cannot require() ES modules; CommonJS users need import()"
fi

# ---------------------------------------------------------------------------------------------
step "3. NestJS 12 project (ESM, tsc)"
NEST="$WORK/nest-app"
mkdir -p "$NEST"
cp -r "$HERE/nest/." "$NEST/"
cat >"$NEST/package.json" <<'JSON'
{
  "name": "nest-app",
  "version": "0.0.0",
  "private": true,
  "type": "module",
  "dependencies": {
    "@nestjs/common": "^12.0.0",
    "@nestjs/core": "^12.0.0",
    "@nestjs/platform-express": "^12.0.0",
    "reflect-metadata": "^0.2.2",
    "rxjs": "^7.8.1"
  },
  "devDependencies": {
    "@types/node": "^20.19.0",
    "typescript": "~6.0.3"
  }
}
JSON
(cd "$NEST" && npm install "${NPM_FLAGS[@]}" && npm install "${NPM_FLAGS[@]}" "$TARBALL" && npx tsc -p tsconfig.json)
ok "installed and compiled"

# The README's Quick start, verbatim: each ```ts block starting with `// file: <path>` under
# "## Quick start" becomes that file, compiled against the installed tarball.
QS="$NEST/quickstart"
mkdir -p "$QS"
node -e '
  const fs = require("fs"), path = require("path");
  const [readme, dir] = process.argv.slice(1);
  const section = fs.readFileSync(readme, "utf8").split(/^## Quick start.*$/m)[1].split(/^## /m)[0];
  let n = 0;
  for (const m of section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const [first, ...rest] = m[1].split("\n");
    const file = /^\/\/ file: (\S+)$/.exec(first)?.[1];
    if (!file) continue;
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), rest.join("\n"));
    n++;
  }
  if (n < 5) throw new Error("only " + n + " Quick start files found");
' "$REPO/README.md" "$QS"
echo '{ "extends": "../tsconfig.json", "compilerOptions": { "noEmit": true, "rootDir": "." }, "include": ["**/*.ts"] }' >"$QS/tsconfig.json"
(cd "$NEST" && npx tsc -p quickstart/tsconfig.json) || fail "the README Quick start does not compile against the tarball"
ok "README Quick start compiles verbatim against the tarball"

MESH_PORT=$(free_port)
start manager "$NEST" node dist/manager.js
wait_log manager MANAGER_READY
start node-b-1 "$NEST" node dist/node-b.js
start node-b-2 "$NEST" node dist/node-b.js
wait_log node-b-1 NODE_B_READY
wait_log node-b-2 NODE_B_READY
start node-a "$NEST" node dist/node-a.js
wait_log node-a NEST_RESULT 30
wait_exit node-a 0
ok "NodeA closed with app.close() and exited by itself"

node -e '
  const line = require("fs").readFileSync(process.argv[1], "utf8").split("\n").find((l) => l.startsWith("NEST_RESULT "));
  const r = JSON.parse(line.slice("NEST_RESULT ".length));
  const pids = [Number(process.argv[2]), Number(process.argv[3])].sort();
  const check = (cond, what) => { if (!cond) throw new Error(what + ": " + JSON.stringify(r)); };
  check(new Set(r.balanced).size === 2 && r.balanced.every((p) => pids.includes(p)), "balanced calls did not reach both NodeB");
  check(r.balanced[0] !== r.balanced[1] && r.balanced[0] === r.balanced[2] && r.balanced[1] === r.balanced[3], "balanced calls did not alternate");
  check(r.collect.length === 2 && r.collect.map((a) => a.pid).sort().join() === pids.join() && r.collect.every((a) => a.command === "data"), "collect did not answer once per NodeB");
  check(r.proxy.status === "ok proxy", "the node<T>() proxy");
  check(r.unknown === "MESH_UNKNOWN_COMMAND", "unknown command");
  check(r.bigint === "MESH_BAD_REQUEST", "BigInt payload");
' "$WORK/logs/node-a.log" "$(pid_of node-b-1)" "$(pid_of node-b-2)" || fail "Nest mesh answers"
ok "balanced calls alternate between the two NodeB; collect answers twice; proxy works; MESH_UNKNOWN_COMMAND; MESH_BAD_REQUEST"

# enableShutdownHooks: Nest closes the app, then re-raises the signal, so 143 (128 + SIGTERM) is
# the normal status; 0 if the app uses { useProcessExit: true }.
kill -TERM "$(pid_of node-b-1)" "$(pid_of node-b-2)"
wait_exit node-b-1 0 143
wait_exit node-b-2 0 143
kill -TERM "$(pid_of manager)"
wait_exit manager 0 143
ok "SIGTERM with enableShutdownHooks ends NodeB x2 and the manager"

printf '\npack-check: all passed\n'
