/** README documents every setting with its current default, since both come from the option declarations. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { markdownTable, optionRows, serviceRows } from '../../src/cli/help';
import { builtinProcessors } from '../../src/processors/registry';

const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  test('starts with the two set-up commands', () => {
    const firstBlock = /```\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(firstBlock).toMatch(/^npm install\b/m);
    expect(firstBlock).toMatch(/^npm start\b/m);
  });

  test('has the service settings table as generated from the declarations', () => {
    expect(readme).toContain(markdownTable(serviceRows()));
  });

  test.each(builtinProcessors.map((p) => [p.name, p] as const))('documents the %s processor with its option table', (name, p) => {
    expect(readme).toContain(`#### ${name}`);
    expect(readme).toContain(markdownTable(optionRows(p.name, p.options)));
  });
});
