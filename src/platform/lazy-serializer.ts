import { type SerializerFactory, SerializerSelector } from '@fastify/fast-json-stringify-compiler';

const eager = SerializerSelector();

/**
 * Fastify's own response serializers (fast-json-stringify: only the fields a response schema
 * names are sent), each built on its first use instead of at start. Building every route's took
 * about half a second of each start (decision 045).
 */
export const lazySerializers: SerializerFactory = (externalSchemas, options) => {
  const compile = eager(externalSchemas, options);
  return (route) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc) => {
      serialize ??= compile(route);
      return serialize(doc);
    };
  };
};
