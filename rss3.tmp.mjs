import { readFileSync } from 'node:fs';
await import('@tensorflow/tfjs-node');
const lines = readFileSync('/proc/self/smaps', 'utf8').split('\n');
const by = new Map(); let cur = '';
for (const l of lines) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) { const p = l.split(/\s+/); cur = p[5] || '[anon]'; }
  else if (l.startsWith('Rss:')) by.set(cur, (by.get(cur) || 0) + Number(l.split(/\s+/)[1]));
}
console.log([...by].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${(v / 1024).toFixed(0)} MiB ${k}`).join('\n'));
