import { expect, it } from 'vitest';
import { baseWorld, NOW, runActions } from '../../test/support/simulate.js';

const MINUTE = 60_000;
const at = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();

it('runs the ONRELEASE of a script parked at STOP when another script ends its contact meanwhile', async () => {
  // A callback due in a minute goes to ana; its skill's script ends the simulated contact (the
  // first ID after the world's contacts, 5003) while the simulated script is parked at STOP.
  const killer = {
    name: 'killer',
    mediaType: 'Phone',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: 's' } },
      { id: 's', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: '2' } },
      { id: '2', action: 'KILLCONTACT', properties: { ContactID: '5003' }, branches: { Default: '3' } },
      { id: '3', action: 'END' },
    ],
  };
  const base = baseWorld();
  const world = {
    ...base,
    agents: base.agents.map((a) => (a.id === 1001 ? { ...a, state: 'Available' } : a)),
    skills: base.skills.map((s) => (s.id === 2001 ? { ...s, script: 'killer' } : s)),
    callbacks: [{ phoneNumber: '+4930123456', skillId: 2001, scheduleDate: at(MINUTE) }],
  };
  const report = await runActions(
    [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      { id: '2', action: 'STOP' },
      { id: '10', action: 'ONSIGNAL', branches: { Default: '11' } },
      { id: '11', action: 'END' },
      { id: '20', action: 'ONRELEASE', branches: { Default: '21' } },
      {
        id: '21',
        action: 'ASSIGN',
        properties: { Variable: 'Released', Value: 'yes' },
        branches: { Default: '22' },
      },
      { id: '22', action: 'END' },
    ],
    {
      world,
      scripts: [{ file: 'killer.json', text: JSON.stringify(killer) }],
      until: Date.parse(at(5 * MINUTE)),
    },
  );
  expect(report.contactId).toBe(5003);
  expect(report.world.contacts.find((c) => c.id === 5003)).toMatchObject({
    state: 'Ended',
    disconnectReason: 'TerminateScript',
  });
  expect(report.variables.Released).toBe('yes');
  expect(report.outcome).not.toBe('stopped');
});
