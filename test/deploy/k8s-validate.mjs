// Validates Kubernetes objects against the OpenAPI schemas that kubernetes-models ships
// (compiled ajv validators, ESM-only: so this runs as a child `node` process of the jest tests).
//
// stdin: a JSON array of objects. stdout: a JSON array, one entry per object:
//   { kind, name, errors: ["/spec/... must be integer", ...], unknownFields: ["/spec/template/spec/containers/0/bogus", ...] }
//
// Beyond the schema (types, required fields, enums), fields that the schema does not define are
// reported as unknownFields, as `kubectl apply --validate=strict` would: every object is wrapped
// in a Proxy that records which properties the validator reads; an own property the validator
// never looked at (and whose object it did not enumerate, as it does for maps such as labels)
// is not part of the schema.
import * as fs from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const input = JSON.parse(fs.readFileSync(0, 'utf8'));

/** kubernetes-models/<apiVersion>/<Kind> imports its validator from _schemas/<Name>.js. */
async function validatorFor(apiVersion, kind) {
  let modelUrl;
  try {
    modelUrl = import.meta.resolve(`kubernetes-models/${apiVersion}/${kind}`);
  } catch {
    return undefined;
  }
  const source = fs.readFileSync(fileURLToPath(modelUrl), 'utf8');
  const m = /_schemas\/(\w+)\.js/.exec(source);
  if (!m) return undefined;
  const mod = await import(`kubernetes-models/_schemas/${m[1]}`);
  return mod.validate;
}

function track(value, pointer, records) {
  if (typeof value !== 'object' || value === null) return value;
  const record = { pointer, keys: Object.keys(value), read: new Set(), enumerated: false };
  records.push(record);
  const target = Array.isArray(value) ? value.map((v, i) => track(v, `${pointer}/${i}`, records)) : {};
  if (!Array.isArray(value)) for (const [k, v] of Object.entries(value)) target[k] = track(v, `${pointer}/${k}`, records);
  if (Array.isArray(value)) record.keys = [];
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'string') record.read.add(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      if (typeof key === 'string') record.read.add(key);
      return Reflect.has(t, key);
    },
    ownKeys(t) {
      record.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

const results = [];
for (const obj of input) {
  const kind = obj?.kind;
  const name = obj?.metadata?.name;
  const validate = await validatorFor(obj?.apiVersion, kind);
  if (!validate) {
    results.push({ kind, name, errors: [`no schema for apiVersion ${obj?.apiVersion} kind ${kind}`], unknownFields: [] });
    continue;
  }
  const records = [];
  const proxied = track(obj, '', records);
  const ok = validate(proxied);
  const errors = ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  const unknownFields = [];
  for (const r of records) {
    if (r.enumerated) continue;
    for (const k of r.keys) if (!r.read.has(k)) unknownFields.push(`${r.pointer}/${k}`);
  }
  results.push({ kind, name, errors, unknownFields });
}
process.stdout.write(JSON.stringify(results));
