// Marks every `bin` target of package.json executable (mode 755) after tsc has written it.
// npm links a package's own bins before its `prepare` script builds them, so on a clean clone the
// linked file would keep tsc's 644 and `npx tfjs-lens` would fail with "Permission denied".
import { readFileSync, chmodSync, statSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin ?? {};
for (const [name, target] of Object.entries(bins)) {
  const file = resolve(root, target);
  try {
    statSync(file);
  } catch {
    console.error(`bin-executable: ${name} -> ${target} was not built`);
    process.exit(1);
  }
  chmodSync(file, 0o755);
}
