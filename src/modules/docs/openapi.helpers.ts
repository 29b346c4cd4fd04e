/** Small builders shared by the path items of /openapi.json. */

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const listOf = (name: string) => ({
  type: 'object',
  properties: { object: { type: 'string', enum: ['list'] }, data: { type: 'array', items: ref(name) }, has_more: { type: 'boolean' } },
});
export const json = (schema: object) => ({ content: { 'application/json': { schema } } });
export const error = (description: string) => ({ description, ...json(ref('Error')) });

export const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', maxLength: 255 },
  description:
    'Scope (user, key), kept 24 h. Same key + same body replays the original answer with Idempotent-Replayed: true; another body answers 422; a key still running answers 409.',
};
