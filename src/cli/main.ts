import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { renderActionReference } from '../actions/reference.js';
import { actions } from '../actions/registry.js';
import { ScriptSchema } from '../script/schema.js';
import { type Output, processOutput } from './io.js';
import { runCommand } from './run-command.js';
import {
  contactEndCommand,
  contactSignalCommand,
  deployCommand,
  keysRotateCommand,
  migrateCommand,
  seedCommand,
  serveCommand,
  tokenCreateCommand,
  tokenRevokeCommand,
} from './server-commands.js';
import { validateCommand } from './validate-command.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** Files generated from the code, so that they cannot drift from it. */
export function generatedFiles(): Array<[string, string]> {
  return [
    ['docs/actions.md', renderActionReference(actions)],
    ['schemas/script.schema.json', `${JSON.stringify(ScriptSchema, null, 2)}\n`],
  ];
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The `switchboard` command. Returns the exit status; never lets a user's mistake become a stack trace. */
export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  let exit = 0;
  const program = new Command('switchboard')
    .description('Contact-center scripting engine: validate and simulate CXone-Studio-style scripts.')
    .version(version())
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(switchboard help <command> shows usage)');

  program
    .command('validate')
    .description('check scripts; exit 1 when any has an error (with --strict, also a warning)')
    .argument('<script...>', 'script JSON files')
    .option('--json', 'print findings as JSON')
    .option('--strict', 'treat warnings as errors')
    .action((files: string[], options: { json?: boolean; strict?: boolean }) => {
      exit = validateCommand(files, options, io);
    });

  program
    .command('run')
    .description('simulate a script for one contact against a world fixture, offline, and print the trace')
    .argument('<script>', 'script JSON file')
    .option('--world <file>', 'world fixture JSON (skills, agents, contacts, callbacks)')
    .option('--var <name=value>', 'variable visible from BEGIN (repeatable)', collect, [])
    .option('--now <iso>', "start of the simulated clock (default: the world's now)")
    .option('--until <iso>', 'after the script, advance the clock to here, dispatching due callbacks')
    .option(
      '--signal <[iso][=p1,p2]>',
      'send ONSIGNAL to the parked script, at a time, with parameters (repeatable)',
      collect,
      [],
    )
    .option('--max-steps <n>', 'actions one event may run before the run fails (default 100000)')
    .option(
      '--deployed-by <agent>',
      "check SETSECURITYUSER as the server does: the script acts within this world agent's permissions (ID or username)",
    )
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options) => {
      exit = await runCommand(file, options, io);
    });

  const dbOption = [
    '--db <url-or-path>',
    'postgres:// URL or SQLite file (default $SWITCHBOARD_DB, else ./data/switchboard.db)',
  ] as const;

  program
    .command('serve')
    .description('run the server: scheduler, routing and script runs on the database')
    .option(...dbOption)
    .option('--port <port>', 'HTTP port (default $PORT, else 3000)')
    .option('--host <host>', 'interface to listen on (default 0.0.0.0)')
    .option('--demo', 'on an empty database, create a demo business unit and print a supervisor token')
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent (default $LOG_LEVEL, else info)',
    )
    .option(
      '--handle-key-file <file>',
      "key that signs security-user handles, instead of the database's keys (default $SWITCHBOARD_HANDLE_KEY_FILE, $SWITCHBOARD_HANDLE_KEY)",
    )
    .action(async (options) => {
      exit = await serveCommand(options, io, process);
    });

  program
    .command('migrate')
    .description('bring the database schema up to date (serve does it too, at start)')
    .option(...dbOption)
    .action(async (options) => {
      exit = await migrateCommand(options, io);
    });

  program
    .command('seed')
    .description('load a world file (skills, agents, profiles, contacts, callbacks) into an empty database')
    .requiredOption('--world <file>', 'world JSON, as for switchboard run')
    .option(...dbOption)
    .action(async (options: { world: string; db?: string }) => {
      exit = await seedCommand(options.world, options, io);
    });

  program
    .command('deploy')
    .description('validate scripts and store them in the database under their names')
    .argument('<script...>', 'script JSON files')
    .option(...dbOption)
    .action(async (files: string[], options) => {
      exit = await deployCommand(files, options, io);
    });

  const token = program.command('token').description('bearer tokens for the HTTP API');
  token
    .command('create')
    .description("print a new bearer token for an agent (its security profile's permissions apply)")
    .requiredOption('--agent <id>', 'agent ID')
    .option('--label <label>', 'what the token is for', 'cli')
    .option(...dbOption)
    .action(async (options: { agent: string; label?: string; db?: string }) => {
      exit = await tokenCreateCommand(options.agent, options, io);
    });
  token
    .command('revoke')
    .description('revoke a token, given the token or its ID')
    .argument('<token-or-id>')
    .option(...dbOption)
    .action(async (ref: string, options) => {
      exit = await tokenRevokeCommand(ref, options, io);
    });

  const keys = program.command('keys').description('keys that sign security-user handles (SETSECURITYUSER)');
  keys
    .command('rotate')
    .description(
      'add a key that signs from now on; keys whose handles have all expired are retired (--retire-old: every other key, now)',
    )
    .option('--retire-old', 'retire every other key at once: the handles they signed stop resolving')
    .option(...dbOption)
    .action(async (options: { retireOld?: boolean; db?: string }) => {
      exit = await keysRotateCommand(options, io);
    });

  const contact = program.command('contact').description('act on one contact in the database');
  contact
    .command('end')
    .description('end a contact (End a Contact, as an operator)')
    .argument('<id>', 'contact ID')
    .option('--reason <reason>', 'disconnect reason recorded', 'EndedByOperator')
    .option(...dbOption)
    .action(async (id: string, options) => {
      exit = await contactEndCommand(id, options, io);
    });
  contact
    .command('signal')
    .description("signal a contact's script (ONSIGNAL), with parameters p1…p9")
    .argument('<id>', 'contact ID')
    .argument('[params...]', 'parameters')
    .option(...dbOption)
    .action(async (id: string, params: string[], options) => {
      exit = await contactSignalCommand(id, params, options, io);
    });

  program
    .command('docs')
    .description('write the generated docs: docs/actions.md and schemas/script.schema.json (or --check them)')
    .option('--check', 'exit 1 when a generated file is out of date')
    .action((options: { check?: boolean }) => {
      for (const [path, text] of generatedFiles()) {
        if (!options.check) {
          writeFileSync(path, text);
          io.out(`wrote ${path}\n`);
          continue;
        }
        let current = '';
        try {
          current = readFileSync(path, 'utf8');
        } catch {}
        if (current !== text) exit = 1;
        io.out(current === text ? `${path} is current\n` : `${path} is out of date: run npm run docs\n`);
      }
    });

  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 1 ? 2 : e.exitCode;
    throw e;
  }
  return exit;
}
