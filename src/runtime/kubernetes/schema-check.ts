/**
 * Validates Kubernetes objects against the API's own OpenAPI schemas (as compiled by
 * `kubernetes-models`, Kubernetes 1.27), for tests: no cluster runs here, so this is how the
 * objects the driver sends and the install manifests are checked. The schemas, like the API's,
 * do not reject unknown fields: the builders are typed with the same package's interfaces so
 * that a misspelt field fails `tsc` instead.
 */

interface Model {
  validate(): void;
}
type ModelClass = new (data: object) => Model;

/** Throws an Error naming the object and the first schema errors; resolves when it is valid. */
export async function validateObject(obj: {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
}) {
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind)
    throw new Error(`object without apiVersion or kind: ${JSON.stringify(obj).slice(0, 200)}`);
  // Core objects live at `kubernetes-models/v1`, the others at `kubernetes-models/<group>/<version>`.
  const mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, ModelClass | undefined>;
  const Kind = mod[kind];
  if (!Kind) throw new Error(`${apiVersion} has no kind ${kind}`);
  try {
    new Kind(obj).validate();
  } catch (err) {
    throw new Error(`${kind} ${obj.metadata?.name ?? '?'}: ${(err as Error).message}`);
  }
}
