/** The seven script types (media types) of CXone Studio. */
export const SCRIPT_TYPES = ['Generic', 'Email', 'Chat', 'Phone', 'Voicemail', 'WorkItem', 'SMS'] as const;
export type ScriptType = (typeof SCRIPT_TYPES)[number];

/** A property value as written in JSON; the runtime reads every value as text. */
export type PropertyValue = string | number | boolean;

/** One action on the canvas: its behaviour only (positions live in `Script.layout`). */
export interface ScriptAction {
  id: string;
  action: string;
  caption?: string;
  properties?: Record<string, PropertyValue>;
  /** Branch name → id of the next action. */
  branches?: Record<string, string>;
}

export interface Script {
  name: string;
  /** The script type; defaults to Generic. */
  mediaType?: ScriptType;
  description?: string;
  actions: ScriptAction[];
  layout?: Record<string, { x: number; y: number }>;
}

/** A script's type: the media type it declares, Generic when it declares none. */
export function scriptTypeOf(script: Script): ScriptType {
  return script.mediaType ?? 'Generic';
}

/** Whether a script may run for a contact of `mediaType`: one made for that media, or a Generic one. */
export function scriptRunsFor(script: Script, mediaType: ScriptType): boolean {
  const type = scriptTypeOf(script);
  return type === 'Generic' || type === mediaType;
}

/** Variables every run starts with, for its own contact (DESIGN §3.2; set by runtime/run.ts). */
export const PREDEFINED_VARIABLES = ['ContactID', 'MasterID', 'ANI', 'DNIS', 'SkillId', 'MediaType'] as const;

/** Variables the runtime and the actions set: `_ERR` on a failure, `__DISCONNECTREASON` by End a Contact. */
export const RESERVED_VARIABLES = ['_ERR', '__DISCONNECTREASON'] as const;
