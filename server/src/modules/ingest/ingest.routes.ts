import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IngestBatch, IngestResponse } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import { sha256 } from '../../lib/hash.js';
import type { Deps } from '../../lib/deps.js';
import { ingestEvents } from './ingest.service.js';

export const ingestRoutes =
  (deps: Deps, limits: { ingestPerMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/api/v1/events',
      {
        // 1,000 events with their props outgrow the server-wide 1 MiB.
        bodyLimit: 5 * 1024 * 1024,
        config: {
          access: { kind: 'apikey', scope: 'events:write' },
          // Per key (the limit runs before authentication, so it keys on the token as sent), else per IP.
          rateLimit: { max: limits.ingestPerMinute, timeWindow: '1 minute', keyGenerator: (req) => (req.headers.authorization ? sha256(req.headers.authorization) : req.ip) },
        },
        schema: {
          tags: ['events'],
          summary: 'Send up to 1,000 events from another system (API key with events:write); each item is answered in order',
          description:
            'The key decides the community. 200 with one result per item, in order: accepted, duplicate (its id was seen before; nothing written) or rejected (reason, field). Only a malformed envelope is a 400.',
          security: [{ bearer: [] }],
          body: IngestBatch,
          response: { 200: IngestResponse },
        },
      },
      async (req) => ({ results: await ingestEvents(deps, requireActor(req).communityId, req.body.events) }),
    );
  };
