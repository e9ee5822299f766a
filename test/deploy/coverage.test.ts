/**
 * Every file under deploy/ is checked by some test: the kustomize renderings read (and so
 * check) the files of deploy/kubernetes; collector.test.ts checks every file of deploy/collector
 * and operator.test.ts every file of deploy/kubernetes/operator. A file that none of these
 * reaches (a stray manifest not listed in any kustomization, a new directory) fails here.
 */
import * as path from 'node:path';
import { DEPLOY, ROOT, kustomizationDirs, walk } from './helpers';
import { renderKustomization } from './kustomize';

test('every file under deploy/ is read by a test', () => {
  const covered = new Set<string>();
  for (const dir of kustomizationDirs()) for (const f of renderKustomization(dir).files) covered.add(f);
  const byDirectoryTests = [path.join(DEPLOY, 'collector'), path.join(DEPLOY, 'kubernetes', 'operator')];
  const unchecked = walk(DEPLOY)
    .filter((f) => !covered.has(f) && !byDirectoryTests.some((d) => path.dirname(f) === d))
    .map((f) => path.relative(ROOT, f));
  expect(unchecked).toEqual([]);
});

test('deploy/ has no README (the docs live in the project README)', () => {
  expect(walk(DEPLOY).filter((f) => /readme/i.test(path.basename(f)))).toEqual([]);
});
