import { Type } from '@sinclair/typebox';
import type { Platform } from '../../platform/platform.js';
import { unwrap } from '../http-error.js';
import { type Api, errors, page, pageQuery, viaApi } from '../route-helpers.js';
import {
  Contact,
  ContactQuery,
  EndContactBody,
  IdParams,
  Page,
  SignalBody,
  StartContactBody,
} from '../schemas.js';

const tags = ['contacts'];

export function contactRoutes(api: Api, platform: Platform) {
  api.post(
    '/contacts',
    {
      config: { operation: 'contacts.start' },
      schema: {
        tags,
        summary: 'Start a contact: in a deployed script, or queued to a skill',
        body: StartContactBody,
        response: { 201: Contact, ...errors(400) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(unwrap(await platform.createContact(request.body, viaApi(request)))),
  );

  api.get(
    '/contacts',
    {
      config: { operation: 'contacts.read' },
      schema: {
        tags,
        summary: 'List contacts, oldest first',
        querystring: ContactQuery,
        response: { 200: Page(Contact), ...errors(400) },
      },
    },
    async (request) => {
      const { state } = request.query;
      const rows = await platform.read.contacts(
        { ...pageQuery(request.query), ...(state === undefined ? {} : { state }) },
        viaApi(request),
      );
      return page(unwrap(rows), request.query);
    },
  );

  api.get(
    '/contacts/:id',
    {
      config: { operation: 'contacts.read' },
      schema: { tags, summary: 'One contact', params: IdParams, response: { 200: Contact, ...errors(404) } },
    },
    async (request) => unwrap(await platform.read.contact(Number(request.params.id), viaApi(request))),
  );

  api.post(
    '/contacts/:id/end',
    {
      config: { operation: 'contacts.end' },
      schema: {
        tags,
        summary: 'End a Contact: leaves its queue, frees its agent, runs its ONRELEASE',
        params: IdParams,
        body: EndContactBody,
        response: { 200: Contact, ...errors(404, 409) },
      },
    },
    async (request) =>
      unwrap(
        await platform.endContact(
          request.params.id,
          request.body.reason ?? 'TerminateScript',
          viaApi(request),
        ),
      ),
  );

  api.post(
    '/contacts/:id/signal',
    {
      config: { operation: 'contacts.signal' },
      schema: {
        tags,
        summary: "Signal the contact's script (ONSIGNAL) with parameters p1…p9",
        params: IdParams,
        body: SignalBody,
        response: { 202: Type.Object({ contactId: Type.Integer() }), ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const contact = unwrap(
        await platform.signalContact(request.params.id, request.body.params ?? [], viaApi(request)),
      );
      return reply.status(202).send({ contactId: contact.id });
    },
  );
}
