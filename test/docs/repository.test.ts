/** README's Development layout and the package's dependencies agree with the repository. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>;
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'fixtures' ? [] : sources(p);
    return /\.(ts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Package names in import/require/import() specifiers of the files, or (`anyString`) in any string literal, as a preset or a module table. */
function packagesNamed(files: readonly string[], anyString: boolean): Set<string> {
  const specifier = anyString ? /['"`]((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^'"`]*)?['"`]/g : /(?:from\s+|require\(\s*|import\(\s*|import\s+)['"]((?:@[\w.-]+\/)?[\w.-]+)/g;
  const out = new Set<string>();
  for (const f of files) for (const m of fs.readFileSync(f, 'utf8').matchAll(specifier)) out.add(m[1]!);
  return out;
}

describe('repository', () => {
  test('the Development folder list names every folder and top-level file of src/ and nothing that does not exist', () => {
    const block = /## Development\n\n```\n([\s\S]*?)```/.exec(readme)![1]!;
    const listed = block.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]!);
    const srcEntries = fs.readdirSync(path.join(root, 'src'), { withFileTypes: true }).map((e) => `src/${e.name}${e.isDirectory() ? '/' : ''}`);
    expect(listed.filter((l) => l.startsWith('src/')).sort()).toEqual(srcEntries.sort());
    expect(listed.filter((l) => !fs.existsSync(path.join(root, l)))).toEqual([]);
    for (const top of ['proto/', 'test/', 'bench/', 'deploy/', 'examples/', 'Dockerfile']) expect(listed).toContain(top);
  });

  test('the security section names every kind of file the service writes', () => {
    const claim = /writes nothing except([^.]*)\./.exec(readme.replace(/\n/g, ' '))![1]!;
    expect(claim).toMatch(/OLP_QUEUE_DIR/);
    expect(claim).toMatch(/state files/);
  });

  test('every runtime dependency is imported by src/', () => {
    const used = packagesNamed(sources(path.join(root, 'src')), false);
    expect(Object.keys(pkg.dependencies).filter((d) => !used.has(d))).toEqual([]);
  });

  test('every dev dependency is used by tests, benches, build or lint, or pins a package one of those needs', () => {
    const used = packagesNamed([...sources(path.join(root, 'test')), ...sources(path.join(root, 'bench')), path.join(root, 'eslint.config.js'), path.join(root, 'jest.config.js')], true);
    const scripts = Object.values(pkg.scripts).join(' ');
    const bins: Record<string, string> = { typescript: 'tsc', jest: 'jest', eslint: 'eslint' };
    const required = new Set(
      Object.entries(lock.packages)
        .filter(([k]) => k !== '')
        .flatMap(([, p]) => [...Object.keys(p.dependencies ?? {}), ...Object.keys(p.peerDependencies ?? {})]),
    );
    const unused = Object.keys(pkg.devDependencies).filter(
      (d) => !d.startsWith('@types/') && !used.has(d) && !(bins[d] && new RegExp(`\\b${bins[d]}\\b`).test(scripts)) && !required.has(d),
    );
    expect(unused).toEqual([]);
  });
});
