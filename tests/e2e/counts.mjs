// Prints "PASSED FAILED" for a test tier: node:test lines ("# pass N", "# fail N")
// from a log file, plus the stats of a Playwright JSON report.
// Usage: node tests/e2e/counts.mjs LOG REPORT.json
import { readFileSync, existsSync } from 'node:fs';

const [log, report] = process.argv.slice(2);
let passed = 0;
let failed = 0;
if (log && existsSync(log)) {
  const text = readFileSync(log, 'utf8');
  for (const m of text.matchAll(/^# pass (\d+)$/gm)) passed += Number(m[1]);
  for (const m of text.matchAll(/^# fail (\d+)$/gm)) failed += Number(m[1]);
}
if (report && existsSync(report)) {
  try {
    const stats = JSON.parse(readFileSync(report, 'utf8')).stats ?? {};
    passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
    failed += stats.unexpected ?? 0;
  } catch {
    failed += 1;
  }
}
console.log(`${passed} ${failed}`);
