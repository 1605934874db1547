// A closed-loop HTTP load generator: `concurrency` keep-alive connections, each sending the next
// body as soon as the previous answer arrived, for a bounded time and count. Records every
// latency, and counts answers that are not the expected status as errors.
import http from "node:http";

export async function closedLoop({ url, bodies, headers = {}, concurrency, seconds, maxRequests = 1_000_000, expectStatus = 200, check }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let errors = 0;
  let sent = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = (body) =>
    new Promise((resolve) => {
      const start = performance.now();
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname + target.search, method: "POST", agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const ok = res.statusCode === expectStatus && (!check || check(Buffer.concat(chunks)));
            if (ok) latencies.push(performance.now() - start);
            else errors++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      sent++;
      await one(bodies[next++ % bodies.length]);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN);
  return { ok: latencies.length, errors, seconds: elapsed, rate: latencies.length / elapsed, p50: pct(50), p99: pct(99) };
}

/** cpuSeconds reads utime+stime of a process (and, with children, its reaped and live children). */
import { readFileSync, readdirSync } from "node:fs";
const HZ = 100;
export function cpuSeconds(pid) {
  const pids = [pid, ...childPids(pid)];
  let total = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
      total += (Number(f[11]) + Number(f[12])) / HZ;
    } catch {}
  }
  return total;
}
function childPids(pid) {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ");
      if (Number(f[1]) === pid) out.push(Number(entry), ...childPids(Number(entry)));
    } catch {}
  }
  return out;
}
