#!/usr/bin/env node
// Reads the results.tsv files bench/edge.sh collected (the shared harness's format) and prints, per
// test, the median rate and server CPU per operation of every server beside nginx's, as ratios:
// rate ratio = ours / nginx (higher is better), CPU ratio = nginx / ours (higher is better; 1 = the
// same CPU per operation). Each test is compared with the nginx row doing the same job: handshakes
// with `nginx` (handshake only), requests with `nginx-proxy` (proxy_pass to the same origin).
//
//   node bench/edge-summary.mjs WORK/baseline/results.tsv [more results.tsv ...]
import fs from 'node:fs';

const rows = [];
for (const file of process.argv.slice(2)) {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const names = header.split('\t');
  for (const line of lines) rows.push(Object.fromEntries(line.split('\t').map((v, i) => [names[i], v])));
}
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const groups = new Map();
for (const r of rows) {
  const key = `${r.test}|${r.tls}|${r.client}`;
  if (!groups.has(key)) groups.set(key, new Map());
  const servers = groups.get(key);
  if (!servers.has(r.server)) servers.set(r.server, []);
  servers.get(r.server).push(r);
}
const referenceFor = (test) => (test === 'hs' ? 'nginx' : 'nginx-proxy');
const fmtCpu = (ms) => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(3)} ms`);
const out = [['test', 'client', 'server', 'runs', 'ops/s (min..max)', 'server CPU/op (min..max)', 'rate ÷ nginx', 'nginx CPU ÷ CPU']];
for (const [key, servers] of groups) {
  const [test, tls, client] = key.split('|');
  const ref = servers.get(referenceFor(test));
  const refRate = ref && median(ref.map((r) => Number(r.ops_per_s)));
  const refCpu = ref && median(ref.map((r) => Number(r.srv_cpu_ms_per_op)));
  for (const [server, rs] of servers) {
    // nginx-direct answers itself: not the same job. node-floor (Node's bare https server) also
    // answers itself, but stays as the bound of Node's TLS: it is labelled so.
    if (test !== 'hs' && server === 'nginx-direct') continue;
    const label = test !== 'hs' && server === 'node-floor' ? 'node-floor (answers itself)' : server;
    const rates = rs.map((r) => Number(r.ops_per_s));
    const cpus = rs.map((r) => Number(r.srv_cpu_ms_per_op));
    const rate = median(rates), cpu = median(cpus);
    out.push([
      `${test} TLS ${tls}`, client, label, String(rs.length),
      `${Math.round(rate)} (${Math.round(Math.min(...rates))}..${Math.round(Math.max(...rates))})`,
      `${fmtCpu(cpu)} (${fmtCpu(Math.min(...cpus))}..${fmtCpu(Math.max(...cpus))})`,
      refRate ? `${(rate / refRate).toFixed(2)}x` : '-',
      refCpu ? `${(refCpu / cpu).toFixed(2)}x` : '-',
    ]);
  }
}
const widths = out[0].map((_, i) => Math.max(...out.map((r) => r[i].length)));
for (const r of out) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
