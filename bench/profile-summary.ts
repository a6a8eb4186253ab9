/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and prints where the time went: self time by function and by
 * source file, largest first. Usage: `node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]`.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

// Piped into `head`: stop quietly when the reader is gone.
process.stdout.on('error', () => process.exit(0));

const [file, topText] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary FILE.cpuprofile [TOP]');
  process.exit(2);
}
const top = Number(topText ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/').replace(/^.*\/packages\//, 'packages/');
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '(native)';
  const key = `${functionName || '(anonymous)'}  ${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const fileKey = url ? shortUrl(url) : functionName;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
};
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s profiled`);
print('self time by function', byFunction);
print('self time by file', byFile);
