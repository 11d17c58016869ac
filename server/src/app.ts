import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransformObject, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/kysely.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { Deps } from './lib/deps.js';
import { decorateForGuard, guardFor } from './http/guard.js';
import type { Access } from './http/access.js';
import { AuthCache } from './http/auth-cache.js';
import { installProblemHandler } from './http/problems.js';
import { openApiTransform } from './http/openapi.js';
import { serializerCompiler } from './http/serializer.js';
import { authRoutes } from './modules/auth/index.js';
import { workspaceRoutes } from './modules/workspaces/index.js';
import { communityRoutes } from './modules/communities/index.js';
import { groupRoutes } from './modules/groups/index.js';
import { linkRoutes } from './modules/links/index.js';
import { memberRoutes, selfRoutes } from './modules/members/index.js';
import { productRoutes } from './modules/products/index.js';
import { apiKeyRoutes } from './modules/apikeys/index.js';
import { identityRoutes } from './modules/imports/index.js';
import { eventRoutes } from './modules/events/index.js';
import { checkoutRoutes, orderRoutes, webhookRoutes } from './modules/orders/index.js';
import { publicRoutes } from './modules/public/public.routes.js';
import { metricsRoutes } from './modules/metrics/index.js';
import { kpisRoutes } from './modules/analytics/index.js';
import { churnRoutes, classifyRoutes, groupHealthRoutes } from './modules/analytics/index.js';
import { explainRoutes, moneyFormulaRoutes, referrersRoutes } from './modules/analytics/index.js';
import { cohortsRoutes, funnelRoutes } from './modules/analytics/index.js';
import { membershipRoutes } from './modules/memberships/index.js';
import { paymentProviders } from './modules/payments/index.js';
import { webhookSubscriptionRoutes } from './modules/webhooks/index.js';
import { ingestRoutes } from './modules/ingest/index.js';
import { csvRoutes } from './modules/csv/index.js';
import { rootPage } from './http/root-page.js';

export const VERSION = '0.1.0';

export interface AppOptions {
  database: DatabaseHandle;
  /** `payments` absent: only the test provider (as in Deps). */
  config: Pick<Config, 'publicUrl' | 'signup' | 'secret' | 'trustProxy' | 'logLevel'> & Partial<Pick<Config, 'payments'>>;
  clock?: Clock;
  /** Requests per minute per IP on login/sign-up and on public link endpoints; per API key on event ingest. */
  limits?: { loginPerMinute?: number; publicPerMinute?: number; ingestPerMinute?: number };
  logger?: boolean;
}

export interface RouteInfo {
  method: string;
  url: string;
  access: Access;
  /** The route's schemas as declared (zod), for tests that check the OpenAPI document against them. */
  schema?: unknown;
}

/** Builds the HTTP server: every module's routes behind one guard, one error format, one OpenAPI. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance & { routeTable: RouteInfo[]; deps: Deps }> {
  const app = Fastify({
    logger: opts.logger === false ? false : { level: opts.config.logLevel },
    trustProxy: opts.config.trustProxy,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  const deps: Deps = { db: opts.database.db, clock: opts.clock ?? systemClock, config: opts.config, authCache: new AuthCache() };
  // Built now, so that a provider that cannot be built stops the start rather than the first order.
  paymentProviders(deps.config);
  const limits = { loginPerMinute: opts.limits?.loginPerMinute ?? 20, publicPerMinute: opts.limits?.publicPerMinute ?? 120, ingestPerMinute: opts.limits?.ingestPerMinute ?? 600 };

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandler(app);

  // Every route must say who may call it; swagger-ui's static files are the only implicit ones.
  const routeTable: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: RouteInfo['access'] };
    if (!config.access && (route.url.startsWith('/docs') || route.url === '/openapi.json')) {
      route.config = { ...config, access: { kind: 'public' } } as typeof route.config;
    } else if (!config.access) {
      throw new Error(`Route ${String(route.method)} ${route.url} declares no access rule`);
    }
    const access = (route.config as { access: RouteInfo['access'] }).access;
    // The guard runs first, before validation and any hook of the route's own.
    route.preValidation = [guardFor(deps, access), ...[route.preValidation ?? []].flat()];
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, access, schema: route.schema });
    }
  });

  await app.register(cookie, { secret: opts.config.secret });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Yutang API', version: VERSION, description: 'Run an online community as a business: groups, thresholds, members, events.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'yt_session' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API key (yk_…) or member token (ymt_…)' },
        },
      },
    },
    transform: openApiTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  decorateForGuard(app);

  await app.register(authRoutes(deps, limits));
  await app.register(workspaceRoutes(deps));
  await app.register(communityRoutes(deps));
  await app.register(groupRoutes(deps));
  await app.register(linkRoutes(deps));
  await app.register(memberRoutes(deps));
  await app.register(selfRoutes(deps, limits));
  await app.register(productRoutes(deps));
  await app.register(apiKeyRoutes(deps));
  await app.register(identityRoutes(deps));
  await app.register(eventRoutes(deps));
  await app.register(orderRoutes(deps));
  await app.register(metricsRoutes(deps));
  await app.register(kpisRoutes(deps));
  await app.register(classifyRoutes(deps));
  await app.register(churnRoutes(deps));
  await app.register(groupHealthRoutes(deps));
  await app.register(moneyFormulaRoutes(deps));
  await app.register(referrersRoutes(deps));
  await app.register(explainRoutes(deps));
  await app.register(cohortsRoutes(deps));
  await app.register(funnelRoutes(deps));
  await app.register(checkoutRoutes(deps, limits));
  await app.register(webhookRoutes(deps));
  await app.register(membershipRoutes(deps));
  await app.register(publicRoutes(deps, limits));
  await app.register(webhookSubscriptionRoutes(deps));
  await app.register(ingestRoutes(deps, limits));
  await app.register(csvRoutes(deps));

  app.get('/healthz', { config: { access: { kind: 'public' } }, schema: { hide: true } }, async () => {
    await deps.db.selectFrom('users').select('id').limit(1).execute();
    return { ok: true, version: VERSION, database: opts.database.dialect };
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/', { config: { access: { kind: 'public' } }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(rootPage(VERSION, opts.database.dialect)),
  );

  await app.ready();
  return Object.assign(app, { routeTable, deps });
}
