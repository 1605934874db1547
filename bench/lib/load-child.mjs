// A load generator in its own process (so the measuring process's CPU is the server's alone):
// receives {url, headers, bodies, concurrency, warmup, seconds}, reports after the warm-up and
// again with the measured result.
import { closedLoop } from "./load.mjs";

process.once("message", async ({ url, headers, bodies, concurrency, warmup, seconds }) => {
  await closedLoop({ url, bodies, headers, concurrency, seconds: warmup });
  process.send({ warmedUp: true });
  const result = await closedLoop({ url, bodies, headers, concurrency, seconds });
  process.send(result);
  process.exit(0);
});
