import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { fieldError, fieldErrors, installProblemHandlers, problemServerOptions } from './problem.ts';
import { strictValidatorCompiler } from './validator.ts';

describe('one problem shape', () => {
  it('names a field by its dotted name and its JSON pointer, or the whole part', () => {
    expect(fieldError('body', 'limit_price', 'is required')).toEqual({
      in: 'body',
      field: 'limit_price',
      pointer: '/limit_price',
      detail: 'is required',
    });
    expect(fieldError('body', 'items.0.a/b', 'x').pointer).toBe('/items/0/a~1b');
    expect(fieldError('body', 'body', 'is not JSON')).toEqual({
      in: 'body',
      field: 'body',
      pointer: '',
      detail: 'is not JSON',
    });
    expect(
      fieldErrors(
        [
          { keyword: 'required', instancePath: '/items/0', params: { missingProperty: 'qty' } },
          { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'x' } },
        ],
        'body',
      ),
    ).toEqual([
      { in: 'body', field: 'items.0.qty', pointer: '/items/0/qty', detail: 'is required' },
      { in: 'body', field: 'x', pointer: '/x', detail: 'is not an allowed property' },
    ]);
  });

  it('answers bad input, unknown routes, long parameters and NULs in problem+json, never 500', async () => {
    const problems = { service: 'test', notFound: true };
    const app = Fastify({ logger: false, ...problemServerOptions(problems) });
    app.setValidatorCompiler(strictValidatorCompiler(['uuid']));
    installProblemHandlers(app, problems);
    app.get(
      '/things/:id',
      {
        schema: {
          params: { type: 'object', properties: { id: { type: 'string' } } },
          querystring: {
            type: 'object',
            properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } },
          },
        },
      },
      async () => ({ ok: true }),
    );
    app.post('/things', async (req) => req.body);
    const cases: [string, string, number, string?][] = [
      ['GET', '/things/1?limit=1e309', 400, 'limit'],
      ['GET', '/things/1?limit=Infinity', 400, 'limit'],
      ['GET', '/things/1?limit=0', 400, 'limit'],
      ['GET', '/nothing', 404],
      ['GET', `/things/${'x'.repeat(200)}`, 414],
      ['GET', '/things/1?q=%00', 400],
    ];
    for (const [method, url, status, field] of cases) {
      const res = await app.inject({ method: method as 'GET', url });
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      if (field) expect(res.json().errors[0].field).toBe(field);
    }
    const nul = await app.inject({ method: 'POST', url: '/things', payload: { a: { b: 'x\u0000' } } });
    expect(nul.statusCode).toBe(400);
    expect(nul.json().errors[0]).toMatchObject({ in: 'body', field: 'a.b', pointer: '/a/b' });
    const big = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ s: 'x'.repeat(2_000_000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/);
    await app.close();
  });
});
