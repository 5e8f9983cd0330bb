// Checks that a split of the README lost nothing: every sentence, table row, list item and code line of
// the README at a git revision must appear (whitespace and link targets ignored) in README.md or docs/**/*.md.
// Usage: node scripts/docs-moved-check.mjs <revision>   (e.g. the commit before the split)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const revision = process.argv[2];
if (!revision) {
  console.error('usage: node scripts/docs-moved-check.mjs <revision>');
  process.exit(2);
}
const old = execFileSync('git', ['show', `${revision}:README.md`], { encoding: 'utf8' });

const normalize = (s) =>
  s
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links: only their text counts (targets move with the page)
    .replace(/^\s*(?:[-*]|\d+\.)\s+/, '') // list markers
    .replace(/\s+/g, ' ')
    .trim();

/** Paragraphs of prose are split into sentences; table rows, headings and code lines stay whole. */
function units(text) {
  const out = [];
  let paragraph = [];
  let inCode = false;
  const flush = () => {
    const joined = paragraph.join(' ');
    paragraph = [];
    for (const s of joined.split(/(?<=[.!?:;])\s+(?=[A-Z`*(-])/)) if (normalize(s)) out.push(normalize(s));
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) {
      flush();
      inCode = !inCode;
      continue;
    }
    if (inCode || line.startsWith('|') || line.startsWith('#') || line.startsWith('![')) {
      flush();
      if (normalize(line) && !/^\|[-| ]+\|$/.test(line.trim())) out.push(normalize(line.replace(/^#+\s*/, '')));
      continue;
    }
    if (line.trim() === '' || /^\s*(?:[-*]|\d+\.)\s/.test(line)) flush();
    if (line.trim() !== '') paragraph.push(line);
  }
  flush();
  return out;
}

function markdownFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : [],
  );
}
const corpus = ['README.md', ...markdownFiles('docs')].map((f) => readFileSync(f, 'utf8').split('\n').map(normalize).join(' ')).join('\n');
const haystack = corpus.replace(/\s+/g, ' ');

const all = units(old);
const missing = all.filter((u) => !haystack.includes(u));
console.log(`${all.length} units in README.md at ${revision}; ${all.length - missing.length} found; ${missing.length} missing`);
for (const m of missing) console.log(`MISSING: ${m}`);
process.exit(missing.length ? 1 : 0);
