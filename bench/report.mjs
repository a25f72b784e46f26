// The bench's report: medians of bench/run.sh's samples, the issue 13 targets, a chart.
//
//   node bench/report.mjs SAMPLES_DIR META RESULTS.md CHART.svg [README.md]
//
// SAMPLES_DIR holds one file per series, "<operation>.<runtime>", one line per run:
//   "<exit status> <wall µs> <peak RSS KiB>" (bench/measure.c), except
//   uss.<runtime>       "<USS KiB> <RSS KiB> <PSS KiB>" of a created, waiting container
//   parallel.<runtime>  "<failed lifecycles> <wall µs>" of one round of 50
// Warm-up series (".warm") are ignored. META is "key=value" lines (run.sh). README.md, when
// given, gets its block between <!-- bench:begin --> and <!-- bench:end --> replaced.
// No dependencies: the SVG is written by hand.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';

const [samplesDir, metaFile, resultsFile, chartFile, readmeFile] = process.argv.slice(2);
if (!chartFile) {
  console.error('usage: node bench/report.mjs SAMPLES_DIR META RESULTS.md CHART.svg [README.md]');
  process.exit(2);
}

const meta = Object.fromEntries(
  readFileSync(metaFile, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const N = Number(meta.N);

/** The rows of one series file, as arrays of numbers; [] when the series is missing. */
function rows(name) {
  const f = join(samplesDir, name);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/).map(Number));
}

/** Quantile q of sorted values, linear between neighbours (the common "type 7"). */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
}
function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75) };
}

/** A timed series: wall ms and peak RSS MiB over the runs that succeeded, and the failures. */
function timed(name) {
  const all = rows(name);
  const ok = all.filter((r) => r[0] === 0);
  return {
    runs: all.length,
    failed: all.length - ok.length,
    ms: stats(ok.map((r) => r[1] / 1000)),
    rss: stats(ok.map((r) => r[2] / 1024)),
  };
}

// Operations in the order of the list; `engine`: the runtime runs under the engine's
// shim or conmon, outside the measured process tree, so the peak RSS measured would be the
// client's (ctr's, podman's), not the runtime's: not shown.
const OPS = [
  { key: 'run', label: 'run of /bin/true', md: '`run` of `/bin/true`' },
  { key: 'lifecycle', label: 'create+start+wait+delete', md: '`create` + `start` + wait + `delete` (one bash script)' },
  { key: 'create', label: 'create', md: '`create` (its process then waits)' },
  { key: 'state', label: 'state', md: '`state` of a created container' },
  { key: 'exec', label: 'exec of /bin/true', md: '`exec --process` of `/bin/true` in a running container (as engines call it)' },
  { key: 'list', label: 'list, 100 containers', md: '`list` with 100 running containers' },
  { key: 'ctr', label: 'ctr run --rm', md: '`ctr run --rm` (private containerd)', engine: true },
  { key: 'podman', label: 'podman run --rm', md: '`podman run --rm --network none` (vfs store)', engine: true },
];
const R = {};
for (const op of OPS) R[op.key] = { tsrun: timed(`${op.key}.tsrun`), runc: timed(`${op.key}.runc`) };
const floor = timed('floor.node');
const par = {};
for (const rt of ['tsrun', 'runc']) {
  const rs = rows(`parallel.${rt}`);
  par[rt] = { rounds: rs.length, failed: rs.reduce((a, r) => a + r[0], 0), ms: stats(rs.map((r) => r[1] / 1000)) };
}
const uss = {};
for (const rt of ['tsrun', 'runc']) {
  const rs = rows(`uss.${rt}`);
  uss[rt] = { uss: stats(rs.map((r) => r[0] / 1024)), rss: stats(rs.map((r) => r[1] / 1024)), pss: stats(rs.map((r) => r[2] / 1024)) };
}

// ---- formatting
const num = (v, digits) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const ms = (v) => (!Number.isFinite(v) ? '—' : v < 10 ? v.toFixed(1) : v.toFixed(0));
const msU = (v) => (!Number.isFinite(v) ? '—' : v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${ms(v)} ms`);
const mib = (v) => `${num(v, 1)} MiB`;
const spread = (s) => (s.n > 1 ? ` (${ms(s.p25)}–${ms(s.p75)})` : '');
const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');
const count = (t) => (t.failed ? `${t.runs} (${t.failed} failed)` : `${t.runs}`);

// ---- the main table
const table = [
  '| operation | n | tsrun, ms | runc, ms | tsrun ÷ runc | peak RSS tsrun | peak RSS runc |',
  '| --- | --: | --: | --: | --: | --: | --: |',
  `| empty script on tsrun's Node (the floor) | ${count(floor)} | ${ms(floor.ms.median)}${spread(floor.ms)} | — | — | ${mib(floor.rss.median)} | — |`,
];
for (const op of OPS) {
  const { tsrun: t, runc: r } = R[op.key];
  const n = t.runs === r.runs && !t.failed && !r.failed ? `${t.runs}` : `${count(t)} / ${count(r)}`;
  table.push(
    `| ${op.md} | ${n} | ${ms(t.ms.median)}${spread(t.ms)} | ${ms(r.ms.median)}${spread(r.ms)} | ${ratio(t.ms.median, r.ms.median)} | ` +
      (op.engine ? '— | — |' : `${mib(t.rss.median)} | ${mib(r.rss.median)} |`),
  );
  if (op.key === 'list') {
    table.push(
      `| 50 lifecycles in parallel: wall time of a round, failures | ${par.tsrun.rounds} rounds | ${ms(par.tsrun.ms.median)}${spread(par.tsrun.ms)}, ${par.tsrun.failed} failed | ` +
        `${ms(par.runc.ms.median)}${spread(par.runc.ms)}, ${par.runc.failed} failed | ${ratio(par.tsrun.ms.median, par.runc.ms.median)} | — | — |`,
    );
  }
}
const memTable = [
  '| a created container\'s process, waiting for `start` | n | tsrun | runc |',
  '| --- | --: | --: | --: |',
  `| USS (\`Private_*\` of \`/proc/<pid>/smaps_rollup\`) | ${uss.tsrun.uss.n} / ${uss.runc.uss.n} | ${mib(uss.tsrun.uss.median)} | ${mib(uss.runc.uss.median)} |`,
  `| PSS | | ${mib(uss.tsrun.pss.median)} | ${mib(uss.runc.pss.median)} |`,
  `| RSS | | ${mib(uss.tsrun.rss.median)} | ${mib(uss.runc.rss.median)} |`,
];

// ---- the targets of issue 13
const F = floor.ms.median;
const med = (k, rt) => R[k][rt].ms.median;
const fl = (v) => `the floor is ${ms(F)} of its ${ms(v)} ms`;
function atMost(value, limit, unit = ' ms') {
  if (!Number.isFinite(value) || !Number.isFinite(limit)) return 'not measured';
  return value <= limit ? 'holds' : `misses by ${ms(value - limit)}${unit}`;
}
function engineTarget(k) {
  const t = med(k, 'tsrun');
  const r = med(k, 'runc');
  const verdict = atMost(t, 1.5 * r);
  return [
    `\`${k === 'ctr' ? 'ctr' : 'podman'} run --rm\` with tsrun ≤ 1.5× with runc`,
    `${msU(t)} vs 1.5 × ${msU(r)} = ${msU(1.5 * r)} (${ratio(t, r)})`,
    verdict,
    `${k === 'ctr' ? 'the shim calls' : 'podman and conmon call'} the runtime several times per container (create, start, delete, ...), each call paying at least the floor (${ms(F)} ms) and tsrun's own start after it`,
  ];
}
const tsUss = uss.tsrun.uss.median;
const rcUss = uss.runc.uss.median;
const parOk = par.tsrun.failed === 0;
const parTime = atMost(par.tsrun.ms.median, 2 * par.runc.ms.median);
const targets = [
  [
    '`tsrun state` ≤ floor + 10 ms',
    `${ms(med('state', 'tsrun'))} − ${ms(F)} = ${ms(med('state', 'tsrun') - F)} ms (≤ 10)`,
    atMost(med('state', 'tsrun') - F, 10),
    fl(med('state', 'tsrun')),
  ],
  [
    '`tsrun run` − floor ≤ runc `run`',
    `${ms(med('run', 'tsrun'))} − ${ms(F)} = ${ms(med('run', 'tsrun') - F)} ms vs ${ms(med('run', 'runc'))} ms`,
    atMost(med('run', 'tsrun') - F, med('run', 'runc')),
    fl(med('run', 'tsrun')),
  ],
  [
    '`tsrun exec` − floor ≤ runc `exec`',
    `${ms(med('exec', 'tsrun'))} − ${ms(F)} = ${ms(med('exec', 'tsrun') - F)} ms vs ${ms(med('exec', 'runc'))} ms`,
    atMost(med('exec', 'tsrun') - F, med('exec', 'runc')),
    fl(med('exec', 'tsrun')),
  ],
  engineTarget('ctr'),
  engineTarget('podman'),
  [
    'a waiting created container\'s USS < runc\'s',
    `${mib(tsUss)} vs ${mib(rcUss)}`,
    tsUss < rcUss ? 'holds' : `misses by ${mib(tsUss - rcUss)}`,
    'what the conductor\'s child keeps of the Node process (its stacks and copied pages)',
  ],
  ['(goal) the same USS < 2 MiB', `${mib(tsUss)}`, tsUss < 2 ? 'holds' : `misses by ${mib(tsUss - 2)}`, ''],
  [
    '50 parallel lifecycles: 0 failures, total ≤ 2× runc\'s',
    `${par.tsrun.failed} failed in ${par.tsrun.rounds} rounds; ${msU(par.tsrun.ms.median)} vs 2 × ${msU(par.runc.ms.median)} (${ratio(par.tsrun.ms.median, par.runc.ms.median)})`,
    parOk && parTime === 'holds' ? 'holds' : [parOk ? '' : `${par.tsrun.failed} failures`, parTime === 'holds' ? '' : `time ${parTime}`].filter(Boolean).join('; '),
    `${meta.cpu.split(' ')[0]} cores: CPU per lifecycle decides it (three to four runtime commands each)`,
  ],
];
const targetTable = ['| target | measured (medians) | verdict | what limits it |', '| --- | --- | --- | --- |', ...targets.map((t) => `| ${t.join(' | ')} |`)];

// Not idle: other processes took 5 % or more of all CPU time during the run, or the machine was
// busy when it started. (The load average after includes the bench's own 50-parallel rounds.)
const loaded = Number(meta.others_cpu) >= 5 || Number(meta.load_before.split(' ')[0]) >= 1;
const chartRel = relative(dirname(resultsFile), chartFile);
const header = [
  `Generated by \`bash bench/run.sh ${N}\` on ${meta.date}: machine kind \`${meta.machine}\`, ${meta.cpu}, kernel ${meta.kernel} (cgroup fs: ${meta.cgroups}).`,
  `tsrun ${meta.tsrun} on Node ${meta.node}; runc ${meta.runc}; containerd ${meta.containerd}; podman ${meta.podman}.`,
  `Other processes took up to ${meta.others_cpu} % of the machine's CPU time during the run; load average (1, 5, 15 min) before: ${meta.load_before}, after (with the bench's own 50-parallel rounds): ${meta.load_after}.` +
    (loaded ? ' **The machine was not idle: wall times are inflated and noisy.**' : ''),
];
const method = `Medians of N = ${N} runs of each command, tsrun and runc alternating run by run after ${meta.warm} warm-up runs each (1 for ctr and podman); the 50-parallel row is ${meta.P} rounds per runtime. In parentheses: the 25th–75th percentiles. Wall time and peak RSS (the largest resident set of the command and the children it waited for) come from \`wait4\` in bench/measure.c. Bundle: \`runc spec\` defaults on the busybox example rootfs.`;

const results = [
  '# tsrun vs runc',
  '',
  ...header.map((l) => `${l}  `),
  '',
  method,
  '',
  `![tsrun vs runc, medians](${chartRel})`,
  '',
  '## Time and peak memory of each command',
  '',
  ...table,
  '',
  '## Memory a waiting container holds',
  '',
  ...memTable,
  '',
  '## The targets of issue 13',
  '',
  ...targetTable,
  '',
  'The floor is what Node alone costs before tsrun runs a line: where the rest of the time goes, and what was decided about it, is in [docs/STARTUP.md](../docs/STARTUP.md).',
  '',
].join('\n');
writeFileSync(resultsFile, results);

// ---- the chart: one row of bars per operation, log scale for time; linear MiB for memory.
const COLORS = { tsrun: '#d9480f', runc: '#1c7ed6', floor: '#868e96' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const W = 860;
const X0 = 230; // bars start here; labels end left of it
const XW = 520; // width of the bar area
const BAR = 13;
const svg = [];
let y = 0;
const text = (x, yy, s, attrs = '') => svg.push(`<text x="${x}" y="${yy}" ${attrs}>${esc(s)}</text>`);

y = 24;
text(12, y, `tsrun vs runc: medians of N = ${N} (50-parallel: ${meta.P} rounds), ${meta.date}`, 'font-size="15" font-weight="bold"');
y += 18;
text(12, y, `machine kind ${meta.machine}, ${meta.cpu}, kernel ${meta.kernel}`, 'font-size="11" fill="#495057"');
y += 14;
text(12, y, `tsrun ${meta.tsrun}, Node ${meta.node.split(' ')[0]}, runc ${meta.runc}, containerd ${meta.containerd}, podman ${meta.podman}; others' CPU ≤ ${meta.others_cpu} %`, 'font-size="11" fill="#495057"');
y += 14;
// legend
for (const [i, [name, label]] of [['tsrun', 'tsrun'], ['runc', 'runc'], ['floor', "empty script on tsrun's Node"]].entries()) {
  const lx = 12 + i * 110;
  svg.push(`<rect x="${lx}" y="${y}" width="12" height="12" fill="${COLORS[name]}"/>`);
  text(lx + 17, y + 10, label, 'font-size="12"');
}
y += 30;

// time panel
const timeRows = [
  { label: "floor: node empty.js", bars: [['floor', floor.ms.median]] },
  ...OPS.map((op) => ({ label: op.label, bars: [['tsrun', med(op.key, 'tsrun')], ['runc', med(op.key, 'runc')]] })),
];
timeRows.splice(7, 0, { label: '50 lifecycles in parallel', bars: [['tsrun', par.tsrun.ms.median], ['runc', par.runc.ms.median]] });
const allMs = timeRows.flatMap((r) => r.bars.map((b) => b[1])).filter((v) => Number.isFinite(v) && v > 0);
const lo = 1;
const hi = 3 * Math.max(10, ...allMs); // room for the longest bar's label
const xLog = (v) => X0 + (XW * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo);
text(12, y, 'wall time, ms (log scale)', 'font-size="13" font-weight="bold"');
y += 10;
const panelTop = y;
const panelHeight = timeRows.reduce((h, r) => h + r.bars.length * (BAR + 2) + 10, 0);
for (let d = lo; d <= hi; d *= 10) { // a line per decade
  const x = xLog(d).toFixed(1);
  svg.push(`<line x1="${x}" y1="${panelTop}" x2="${x}" y2="${panelTop + panelHeight}" stroke="#dee2e6"/>`);
  text(x, panelTop + panelHeight + 14, d >= 1000 ? `${d / 1000} s` : `${d} ms`, 'font-size="11" text-anchor="middle" fill="#495057"');
}
y = panelTop + 6;
for (const row of timeRows) {
  const h = row.bars.length * (BAR + 2);
  text(X0 - 8, y + h / 2 + 3, row.label, 'font-size="12" text-anchor="end"');
  for (const [name, v] of row.bars) {
    const x1 = xLog(v);
    svg.push(`<rect x="${X0}" y="${y}" width="${Number.isFinite(v) ? (x1 - X0).toFixed(1) : 0}" height="${BAR}" fill="${COLORS[name]}"/>`);
    text((Number.isFinite(v) ? x1 : X0) + 4, y + BAR - 2, Number.isFinite(v) ? msU(v) : 'not measured', 'font-size="11"');
    y += BAR + 2;
  }
  y += 10;
}
y = panelTop + panelHeight + 40;

// memory panel
const memRows = [
  { label: 'USS of a waiting container', bars: [['tsrun', tsUss], ['runc', rcUss]] },
  ...['run', 'state', 'exec'].map((k) => ({ label: `peak RSS of ${k}`, bars: [['tsrun', R[k].tsrun.rss.median], ['runc', R[k].runc.rss.median]] })),
];
const maxMib = Math.max(1, ...memRows.flatMap((r) => r.bars.map((b) => b[1])).filter(Number.isFinite));
const step = maxMib > 50 ? 20 : maxMib > 20 ? 10 : maxMib > 5 ? 2 : 1;
const top = Math.ceil((maxMib * 1.15) / step) * step; // room for the longest bar's label
const xLin = (v) => X0 + (XW * v) / top;
text(12, y, 'memory, MiB', 'font-size="13" font-weight="bold"');
y += 10;
const memTop = y;
const memHeight = memRows.reduce((h, r) => h + r.bars.length * (BAR + 2) + 10, 0);
for (let v = 0; v <= top; v += step) {
  const x = xLin(v).toFixed(1);
  svg.push(`<line x1="${x}" y1="${memTop}" x2="${x}" y2="${memTop + memHeight}" stroke="#dee2e6"/>`);
  text(x, memTop + memHeight + 14, `${v}`, 'font-size="11" text-anchor="middle" fill="#495057"');
}
y = memTop + 6;
for (const row of memRows) {
  const h = row.bars.length * (BAR + 2);
  text(X0 - 8, y + h / 2 + 3, row.label, 'font-size="12" text-anchor="end"');
  for (const [name, v] of row.bars) {
    const ok = Number.isFinite(v);
    svg.push(`<rect x="${X0}" y="${y}" width="${ok ? (xLin(v) - X0).toFixed(1) : 0}" height="${BAR}" fill="${COLORS[name]}"/>`);
    text((ok ? xLin(v) : X0) + 4, y + BAR - 2, ok ? mib(v) : 'not measured', 'font-size="11"');
    y += BAR + 2;
  }
  y += 10;
}
y = memTop + memHeight + 34;
if (loaded) {
  text(12, y, 'The machine was not idle during this run: wall times are inflated and noisy.', 'font-size="12" fill="#c92a2a"');
  y += 16;
}
const H = y;
writeFileSync(
  chartFile,
  [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    ...svg,
    '</svg>',
    '',
  ].join('\n'),
);

// ---- README's block: the summary table and the chart
if (readmeFile) {
  const readme = readFileSync(readmeFile, 'utf8');
  const begin = '<!-- bench:begin (written by bench/run.sh) -->';
  const end = '<!-- bench:end -->';
  const a = readme.indexOf(begin);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`report: ${readmeFile} has no ${begin} ... ${end} block: not updated`);
    process.exit(1);
  }
  const rel = (f) => relative(dirname(readmeFile), f);
  const block = [
    begin,
    `Speed and memory beside runc, from \`bash bench/run.sh ${N}\` on ${meta.date} (machine kind \`${meta.machine}\`, tsrun ${meta.tsrun}, Node ${meta.node.split(' ')[0]}, runc ${meta.runc}; medians of ${N} runs; the targets of issue 13 and how far each is: [${rel(resultsFile)}](${rel(resultsFile)})):${loaded ? ' the machine was not idle during that run.' : ''}`,
    '',
    `![tsrun vs runc](${rel(chartFile)})`,
    '',
    ...table,
    '',
    `A created container's process, waiting for \`start\`, holds ${mib(tsUss)} of its own (USS) with tsrun, ${mib(rcUss)} with runc.`,
    end,
  ].join('\n');
  writeFileSync(readmeFile, readme.slice(0, a) + block + readme.slice(b + end.length));
}
