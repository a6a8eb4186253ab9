import { z } from 'zod';
import { operationsByEndpoint } from './registry.js';

/**
 * An OpenAPI 3.1 document generated from the operation definitions, served at `/api/docs`.
 * Every endpoint is listed as POST; the server accepts any method (the Python SDK uses GET with a body).
 */
export function openApiDocument(info: { version: string; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const o of operationsByEndpoint.values()) {
    paths[`/${o.endpoint}`] = {
      post: {
        operationId: o.endpoint,
        summary: o.summary,
        description: `Available from API version ${o.minVersion}. Also reachable as /v{X.Y}/${o.endpoint}.`,
        security: o.auth === 'required' ? [{ bearer: [] }, { basic: [] }, { cookie: [] }] : [],
        requestBody: {
          content: {
            [o.batch ? 'application/json-lines' : 'application/json']: { schema: z.toJSONSchema(o.request, { io: 'input', unrepresentable: 'any' }) },
          },
        },
        responses: {
          '200': {
            description: 'The `{meta, data}` envelope; `data` is described here.',
            content: { 'application/json': { schema: z.toJSONSchema(o.response, { io: 'output', unrepresentable: 'any' }) } },
          },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Cairn API (ClearML-compatible)', version: info.version },
    servers: info.serverUrl ? [{ url: info.serverUrl }] : [],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        basic: { type: 'http', scheme: 'basic' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'clearml_token_basic' },
      },
    },
    paths,
  };
}
