/** README documents every setting with its current default, since both come from the option declarations. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { updateReadmeTables } from '../../src/cli/help';
import { builtinProcessors } from '../../src/processors/registry';

const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  test('starts with the two set-up commands', () => {
    const firstBlock = /```\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(firstBlock).toMatch(/^npm install\b/m);
    expect(firstBlock).toMatch(/^npm start\b/m);
  });

  test('has every option table exactly as generated from the declarations (npm run docs regenerates them)', () => {
    expect(updateReadmeTables(readme, builtinProcessors)).toBe(readme);
  });

  test.each(builtinProcessors.map((p) => [p.name] as const))('documents the %s processor', (name) => {
    expect(readme).toContain(`#### ${name}`);
  });
});
