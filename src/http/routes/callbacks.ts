import { Type } from '@sinclair/typebox';
import type { Platform } from '../../platform/platform.js';
import { HttpError, unwrap } from '../http-error.js';
import { type Api, errors, page, pageQuery, queryId, viaApi } from '../route-helpers.js';
import {
  Callback,
  CallbackQuery,
  CreateCallbackBody,
  IdParams,
  Page,
  UpdateCallbackBody,
} from '../schemas.js';

const tags = ['scheduled callbacks'];
const KEY = /^[A-Za-z0-9_\-.:]{1,200}$/;

export function callbackRoutes(api: Api, platform: Platform) {
  api.post(
    '/scheduled-callbacks',
    {
      config: { operation: 'callbacks.schedule' },
      schema: {
        tags,
        summary: 'Schedule Callback: a skill or agent calls the person back at a future time',
        description:
          'Checks, in order, InvalidSkillId, InvalidTargetAgentId, InvalidScheduleDate, InvalidPhoneNumber. An `Idempotency-Key` header makes a retried request return the callback the first one made.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: CreateCallbackBody,
        response: { 201: Type.Object({ callbackId: Type.Integer() }), ...errors(400, 422) },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key !== undefined && !KEY.test(key)) {
        throw new HttpError(
          'InvalidRequest',
          'Idempotency-Key must be 1-200 letters, digits or - _ . :',
          'Idempotency-Key',
        );
      }
      const scheduled = await platform.scheduleCallback(
        request.body,
        viaApi(request),
        key === undefined ? {} : { idempotencyKey: key },
      );
      return reply.status(201).send({ callbackId: unwrap(scheduled).id });
    },
  );

  api.get(
    '/scheduled-callbacks',
    {
      config: { operation: 'callbacks.read' },
      schema: {
        tags,
        summary: 'List callbacks by skill, target agent or state',
        querystring: CallbackQuery,
        response: { 200: Page(Callback), ...errors(400) },
      },
    },
    async (request) => {
      const { state } = request.query;
      const skillId = queryId(request.query.skillId, 'skillId');
      const agentId = queryId(request.query.agentId, 'agentId');
      const rows = await platform.read.callbacks(
        {
          ...pageQuery(request.query),
          ...(state === undefined ? {} : { state }),
          ...(skillId === undefined ? {} : { skillId }),
          ...(agentId === undefined ? {} : { agentId }),
        },
        viaApi(request),
      );
      return page(unwrap(rows), request.query);
    },
  );

  api.get(
    '/scheduled-callbacks/:id',
    {
      config: { operation: 'callbacks.read' },
      schema: {
        tags,
        summary: 'One callback',
        params: IdParams,
        response: { 200: Callback, ...errors(404) },
      },
    },
    async (request) => unwrap(await platform.read.callback(Number(request.params.id), viaApi(request))),
  );

  api.put(
    '/scheduled-callbacks/:id',
    {
      config: { operation: 'callbacks.update' },
      schema: {
        tags,
        summary: 'Reschedule or edit a callback that is still Scheduled',
        params: IdParams,
        body: UpdateCallbackBody,
        response: { 200: Callback, ...errors(400, 404, 409) },
      },
    },
    async (request) =>
      unwrap(await platform.updateCallback(Number(request.params.id), request.body, viaApi(request))),
  );

  api.delete(
    '/scheduled-callbacks/:id',
    {
      config: { operation: 'callbacks.cancel' },
      schema: {
        tags,
        summary: 'Cancel a callback that is still Scheduled',
        params: IdParams,
        response: { 200: Callback, ...errors(404, 409) },
      },
    },
    async (request) => unwrap(await platform.cancelCallback(Number(request.params.id), viaApi(request))),
  );
}
