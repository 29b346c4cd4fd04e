// Preloaded into the benchmarked service (`node --require`): when the benchmark process dies, even
// by SIGKILL, the service's stdin pipe closes and the service shuts itself down instead of lingering.
'use strict';

process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
