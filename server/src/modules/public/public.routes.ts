import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { exampleOf, ShortText, Threshold } from '../../../../contracts/src/index.js';
import type { Deps } from '../../lib/deps.js';
import { secretToken } from '../../lib/ids.js';
import { getCommunity } from '../communities/index.js';
import { getUsableLinkByCode, linkUrl, qrSvg, recordVisit, type EntryLink } from '../links/index.js';
import { findGroupsByIds } from '../groups/index.js';
import { renderLinkPage } from './link-page.js';

const VISITOR_COOKIE = 'yt_visitor';
const CodeParams = z.object({ code: z.string().min(1).max(32) });

/** The visitor id ties a visit to the application that may follow (funnel: visit → applied). */
function visitorId(req: FastifyRequest, reply: FastifyReply): string {
  const existing = req.cookies[VISITOR_COOKIE];
  if (existing && /^[\w-]{10,64}$/.test(existing)) return existing;
  const id = secretToken(12);
  reply.setCookie(VISITOR_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 180 * 86400 });
  return id;
}

export const LinkInfo = z
  .object({
    code: z.string(),
    url: z.string(),
    channel: z.string(),
    community: z.object({ name: z.string(), value_proposition: z.string(), announcement: z.string(), nickname_format: z.string(), introduction_template: z.string(), is_demo: z.boolean() }),
    threshold: Threshold,
  })
  .meta({
    id: 'EntryLinkInfo',
    examples: [
      {
        code: 'wj3zkz4x',
        url: 'https://yutang.example.com/j/wj3zkz4x',
        channel: '公众号',
        community: {
          name: '鱼塘读书会',
          value_proposition: '每月共读两本好书，有人督促、有人讨论、有人同行：把读书变成习惯。',
          announcement: '欢迎来到鱼塘读书会！本群每月共读两本书，每天打卡，周日晚八点线上分享。禁止广告、政治、宗教话题。',
          nickname_format: '城市-行业-姓名',
          introduction_template: '我是{姓名}，来自{城市}，从事{行业}，最近在读{书名}，希望在读书会{收获}。',
          is_demo: false,
        },
        threshold: exampleOf(Threshold),
      },
    ],
  });

export const publicRoutes =
  (deps: Deps, limits: { publicPerMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['public'];
    const pub = { access: { kind: 'public' }, rateLimit: { max: limits.publicPerMinute, timeWindow: '1 minute' } } as const;

    async function info(link: EntryLink) {
      const c = await getCommunity(deps, link.community_id);
      const [first] = await findGroupsByIds(deps.db, link.community_id, link.group_ids.slice(0, 1));
      return {
        code: link.code,
        url: linkUrl(deps, link.code),
        channel: link.channel,
        community: {
          name: c.name,
          value_proposition: c.value_proposition,
          announcement: c.rules.announcement,
          nickname_format: c.rules.nickname_format,
          introduction_template: c.rules.introduction_template,
          is_demo: c.is_demo,
        },
        threshold: first?.threshold ?? c.threshold,
      };
    }

    app.get(
      '/api/v1/public/links/:code',
      { config: pub, schema: { tags, summary: 'What a link leads to and what its threshold asks', params: CodeParams, response: { 200: LinkInfo } } },
      async (req) => info(await getUsableLinkByCode(deps, req.params.code)),
    );

    app.post(
      '/api/v1/public/links/:code/visits',
      {
        config: pub,
        schema: {
          tags,
          summary: 'Record a visit of the link (for pages that render it themselves)',
          params: CodeParams,
          body: z
            .strictObject({ source: ShortText.optional().describe('Where the visitor saw the link, e.g. a poster or utm_source') })
            .optional()
            .meta({ examples: [{ source: '地铁海报' }] }),
          response: { 200: z.object({ visitor_id: z.string() }).meta({ examples: [{ visitor_id: 'vis_0mx9qwwlg0000a1b2c3d4e5f6a7b8' }] }) },
        },
      },
      async (req, reply) => {
        const link = await getUsableLinkByCode(deps, req.params.code);
        const visitor_id = visitorId(req, reply);
        await recordVisit(deps, link, { visitor_id, referer: req.headers.referer, ...(req.body?.source && { source: req.body.source }) });
        return { visitor_id };
      },
    );

    app.get(
      '/j/:code',
      { config: pub, schema: { tags, summary: 'The link page people scan or open: records the visit, shows the QR code and the join form', params: CodeParams } },
      async (req, reply) => {
        const link = await getUsableLinkByCode(deps, req.params.code);
        const visitor = visitorId(req, reply);
        await recordVisit(deps, link, { visitor_id: visitor, referer: req.headers.referer });
        const i = await info(link);
        return reply.type('text/html; charset=utf-8').send(renderLinkPage(i, await qrSvg(i.url)));
      },
    );

    app.get(
      '/j/:code/qr.svg',
      { config: pub, schema: { tags, summary: 'QR code of the link', params: CodeParams } },
      async (req, reply) => {
        const link = await getUsableLinkByCode(deps, req.params.code);
        return reply.type('image/svg+xml').header('cache-control', 'public, max-age=3600').send(await qrSvg(linkUrl(deps, link.code)));
      },
    );
  };
