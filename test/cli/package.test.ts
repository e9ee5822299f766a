/**
 * The package as users get it: a clean build gives an executable bin, `prepare` does not rebuild
 * a built checkout, and the `npm pack` tarball installs next to user code with its types.
 * Works on a copy of the sources so that the checkout's dist/ (used by other tests) is untouched.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const NODE_MODULES = fs.realpathSync(path.join(ROOT, 'node_modules'));
const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, env: NPM_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('package', () => {
  let copy: string;

  beforeAll(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-package-'));
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
    for (const d of ['src', 'bench', 'proto']) fs.cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true });
    fs.symlinkSync(NODE_MODULES, path.join(copy, 'node_modules'));
    npm(['run', 'build'], copy);
  }, 120_000);

  test('a clean build leaves the bin executable, so npx can run it directly', () => {
    expect(fs.statSync(path.join(copy, 'dist/src/main.js')).mode & 0o111).toBe(0o111);
    expect(execFileSync(path.join(copy, 'dist/src/main.js'), ['--version'], { encoding: 'utf8' }).trim()).toBe(require('../../package.json').version);
  });

  test('prepare does not rebuild a checkout that is already built', () => {
    expect(npm(['run', 'prepare'], copy)).not.toContain('tsc -p');
  });

  test('the npm pack tarball is public, installs next to user code, and gives the API with its types', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(copy, 'package.json'), 'utf8')) as { private?: boolean };
    expect(pkg.private).toBeUndefined();
    const packs = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-pack-'));
    const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', packs], copy)) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/main.js', 'proto/opentelemetry/proto/collector/logs/v1/logs_service.proto']));
    // The status page's files, copied by the build (no build step of their own).
    expect(files).toEqual(expect.arrayContaining(['dist/src/telemetry/static/index.html', 'dist/src/telemetry/static/status.js', 'dist/src/telemetry/static/status.css']));
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/'))).toEqual([]);

    // User code in its own folder, the package unpacked into its node_modules as npm would.
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-app-'));
    const installed = path.join(app, 'node_modules', 'otlp-log-processor');
    fs.mkdirSync(installed, { recursive: true });
    // Its dependencies: this checkout's, linked in, rather than a registry install.
    for (const dep of fs.readdirSync(NODE_MODULES)) {
      if (!dep.startsWith('.') && dep !== 'otlp-log-processor') fs.symlinkSync(path.join(NODE_MODULES, dep), path.join(app, 'node_modules', dep));
    }
    execFileSync('tar', ['-xzf', path.join(packs, packed!.filename), '-C', installed, '--strip-components=1']);
    fs.writeFileSync(
      path.join(app, 'marker.ts'),
      `import { defineProcessor, opt, type LogBatch } from 'otlp-log-processor';
export const processor = defineProcessor({ name: 'marker', summary: 'Marks records.', options: { mark: opt.string('m', 'Mark.') }, create(o) { return { process: (b: LogBatch): void => { for (const r of b) r.attributes.set('mark', o.mark); } }; } });
`,
    );
    const tsc = path.join(NODE_MODULES, 'typescript/bin/tsc');
    // Types resolve through the package's `exports`, as in a user's project.
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', 'marker.ts'], { cwd: app, encoding: 'utf8' });
    const out = execFileSync(path.join(app, 'node_modules/otlp-log-processor/dist/src/main.js'), ['validate'], {
      cwd: app,
      env: { PATH: process.env.PATH, OLP_PROCESSORS: './marker.ts' },
      encoding: 'utf8',
    });
    expect(out).toContain('processors marker');
  }, 60_000);
});
