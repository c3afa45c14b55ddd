import type { SimulationReport, TraceStep } from './simulate.js';

/** Columns of a trace line before a long value is wrapped onto the next. */
const WIDTH = 110;
const INDENT = '      ';

const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** `value` in lines of at most `width` characters: wrapped (at a space when there is one), never cut. */
function wrap(value: string, width: number): string[] {
  const lines: string[] = [];
  let rest = value;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(space > 0 ? cut + 1 : cut);
  }
  lines.push(rest);
  return lines;
}

/**
 * Where a step went: the connector followed, and why when it was Default; nothing for END and
 * STOP; for a result with nothing wired, that the run ended there (a dead end, or a failure when
 * the action threw).
 */
function followed(step: TraceStep): string {
  if (step.branch === undefined && step.outcome !== undefined) {
    const unwired =
      step.outcome === 'Default' ? 'Default not wired' : `${step.outcome} not wired, nor Default`;
    const failed = step.notes?.some((n) => n.startsWith('error: '));
    return ` -> ${failed ? 'the run fails' : 'dead end'} (${unwired})`;
  }
  if (step.branch === undefined) return '';
  return step.outcome === undefined ? ` -> ${step.branch}` : ` -> ${step.branch} (${step.outcome} not wired)`;
}

function actionLines(step: TraceStep): string[] {
  const who = step.script === undefined ? '' : `${step.script} (contact ${step.contactId}) `;
  const head = `${step.at}  ${who}[${step.id}] ${step.action}${followed(step)}`;
  const set = Object.entries(step.set ?? {}).map(([k, v]) => `${k}=${text(v)}`);
  const oneLine = `${head}${set.length > 0 ? `  ${set.join(' ')}` : ''}`;
  const lines =
    oneLine.length <= WIDTH
      ? [oneLine]
      : [head, ...set.flatMap((s) => wrap(s, WIDTH - INDENT.length).map((part) => `${INDENT}${part}`))];
  for (const note of step.notes ?? []) {
    // The dead-end note says what the arrow already says.
    if (step.branch === undefined && note.endsWith('dead end')) continue;
    lines.push(...wrap(`note: ${note}`, WIDTH - 4).map((part) => `    ${part}`));
  }
  return lines;
}

/** One event in words: `callback 1 dispatched as contact 5003`. */
function describeEvent(f: TraceStep): string {
  switch (f.event) {
    case 'callback.dispatched':
      return `callback ${f.callbackId} dispatched as contact ${f.contactId}${Number(f.lateMs) > 0 ? `, ${f.lateMs} ms late` : ''}`;
    case 'callback.delivered':
      return `callback ${f.callbackId} delivered to agent ${f.agentId}`;
    case 'callback.completed':
      return `callback ${f.callbackId} completed`;
    case 'callback.canceled':
      return `callback ${f.callbackId} canceled`;
    case 'callback.scheduled':
    case 'callback.rescheduled':
      return `callback ${f.callbackId} ${f.event.slice(9)} for ${f.scheduledFor}`;
    case 'contact.queued':
      return `contact ${f.contactId} queued${f.targetAgentId != null ? ` for agent ${f.targetAgentId}` : ''}${f.skillId != null ? ` on skill ${f.skillId}` : ''}`;
    case 'contact.routed':
      return `contact ${f.contactId} routed to agent ${f.agentId}`;
    case 'contact.ended':
      return `contact ${f.contactId} ended (${f.reason})`;
    case 'agent.state_changed':
      return `agent ${f.agentId} ${f.from} -> ${f.to}`;
    default:
      return JSON.stringify(f);
  }
}

/** The trace for a person: one line an action or event, then what the world looks like. */
export function formatReport(report: SimulationReport): string {
  const lines: string[] = [];
  for (const step of report.trace) {
    if (step.event !== undefined) lines.push(`${step.at}  (${step.event}) ${describeEvent(step)}`);
    else lines.push(...actionLines(step));
  }
  const contact = report.world.contacts.find((c) => c.id === report.contactId);
  lines.push(
    '',
    `outcome: ${report.outcome}; contact ${report.contactId} is ${contact?.state ?? '?'}${contact?.disconnectReason ? ` (${contact.disconnectReason})` : ''}`,
  );
  const others = report.world.contacts.filter((c) => c.id !== report.contactId);
  for (const c of others) {
    lines.push(
      `contact ${c.id}: ${c.state} ${c.direction} ${c.mediaType}${c.skillId ? ` skill ${c.skillId}` : ''}${c.agentId ? ` agent ${c.agentId}` : ''}${c.disconnectReason ? ` (${c.disconnectReason})` : ''}`,
    );
  }
  for (const cb of report.world.callbacks) {
    lines.push(
      `callback ${cb.id}: ${cb.state} ${cb.phoneNumber} skill ${cb.skillId}${cb.targetAgentId ? ` agent ${cb.targetAgentId}` : ''} due ${cb.scheduledFor} (${cb.timeZone})`,
    );
  }
  for (const a of report.world.agents) lines.push(`agent ${a.id} (${a.username}): ${a.state}`);
  return `${lines.join('\n')}\n`;
}
