import type { World } from './platform/world.js';

/**
 * The demo business unit `npm start` creates on first start: skills, agents (one a supervisor),
 * queued contacts, and callbacks falling due over the next hour — something to look at at once.
 */
export function demoWorld(now: number): World {
  const at = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
  return {
    businessUnit: { name: 'Demo', timeZone: 'Europe/Berlin', defaultCountry: 'DE', agentWaitSeconds: 120 },
    securityProfiles: [
      { name: 'Supervisor', permissions: ['admin'] },
      {
        name: 'Agent',
        permissions: ['contacts:read', 'callbacks:read', 'callbacks:write', 'agents:read', 'skills:read'],
      },
    ],
    skills: [
      { id: 2001, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
      { id: 2002, name: 'Chat support', mediaType: 'Chat', direction: 'Inbound' },
      { id: 2003, name: 'Hotline', mediaType: 'Phone', direction: 'Inbound' },
    ],
    agents: [
      {
        id: 1001,
        username: 'sofia',
        firstName: 'Sofia',
        lastName: 'Klein',
        state: 'Available',
        skills: [2001, 2002, 2003],
        securityProfile: 'Supervisor',
        timeZone: 'Europe/Berlin',
      },
      {
        id: 1002,
        username: 'ben',
        firstName: 'Ben',
        lastName: 'Okafor',
        state: 'Available',
        skills: [2001],
        securityProfile: 'Agent',
      },
      {
        id: 1003,
        username: 'lena',
        firstName: 'Lena',
        lastName: 'Vogel',
        state: 'Unavailable',
        skills: [2002, 2003],
        securityProfile: 'Agent',
      },
    ],
    contacts: [
      { id: 5001, mediaType: 'Chat', state: 'Queued', skillId: 2002, ani: 'web-visitor-17' },
      { id: 5002, mediaType: 'Chat', state: 'Queued', skillId: 2002, ani: 'web-visitor-18' },
      { id: 5003, mediaType: 'Phone', state: 'Queued', skillId: 2003, ani: '+4930901820' },
    ],
    callbacks: [
      {
        firstName: 'Olivia',
        lastName: 'Bennett',
        phoneNumber: '+442079460958',
        skillId: 2001,
        scheduleDate: at(2),
        notes: 'Asked about her invoice',
      },
      {
        firstName: 'Jonas',
        lastName: 'Weber',
        phoneNumber: '+4930123456',
        skillId: 2001,
        targetAgentId: 1002,
        scheduleDate: at(10),
        notes: 'Ben promised to call back',
      },
      {
        firstName: 'Maria',
        lastName: 'Berger',
        phoneNumber: '+4315880123',
        skillId: 2001,
        scheduleDate: at(60),
        notes: '',
      },
    ],
  };
}
