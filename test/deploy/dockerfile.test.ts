/**
 * Dockerfile checklist. hadolint is not packaged for Debian and no Docker engine runs here, so
 * this test parses the Dockerfile and asserts the rules that matter for this image; hadolint
 * rule ids are given where one exists. When a `hadolint` binary is on PATH it is run as well.
 *
 *  - multi-stage build; every base image pinned to a Node LTS major (22 or 24), never `latest`
 *  - `npm ci` (never `npm install`): build stage `npm ci` then `npm run build`; final stage
 *    `npm ci --omit=dev --ignore-scripts` with NODE_ENV=production
 *  - the final stage copies dist/src and proto/ (loaded at run time) and package.json, laid out
 *    as the service expects; the app files are root-owned and world-readable
 *  - runs as a numeric non-root UID; read-only root filesystem (only /tmp declared writable)
 *  - HEALTHCHECK with node (no curl/wget) on http://127.0.0.1:8888/healthz
 *  - EXPOSE 4317 8888; ENTRYPOINT ["node", "dist/src/main.js"], CMD ["run"] in exec form
 *  - no ADD (of URLs or otherwise), no sudo, no cd in RUN, pipefail, WORKDIR absolute, …
 *  - .dockerignore keeps node_modules, dist, .git, coverage, test, bench, deploy out and
 *    everything the Dockerfile copies in
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { dockerIgnored, execForm, parseDockerfile, readDockerfile, splitImage, type Instruction, type Stage } from './dockerfile';
import { ROOT, walk } from './helpers';

const DOCKERFILE = path.join(ROOT, 'Dockerfile');
const df = readDockerfile(DOCKERFILE);
const stages = df.stages;
const final = stages[stages.length - 1]!;
const build = stages[0]!;
const all = stages.flatMap((s) => s.instructions);
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[]; scripts: Record<string, string> };

const of = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage): string[] => of(stage, 'RUN').map((i) => i.rest);
/** Shell commands of a RUN, split on && ; || and |. */
const commands = (run: string): string[] => run.split(/&&|\|\||;|\|/).map((s) => s.trim()).filter(Boolean);
const workdir = (stage: Stage): string => of(stage, 'WORKDIR').at(-1)?.rest ?? '/';
const inside = (stage: Stage, p: string): string => path.posix.resolve(workdir(stage), p);

describe('Dockerfile: base images', () => {
  test('is a multi-stage build: a named build stage and a final stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe('build');
  });

  test.each(stages.map((s) => [s.index, s] as const))('stage %i: base image pinned to a Node LTS major, not latest (DL3006, DL3007)', (_i, s) => {
    if (stages.some((o) => o.index < s.index && o.name === s.image)) return; // FROM an earlier stage
    const { name, tag, digest } = splitImage(s.image);
    expect(name).toMatch(/^(docker\.io\/)?(library\/)?node$/);
    expect(tag ?? digest).toBeDefined();
    expect(tag).not.toBe('latest');
    expect(tag).toMatch(/^(22|24)(\.\d+){0,2}(-[a-z0-9.-]+)?$/);
    expect(s.image).not.toMatch(/\$/); // no ARG-substituted image names: the pin is visible here
  });

  test('the Node major satisfies package.json engines (a floating NN-… tag resolves to the newest NN.x)', () => {
    const engines = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const min = Number(/>=\s*(\d+)/.exec(engines)![1]);
    for (const s of stages) expect(Number(splitImage(s.image).tag!.split(/[.-]/)[0])).toBeGreaterThanOrEqual(min);
  });

  test('build and final stages use the same Node major (what is compiled is what runs)', () => {
    const majors = new Set(stages.map((s) => splitImage(s.image).tag?.split(/[.-]/)[0]));
    expect(majors.size).toBe(1);
  });
});

describe('Dockerfile: dependencies and build', () => {
  test('npm ci, never npm install (DL3016 spirit: reproducible from package-lock.json)', () => {
    for (const r of all.filter((i) => i.keyword === 'RUN')) {
      for (const c of commands(r.rest)) expect(c).not.toMatch(/^npm\s+(install|i|add)\b/);
    }
    expect(runs(build).some((r) => /\bnpm ci\b/.test(r))).toBe(true);
  });

  test('build stage: npm ci, then npm run build', () => {
    const cmds = runs(build).flatMap(commands);
    const ci = cmds.findIndex((c) => /^npm ci\b/.test(c));
    const b = cmds.findIndex((c) => /^npm run build\b/.test(c));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThan(ci);
    expect(pkg.scripts.build).toBeDefined();
  });

  test('build stage copies what the build reads (package files, tsconfigs, src, proto)', () => {
    const copied = of(build, 'COPY')
      .filter((c) => !c.flags.from)
      .flatMap((c) => c.rest.split(/\s+/).slice(0, -1));
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'proto']) expect(copied).toContain(f);
    // tsconfig.build.json extends tsconfig.json, which must be there too.
    expect(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')).toMatch(/"extends":\s*"\.\/tsconfig\.json"/);
  });

  test('final stage: NODE_ENV=production, then npm ci --omit=dev --ignore-scripts (the prepare script would run tsc)', () => {
    const env = of(final, 'ENV').find((e) => /\bNODE_ENV[= ]production\b/.test(e.rest));
    expect(env).toBeDefined();
    const ci = of(final, 'RUN').find((r) => /\bnpm ci\b/.test(r.rest));
    expect(ci).toBeDefined();
    expect(ci!.rest).toMatch(/--omit=dev\b/);
    expect(ci!.rest).toMatch(/--ignore-scripts\b/);
    expect(env!.line).toBeLessThan(ci!.line);
    expect(pkg.scripts.prepare).toBeDefined(); // why --ignore-scripts matters
  });

  test('final stage does not build (no dev dependencies, no tsc)', () => {
    for (const r of runs(final)) expect(r).not.toMatch(/npm run build|\btsc\b/);
  });
});

describe('Dockerfile: what the image contains', () => {
  const copies = of(final, 'COPY');
  const dest = (c: Instruction): string => inside(final, c.rest.split(/\s+/).at(-1)!);

  test('copies dist/src and proto/ from the build stage, laid out below WORKDIR as in the package', () => {
    const wd = workdir(final);
    expect(wd).toMatch(/^\//);
    const fromBuild = copies.filter((c) => c.flags.from === build.name);
    const bySource = new Map(fromBuild.map((c) => [path.posix.normalize(c.rest.split(/\s+/)[0]!), dest(c)]));
    expect(bySource.get(path.posix.join(workdir(build), 'dist/src'))).toBe(path.posix.join(wd, 'dist/src'));
    expect(bySource.get(path.posix.join(workdir(build), 'proto'))).toBe(path.posix.join(wd, 'proto'));
    // The package's own idea of what ships agrees.
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/src', 'proto']));
  });

  test('package.json sits at WORKDIR (npm ci reads it; --version reads it from dist/src/../../package.json)', () => {
    const c = copies.find((x) => !x.flags.from && x.rest.split(/\s+/).includes('package.json'));
    expect(c).toBeDefined();
    expect(dest(c!)).toBe(workdir(final));
  });

  test('ENTRYPOINT ["node", "dist/src/main.js"] and CMD ["run"], exec form (DL3025), once each (DL4003, DL4004)', () => {
    expect(of(final, 'ENTRYPOINT')).toHaveLength(1);
    expect(of(final, 'CMD')).toHaveLength(1);
    expect(execForm(of(final, 'ENTRYPOINT')[0]!.rest)).toEqual(['node', 'dist/src/main.js']);
    expect(execForm(of(final, 'CMD')[0]!.rest)).toEqual(['run']);
    // The entry point is the package's bin, built from src/main.ts.
    expect(Object.values(pkg.bin)).toContain('dist/src/main.js');
    expect(fs.existsSync(path.join(ROOT, 'src/main.ts'))).toBe(true);
  });

  test('EXPOSE 4317 (OTLP/gRPC) and 8888 (metrics, health)', () => {
    const ports = of(final, 'EXPOSE').flatMap((e) => e.rest.split(/\s+/)).map((p) => p.replace(/\/tcp$/, ''));
    expect(ports).toEqual(expect.arrayContaining(['4317', '8888']));
  });

  test('app files are root-owned and readable: no --chown to the runtime user, build stage normalises modes', () => {
    for (const c of copies) expect(c.flags.chown).toBeUndefined();
    const fromBuild = copies.filter((c) => c.flags.from === build.name).map((c) => path.posix.relative(workdir(build), c.rest.split(/\s+/)[0]!));
    const chmod = runs(build)
      .flatMap(commands)
      .find((c) => /^chmod\s+-R\s+\S*a\+r/.test(c));
    expect(chmod).toBeDefined();
    for (const src of fromBuild) expect(chmod!.split(/\s+/)).toContain(src);
  });

  test('context files copied into the final stage are only the package manifests', () => {
    const fromContext = copies.filter((c) => !c.flags.from).flatMap((c) => c.rest.split(/\s+/).slice(0, -1));
    expect(fromContext.sort()).toEqual(['package-lock.json', 'package.json']);
  });
});

describe('Dockerfile: runtime hardening', () => {
  test('runs as a numeric, non-root UID:GID (DL3002), set before ENTRYPOINT', () => {
    const users = of(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1)!;
    const m = /^(\d+)(?::(\d+))?$/.exec(last.rest);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    if (m![2] !== undefined) expect(Number(m![2])).toBeGreaterThan(0);
    expect(last.line).toBeLessThan(of(final, 'ENTRYPOINT')[0]!.line);
    // Nothing runs as the runtime user at build time (it could only write into the image).
    expect(of(final, 'RUN').every((r) => r.line < last.line)).toBe(true);
  });

  test('read-only root filesystem: only /tmp is declared as a writable volume', () => {
    const volumes = of(final, 'VOLUME').flatMap((v) => execForm(v.rest) ?? v.rest.split(/\s+/));
    expect(volumes).toEqual(['/tmp']);
    // The service writes no files (logs go to stderr, metrics are served), except to paths the
    // operator names: the state store (a stateful processor's state path) and the persistent
    // queue (OLP_QUEUE_DIR), which must be on a writable volume — and the `templates` command's
    // --output file, which is not part of the service. A new file writer shows up here.
    const allowed = (f: string): boolean => f === 'src/pipeline/state-store.ts' || f.startsWith('src/queue/') || f === 'src/cli/templates.ts';
    const writers = walk(path.join(ROOT, 'src'))
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /\b(writeFileSync|writeFile|writeSync|appendFileSync|appendFile|createWriteStream|mkdirSync|mkdtempSync|renameSync)\s*\(/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(ROOT, f))
      .filter((f) => !allowed(f));
    expect(writers).toEqual([]);
  });

  test('HEALTHCHECK: one, exec form, node (no curl/wget), GET http://127.0.0.1:8888/healthz', () => {
    const hc = of(final, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    expect(all.filter((i) => i.keyword === 'HEALTHCHECK')).toHaveLength(1);
    const m = /^CMD\s+(.*)$/s.exec(hc[0]!.rest);
    expect(m).not.toBeNull();
    const argv = execForm(m![1]!);
    expect(argv).toBeDefined();
    expect(argv![0]).toBe('node');
    expect(argv![1]).toBe('-e');
    const script = argv![2]!;
    expect(script).toContain('http://127.0.0.1:8888/healthz');
    expect(() => new vm.Script(script)).not.toThrow(); // valid JavaScript
    for (const flag of ['interval', 'timeout', 'retries']) expect(hc[0]!.flags[flag]).toBeDefined();
    for (const i of all) expect(i.args).not.toMatch(/\b(curl|wget)\b/);
  });
});

describe('Dockerfile: general lint rules', () => {
  test('no ADD: COPY for local files, and never ADD of a URL (DL3020)', () => {
    expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]);
    for (const i of all) if (i.keyword === 'COPY') expect(i.rest).not.toMatch(/https?:\/\//);
  });

  test('COPY --from names an earlier stage (DL3022, DL3023)', () => {
    for (const s of stages) {
      for (const c of of(s, 'COPY').filter((x) => x.flags.from)) {
        const earlier = stages.filter((o) => o.index < s.index).map((o) => o.name);
        expect(earlier).toContain(c.flags.from);
      }
    }
  });

  test('WORKDIR is absolute (DL3000); no cd in RUN (DL3003); no sudo (DL3004); no MAINTAINER (DL4000)', () => {
    for (const s of stages) for (const w of of(s, 'WORKDIR')) expect(w.rest).toMatch(/^\//);
    for (const r of all.filter((i) => i.keyword === 'RUN')) {
      for (const c of commands(r.rest)) {
        expect(c).not.toMatch(/^cd\s/);
        expect(c).not.toMatch(/^sudo\b/);
      }
    }
    expect(all.filter((i) => i.keyword === 'MAINTAINER')).toEqual([]);
  });

  test('apt-get, if used, installs without recommends and cleans its lists (DL3009, DL3015)', () => {
    for (const r of all.filter((i) => i.keyword === 'RUN' && /apt-get install/.test(i.rest))) {
      expect(r.rest).toMatch(/--no-install-recommends/);
      expect(r.rest).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    }
  });

  test('RUN with a pipe sets pipefail (DL4006)', () => {
    const shellPipefail = all.some((i) => i.keyword === 'SHELL' && /pipefail/.test(i.rest));
    for (const r of all.filter((i) => i.keyword === 'RUN' && /[^|]\|[^|]/.test(i.rest))) {
      expect(shellPipefail || /set -o pipefail/.test(r.rest)).toBe(true);
    }
  });

  test('no secrets in ENV/ARG, no latest tag anywhere', () => {
    for (const i of [...df.preamble, ...all].filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
      expect(i.rest).not.toMatch(/(PASSWORD|SECRET|TOKEN|API_KEY)/i);
    }
    expect(fs.readFileSync(DOCKERFILE, 'utf8')).not.toMatch(/:latest\b/);
  });

  const hadolint = spawnSync('hadolint', ['--version'], { encoding: 'utf8' });
  (hadolint.status === 0 ? test : test.skip)('hadolint passes (when installed)', () => {
    const r = spawnSync('hadolint', [DOCKERFILE], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('.dockerignore', () => {
  const patterns = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split(/\r?\n/);

  test.each(['node_modules', 'dist', '.git', 'coverage', 'test', 'bench', 'deploy', '.ci', 'npm-debug.log', 'node_modules/x/index.js', 'dist/src/main.js', 'test/deploy/x.test.ts'])(
    'keeps %s out of the build context',
    (p) => expect(dockerIgnored(patterns, p)).toBe(true),
  );

  test('keeps in every context file the Dockerfile copies', () => {
    const sources = all
      .filter((i) => i.keyword === 'COPY' && !i.flags.from)
      .flatMap((c) => c.rest.split(/\s+/).slice(0, -1));
    const files = sources.flatMap((s) => {
      const abs = path.join(ROOT, s);
      return fs.statSync(abs).isDirectory() ? walk(abs).map((f) => path.relative(ROOT, f)) : [s];
    });
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((f) => dockerIgnored(patterns, f))).toEqual([]);
  });

  test('the matcher follows Docker’s rules (last match wins, ! re-includes, ** crosses directories)', () => {
    expect(dockerIgnored(['*.md', '!README.md'], 'README.md')).toBe(false);
    expect(dockerIgnored(['*.md', '!README.md'], 'CHANGES.md')).toBe(true);
    expect(dockerIgnored(['*.md'], 'docs/a.md')).toBe(false);
    expect(dockerIgnored(['**/*.md'], 'docs/a.md')).toBe(true);
    expect(dockerIgnored(['dist'], 'dist/src/a.js')).toBe(true);
    expect(dockerIgnored(['/dist/'], 'dist')).toBe(true);
  });
});

describe('Dockerfile parser', () => {
  test('joins continuation lines, skips comments inside them, reads directives and flags', () => {
    const d = parseDockerfile(
      '# syntax=docker/dockerfile:1\nARG X=1\nFROM node:22-slim AS b\nRUN a \\\n  # note\n  && b\nCOPY --from=b --chmod=644 /x /y\nFROM node:22-slim\nCMD ["run"]\n',
    );
    expect(d.directives.syntax).toBe('docker/dockerfile:1');
    expect(d.preamble.map((i) => i.keyword)).toEqual(['ARG']);
    expect(d.stages.map((s) => [s.image, s.name])).toEqual([
      ['node:22-slim', 'b'],
      ['node:22-slim', undefined],
    ]);
    expect(d.stages[0]!.instructions[0]!.rest).toBe('a && b');
    expect(d.stages[0]!.instructions[1]!.flags).toEqual({ from: 'b', chmod: '644' });
    expect(execForm(d.stages[1]!.instructions[0]!.rest)).toEqual(['run']);
  });
});
