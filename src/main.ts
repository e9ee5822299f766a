#!/usr/bin/env node
/** Command-line entry point: `otlp-log-processor [run|send|top|tap|…] …`. */
import { MAIN_HELP, runHelp } from './cli/help';
import { runCommand } from './cli/run';
import { sendCommand } from './cli/send';
import { printConfigCommand, validateCommand } from './cli/config-commands';
import { explainCommand } from './cli/explain';
import { templatesCommand } from './cli/templates';
import { topCommand } from './cli/top';
import { tapCommand } from './cli/tap';
import { builtinProcessors } from './processors/registry';
import { packageVersion } from './telemetry/admin';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (command === undefined || command === 'run') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(runHelp(builtinProcessors));
      return 0;
    }
    if (rest.length > 0) {
      process.stderr.write(`otlp-log-processor run: unexpected argument "${rest[0]}" (configure with env vars; see run --help)\n`);
      return 2;
    }
    return runCommand(process.env);
  }
  if (command === 'send') return sendCommand(rest, process.env);
  if (command === 'validate') return validateCommand(rest, process.env);
  if (command === 'print-config') return printConfigCommand(rest, process.env);
  if (command === 'explain') return explainCommand(rest, process.env);
  if (command === 'templates') return templatesCommand(rest);
  if (command === 'top') return topCommand(rest, process.env);
  if (command === 'tap') return tapCommand(rest, process.env);
  process.stderr.write(`otlp-log-processor: unknown command "${command}"\n\n${MAIN_HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Exit explicitly: open handles (gRPC channels) must not keep a finished command alive.
    setImmediate(() => process.exit(code));
  },
  (err: Error) => {
    process.stderr.write(`otlp-log-processor: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
