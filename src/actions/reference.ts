import type { ActionRegistry } from './registry.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Renders docs/actions.md from the action declarations, so the reference cannot drift from the code. */
export function renderActionReference(registry: ActionRegistry): string {
  const out: string[] = [
    '# Action reference',
    '',
    '<!-- Generated from src/actions/*.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Every action Switchboard runs, with its properties, output variables and result branches.',
    'Branch names are accepted with or without the `On` prefix (`OnSuccess` = `Success`).',
    'A branch that is not wired falls back to `Default`; with `Default` unwired too the run is a dead end.',
    '',
  ];
  for (const a of registry.all()) out.push(`- [${a.name}](#${a.name.toLowerCase()})`);
  out.push('');
  for (const a of registry.all()) {
    out.push(`## ${a.name}`, '');
    if (a.aliases?.length) out.push(`Also written: ${a.aliases.map((x) => `\`${x}\``).join(', ')}.`, '');
    out.push(a.summary, '');
    out.push(`Script types: ${a.scriptTypes.join(', ')}.`, '');
    const props = Object.entries(a.properties);
    if (props.length > 0) {
      out.push('| Property | Required | Default | Description |', '|---|---|---|---|');
      for (const [name, spec] of props) {
        const description = spec.enum
          ? `${spec.description} One of: ${spec.enum.join(', ')}.`
          : spec.description;
        out.push(
          `| \`${name}\` | ${spec.required ? 'yes' : ''} | ${spec.default ? `\`${cell(spec.default)}\`` : ''} | ${cell(description)} |`,
        );
      }
      out.push('');
    }
    const outputs = Object.entries(a.outputs);
    if (outputs.length > 0) {
      out.push('| Output variable | Holds |', '|---|---|');
      for (const [name, what] of outputs) out.push(`| \`${name}\` | ${cell(what)} |`);
      out.push('');
    }
    const branches = Object.entries(a.branches);
    if (branches.length > 0 || a.caseBranches) {
      out.push('| Branch | Taken when |', '|---|---|');
      for (const [name, when] of branches) out.push(`| \`${name}\` | ${cell(when)} |`);
      if (a.caseBranches) out.push(`| *(case value)* | ${cell(a.caseBranches)} |`);
      out.push('');
    } else {
      out.push('No branches.', '');
    }
    if (a.errorBranch)
      out.push(
        `An unexpected error (the database down, a bug) takes \`${a.errorBranch}\`, else \`Default\`, with \`_ERR\` set.`,
        '',
      );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
