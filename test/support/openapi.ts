/** The gateway's OpenAPI document, read as the generative and authorization tests need it. */
export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  enum?: unknown[];
  example?: unknown;
  format?: string;
  minimum?: number;
  minLength?: number;
  additionalProperties?: boolean | OpenApiSchema;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> } }>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

export interface ApiOperation {
  method: string;
  /** As the document writes it: `/api/v1/requests/{id}`. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  /** The request body's schema with every `$ref` resolved, or undefined when the operation reads none. */
  body: OpenApiSchema | undefined;
}

export function operationsOf(doc: OpenApiDocument): ApiOperation[] {
  const operations: ApiOperation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const schema = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: schema === undefined ? undefined : resolve(doc, schema),
      });
    }
  }
  return operations;
}

function resolve(doc: OpenApiDocument, schema: OpenApiSchema, depth = 0): OpenApiSchema {
  if (depth > 16) throw new Error('schema nests too deeply');
  const own = schema.$ref !== undefined ? doc.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')] : schema;
  if (own === undefined) throw new Error(`unresolved ${schema.$ref}`);
  return {
    ...own,
    ...(own.properties !== undefined ? { properties: Object.fromEntries(Object.entries(own.properties).map(([k, v]) => [k, resolve(doc, v, depth + 1)])) } : {}),
    ...(own.items !== undefined ? { items: resolve(doc, own.items, depth + 1) } : {}),
  };
}

/** A plausible value of a schema (examples, first enum values, minimal strings): the base that mutations break. */
export function sampleOf(schema: OpenApiSchema): unknown {
  if (schema.example !== undefined) return schema.example;
  if (schema.enum !== undefined && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sampleOf(v)]));
    case 'array':
      return schema.items !== undefined ? [sampleOf(schema.items)] : [];
    case 'string':
      return schema.format === 'uuid' ? '00000000-0000-4000-8000-000000000000' : 'x'.repeat(Math.max(12, schema.minLength ?? 0));
    case 'number':
    case 'integer':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case undefined:
    default:
      return schema.properties !== undefined ? sampleOf({ ...schema, type: 'object' }) : {};
  }
}

/** The JSON type a value has, as a schema names it. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? 'number' : typeof value;
}
