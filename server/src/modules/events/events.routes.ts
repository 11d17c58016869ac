import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EventOut, exampleOf, IdParams, ListEventsQuery } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import { listEvents } from './events.repo.js';

export const eventRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/communities/:communityId/events',
      {
        config: { access: { kind: 'community', role: 'admin' } },
        schema: {
          tags: ['events'],
          summary: 'Read the domain event log in order (cursor: after_id)',
          params: IdParams('communityId'),
          querystring: ListEventsQuery,
          response: { 200: z.object({ events: z.array(EventOut), next_after_id: z.number().nullable() }).meta({ examples: [{ events: [exampleOf(EventOut)], next_after_id: 4211 }] }) },
        },
      },
      async (req) => {
        const { communityId } = requireActor(req);
        const events = await listEvents(deps.db, communityId, req.query);
        const last = events.at(-1);
        return { events, next_after_id: events.length === req.query.limit && last ? last.id : null };
      },
    );
  };
