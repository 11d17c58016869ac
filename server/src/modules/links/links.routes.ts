import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateLink, IdParams, LinkOut, listOf, UpdateLink } from '../../../../contracts/src/index.js';
import { requireActor } from '../../http/access.js';
import type { Deps } from '../../lib/deps.js';
import type { EntryLink } from './links.repo.js';
import { createLink, getLink, linkUrl, listLinks, qrSvg, updateLink } from './links.service.js';

export const presentLink = (deps: Deps, l: EntryLink) => ({ ...l, url: linkUrl(deps, l.code) });

export const linkRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['entry links'];
    const access = { access: { kind: 'community', role: 'admin' } } as const;
    app.get(
      '/api/v1/communities/:communityId/links',
      { config: access, schema: { tags, params: IdParams('communityId'), response: { 200: listOf('links', LinkOut) } } },
      async (req) => ({ links: (await listLinks(deps, requireActor(req).communityId)).map((l) => presentLink(deps, l)) }),
    );
    app.post(
      '/api/v1/communities/:communityId/links',
      {
        config: access,
        schema: { tags, summary: 'Create an entry link (渠道活码) for a channel', params: IdParams('communityId'), body: CreateLink, response: { 201: LinkOut } },
      },
      async (req, reply) => {
        const { actor, communityId } = requireActor(req);
        return reply.code(201).send(presentLink(deps, await createLink(deps, communityId, actor, req.body)));
      },
    );
    app.get(
      '/api/v1/communities/:communityId/links/:linkId',
      { config: access, schema: { tags, params: IdParams('communityId', 'linkId'), response: { 200: LinkOut } } },
      async (req) => presentLink(deps, await getLink(deps, requireActor(req).communityId, req.params.linkId)),
    );
    app.patch(
      '/api/v1/communities/:communityId/links/:linkId',
      { config: access, schema: { tags, params: IdParams('communityId', 'linkId'), body: UpdateLink, response: { 200: LinkOut } } },
      async (req) => presentLink(deps, await updateLink(deps, requireActor(req).communityId, req.params.linkId, req.body)),
    );
    app.get(
      '/api/v1/communities/:communityId/links/:linkId/qr.svg',
      { config: access, schema: { tags, summary: 'QR code of the link, as SVG', params: IdParams('communityId', 'linkId') } },
      async (req, reply) => {
        const link = await getLink(deps, requireActor(req).communityId, req.params.linkId);
        return reply.type('image/svg+xml').send(await qrSvg(linkUrl(deps, link.code)));
      },
    );
  };
