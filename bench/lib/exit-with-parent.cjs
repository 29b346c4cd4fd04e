// Preloaded into the benchmarked service (`node --require`): when the benchmark process dies, even
// by SIGKILL, the service's stdin pipe closes and the service shuts itself down instead of lingering.
'use strict';

const { isMainThread } = require('node:worker_threads');

// Node 20 also runs --require preloads in the module-hooks thread that `--import tsx` starts, where
// stdin is an empty stream that ends at once: only the main thread watches it.
if (isMainThread) {
  const stop = () => process.kill(process.pid, 'SIGTERM');
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
