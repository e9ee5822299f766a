/**
 * Rendering deploy/kubernetes: `kubectl kustomize` where kubectl is installed (renderManifests),
 * else a small in-process kustomize renderer — enough of `kustomize build` for these files, so
 * the tests also run without kubectl, and checked against kubectl where both are present. Supported kustomization fields: resources (files
 * and directories), patches (strategic merge, or JSON 6902 with a target), patchesStrategicMerge,
 * namespace, labels (pairs, includeSelectors, includeTemplates), commonLabels,
 * commonAnnotations, images. Anything else (generators, name prefixes, replacements, …) is
 * refused with an error, so a kustomization that uses it fails the tests rather than rendering
 * wrongly here. As in kustomize, a patch that matches nothing and a duplicate resource are errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A Kubernetes object as rendered. */
export interface Manifest extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface Rendered {
  readonly manifests: Manifest[];
  /** Every file read while rendering (kustomization files, resources, patches), absolute paths. */
  readonly files: ReadonlySet<string>;
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'patches',
  'patchesStrategicMerge',
  'namespace',
  'labels',
  'commonLabels',
  'commonAnnotations',
  'images',
]);

/** Kinds that have no namespace (the ones a kustomization here could plausibly hold). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'IngressClass',
  'RuntimeClass',
]);

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Parses a YAML file that may hold several documents; empty documents are skipped. */
export function readYamlDocuments(file: string): Json[] {
  return parseYamlDocuments(fs.readFileSync(file, 'utf8'), file);
}

function parseYamlDocuments(text: string, source: string): Json[] {
  const docs = parseAllDocuments(text);
  const out: Json[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${source}: ${d.errors.map((e) => e.message).join('; ')}`);
    const value = d.toJS({ maxAliasCount: -1 }) as Json;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function kustomizationFile(dir: string): string {
  for (const name of KUSTOMIZATION_FILES) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

function asManifest(doc: Json, where: string): Manifest {
  if (!isObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || !isObject(doc.metadata) || typeof doc.metadata.name !== 'string') {
    throw new Error(`${where}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
  }
  return doc as Manifest;
}

function idOf(m: Manifest): string {
  return `${m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : ''}/${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
}

/** Renders the kustomization in dir, as `kustomize build dir` would. */
/** Whether `kubectl kustomize` can render here. */
export const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

/** The real renderer's output. */
export function kubectlKustomize(dir: string): Manifest[] {
  return parseYamlDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 << 20 }), `kubectl kustomize ${dir}`) as Manifest[];
}

/** Manifests of a kustomization: kubectl's rendering when installed, the in-process one otherwise. */
export function renderManifests(dir: string): Manifest[] {
  return kubectlAvailable ? kubectlKustomize(dir) : renderKustomization(dir).manifests;
}

/** The in-process renderer; `files` lists what it read. */
export function renderKustomization(dir: string): Rendered {
  const files = new Set<string>();
  const manifests = build(path.resolve(dir), files, []);
  return { manifests, files };
}

function build(dir: string, files: Set<string>, stack: readonly string[]): Manifest[] {
  if (stack.includes(dir)) throw new Error(`kustomization cycle: ${[...stack, dir].join(' -> ')}`);
  const kfile = kustomizationFile(dir);
  files.add(kfile);
  const docs = readYamlDocuments(kfile);
  if (docs.length !== 1 || !isObject(docs[0])) throw new Error(`${kfile}: expected one mapping`);
  const k = docs[0];
  if (k.kind !== undefined && k.kind !== 'Kustomization') throw new Error(`${kfile}: kind must be Kustomization`);
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(key)) throw new Error(`${kfile}: field "${key}" is not supported by the test renderer (test/deploy/kustomize.ts)`);
  }

  // 1. resources, in order; a directory is a nested kustomization.
  let out: Manifest[] = [];
  for (const ref of (k.resources as Json[] | undefined) ?? []) {
    if (typeof ref !== 'string') throw new Error(`${kfile}: resources entries must be paths`);
    if (/^[a-z]+:\/\//.test(ref)) throw new Error(`${kfile}: remote resource ${ref} not supported`);
    const p = path.resolve(dir, ref);
    if (!fs.existsSync(p)) throw new Error(`${kfile}: resource ${ref} does not exist`);
    if (fs.statSync(p).isDirectory()) {
      out.push(...build(p, files, [...stack, dir]));
    } else {
      if (path.relative(dir, p).startsWith('..')) throw new Error(`${kfile}: file ${ref} is outside the kustomization root (kustomize refuses it)`);
      files.add(p);
      out.push(...readYamlDocuments(p).map((d, i) => asManifest(d, `${p}#${i}`)));
    }
  }
  const seen = new Set<string>();
  for (const m of out) {
    const id = idOf(m);
    if (seen.has(id)) throw new Error(`${kfile}: resource ${id} appears twice`);
    seen.add(id);
  }

  // 2. patches.
  const patches: { patch: Json; target?: JsonObject; where: string }[] = [];
  for (const p of (k.patches as Json[] | undefined) ?? []) {
    if (!isObject(p)) throw new Error(`${kfile}: patches entries must be mappings`);
    const target = isObject(p.target) ? p.target : undefined;
    if (typeof p.path === 'string') {
      const file = path.resolve(dir, p.path);
      files.add(file);
      const parsed = readYamlDocuments(file);
      for (const doc of parsed) patches.push({ patch: doc, ...(target ? { target } : {}), where: file });
    } else if (typeof p.patch === 'string') {
      for (const doc of parseAllDocuments(p.patch).map((d) => d.toJS() as Json)) patches.push({ patch: doc, ...(target ? { target } : {}), where: `${kfile} (inline patch)` });
    } else {
      throw new Error(`${kfile}: a patch needs path or patch`);
    }
  }
  for (const ref of (k.patchesStrategicMerge as Json[] | undefined) ?? []) {
    if (typeof ref !== 'string') throw new Error(`${kfile}: patchesStrategicMerge entries must be paths`);
    const file = path.resolve(dir, ref);
    files.add(file);
    for (const doc of readYamlDocuments(file)) patches.push({ patch: doc, where: file });
  }
  for (const { patch, target, where } of patches) out = applyPatch(out, patch, target, where);

  // 3. namespace.
  if (typeof k.namespace === 'string') {
    for (const m of out) if (!CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = k.namespace;
  }

  // 4. labels and annotations.
  if (isObject(k.commonLabels)) addLabels(out, stringMap(k.commonLabels, kfile), true, true);
  for (const l of (k.labels as Json[] | undefined) ?? []) {
    if (!isObject(l) || !isObject(l.pairs)) throw new Error(`${kfile}: labels entries need pairs`);
    const selectors = l.includeSelectors === true;
    addLabels(out, stringMap(l.pairs, kfile), selectors, selectors || l.includeTemplates === true);
  }
  if (isObject(k.commonAnnotations)) {
    const ann = stringMap(k.commonAnnotations, kfile);
    for (const m of out) {
      m.metadata.annotations = { ...m.metadata.annotations, ...ann };
      const tmpl = podTemplate(m);
      if (tmpl) {
        const meta = ensureObject(tmpl, 'metadata');
        meta.annotations = { ...(meta.annotations as JsonObject | undefined), ...ann };
      }
    }
  }

  // 5. images.
  for (const img of (k.images as Json[] | undefined) ?? []) {
    if (!isObject(img) || typeof img.name !== 'string') throw new Error(`${kfile}: images entries need name`);
    for (const m of out) {
      for (const c of podContainers(m)) {
        if (typeof c.image === 'string' && imageName(c.image) === img.name) c.image = rewriteImage(c.image, img);
      }
    }
  }
  return out;
}

function stringMap(v: JsonObject, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new Error(`${where}: label/annotation ${key} must be a string`);
    out[key] = value;
  }
  return out;
}

function ensureObject(parent: JsonObject, key: string): JsonObject {
  const v = parent[key];
  if (isObject(v)) return v;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

/** The pod template of a workload, or undefined. */
export function podTemplate(m: Manifest): JsonObject | undefined {
  const spec = m.spec;
  if (!isObject(spec)) return undefined;
  if (m.kind === 'CronJob' && isObject(spec.jobTemplate) && isObject(spec.jobTemplate.spec) && isObject(spec.jobTemplate.spec.template)) {
    return spec.jobTemplate.spec.template;
  }
  if ((WORKLOADS.has(m.kind) || m.kind === 'PodTemplate') && isObject(spec.template)) return spec.template;
  return undefined;
}

/** The pod spec of a Pod or of a workload's template. */
export function podSpec(m: Manifest): JsonObject | undefined {
  if (m.kind === 'Pod') return isObject(m.spec) ? m.spec : undefined;
  const t = podTemplate(m);
  return t && isObject(t.spec) ? t.spec : undefined;
}

/** Containers and init containers (including native sidecars) of a pod spec. */
export function podContainers(m: Manifest): JsonObject[] {
  const spec = podSpec(m);
  if (!spec) return [];
  const out: JsonObject[] = [];
  for (const key of ['initContainers', 'containers', 'ephemeralContainers']) {
    const list = spec[key];
    if (Array.isArray(list)) for (const c of list) if (isObject(c)) out.push(c);
  }
  return out;
}

function addLabels(out: Manifest[], labels: Record<string, string>, selectors: boolean, templates: boolean): void {
  for (const m of out) {
    m.metadata.labels = { ...m.metadata.labels, ...labels };
    const spec = isObject(m.spec) ? m.spec : undefined;
    if (templates) {
      const t = podTemplate(m);
      if (t) {
        const meta = ensureObject(t, 'metadata');
        meta.labels = { ...(meta.labels as JsonObject | undefined), ...labels };
      }
    }
    if (!selectors || !spec) continue;
    if (m.kind === 'Service' || m.kind === 'ReplicationController') {
      spec.selector = { ...(isObject(spec.selector) ? spec.selector : {}), ...labels };
    } else if (WORKLOADS.has(m.kind) && m.kind !== 'Job') {
      const sel = ensureObject(spec, 'selector');
      sel.matchLabels = { ...(sel.matchLabels as JsonObject | undefined), ...labels };
    } else if (m.kind === 'PodDisruptionBudget') {
      const sel = ensureObject(spec, 'selector');
      sel.matchLabels = { ...(sel.matchLabels as JsonObject | undefined), ...labels };
    }
  }
}

/** `registry:5000/team/app:1.2@sha256:…` → `registry:5000/team/app`. */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

/** The tag of an image reference, or undefined. */
export function imageTag(image: string): string | undefined {
  const noDigest = image.split('@')[0]!;
  const name = imageName(image);
  return noDigest.length > name.length ? noDigest.slice(name.length + 1) : undefined;
}

function rewriteImage(image: string, img: JsonObject): string {
  const name = typeof img.newName === 'string' ? img.newName : imageName(image);
  if (typeof img.digest === 'string') return `${name}@${img.digest}`;
  const tag = typeof img.newTag === 'string' ? img.newTag : imageTag(image);
  return tag === undefined ? name : `${name}:${tag}`;
}

// ---------------------------------------------------------------------------------------------
// Patches

function matchesTarget(m: Manifest, target: JsonObject): boolean {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const checks: [string, string | undefined][] = [
    ['kind', m.kind],
    ['name', m.metadata.name],
    ['namespace', m.metadata.namespace],
    ['group', group],
    ['version', version],
  ];
  for (const [key, actual] of checks) {
    const want = target[key];
    if (want === undefined) continue;
    if (typeof want !== 'string' || !new RegExp(`^(?:${want})$`).test(actual ?? '')) return false;
  }
  if (typeof target.labelSelector === 'string') {
    for (const term of target.labelSelector.split(',')) {
      const [key, value] = term.split('=').map((s) => s.trim());
      if (m.metadata.labels?.[key!] !== value) return false;
    }
  }
  return true;
}

function applyPatch(out: Manifest[], patch: Json, target: JsonObject | undefined, where: string): Manifest[] {
  if (Array.isArray(patch)) {
    if (!target) throw new Error(`${where}: a JSON 6902 patch needs a target`);
    const hits = out.filter((m) => matchesTarget(m, target));
    if (hits.length === 0) throw new Error(`${where}: patch target matches no resource`);
    return out.map((m) => (hits.includes(m) ? (applyJson6902(m, patch, where) as Manifest) : m));
  }
  if (!isObject(patch)) throw new Error(`${where}: a patch must be a mapping or a list of operations`);
  const meta = isObject(patch.metadata) ? patch.metadata : {};
  const hits = out.filter((m) =>
    target
      ? matchesTarget(m, target)
      : m.kind === patch.kind && m.metadata.name === meta.name && (meta.namespace === undefined || meta.namespace === m.metadata.namespace),
  );
  if (hits.length === 0) throw new Error(`${where}: patch for ${String(patch.kind)} ${String(meta.name)} matches no resource`);
  return out.flatMap((m) => {
    if (!hits.includes(m)) return [m];
    if (patch.$patch === 'delete') return [];
    const body = clone(patch);
    if (target) {
      // With a target the patch's own name does not rename the resource.
      delete body.metadata;
      if (isObject(patch.metadata)) {
        const { name: _n, namespace: _ns, ...rest } = patch.metadata;
        body.metadata = rest;
      }
    }
    return [strategicMerge(m, body, []) as Manifest];
  });
}

/**
 * Merge key of a list field, by the path of its parent keys (the subset of the Kubernetes
 * strategic-merge metadata that pod specs and Services use). Lists without one are replaced.
 */
function mergeKey(pathKeys: readonly string[]): string | undefined {
  const last = pathKeys[pathKeys.length - 1];
  switch (last) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'hostAliases':
      return 'ip';
    case 'volumeMounts':
    case 'volumeDevices':
      return 'mountPath';
    case 'ports':
      // Container ports merge by containerPort, Service ports by port.
      return pathKeys.some((k) => k === 'containers' || k === 'initContainers') ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/** Strategic merge of patch into base (a new value; base is not modified). */
export function strategicMerge(base: Json, patch: Json, pathKeys: readonly string[]): Json {
  if (isObject(patch) && isObject(base)) {
    if (patch.$patch === 'replace') {
      const { $patch: _p, ...rest } = patch;
      return clone(rest);
    }
    const out: JsonObject = clone(base);
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') continue;
      if (value === null) {
        delete out[key];
      } else if (key in out) {
        out[key] = strategicMerge(out[key]!, value, [...pathKeys, key]);
      } else {
        out[key] = stripDirectives(value);
      }
    }
    return out;
  }
  if (Array.isArray(patch) && Array.isArray(base)) {
    const key = mergeKey(pathKeys);
    if (!key) return stripDirectives(patch);
    const out: Json[] = clone(base);
    for (const item of patch) {
      if (!isObject(item) || item[key] === undefined) throw new Error(`strategic merge: items of ${pathKeys.join('.')} need "${key}"`);
      const i = out.findIndex((b) => isObject(b) && b[key] === item[key]);
      if (item.$patch === 'delete') {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) {
        out[i] = strategicMerge(out[i]!, item, pathKeys);
      } else {
        out.push(stripDirectives(item));
      }
    }
    return out;
  }
  return stripDirectives(patch);
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => !(isObject(x) && x.$patch === 'delete')).map(stripDirectives);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(v)) if (key !== '$patch' && value !== null) out[key] = stripDirectives(value);
    return out;
  }
  return v;
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`JSON pointer must start with /: ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 add / remove / replace / test / copy / move. */
export function applyJson6902(doc: Json, ops: Json[], where = 'JSON patch'): Json {
  let out = clone(doc);
  const get = (tokens: string[]): Json | undefined => {
    let cur: Json | undefined = out;
    for (const t of tokens) {
      if (Array.isArray(cur)) cur = cur[Number(t)];
      else if (isObject(cur)) cur = cur[t];
      else return undefined;
    }
    return cur;
  };
  const parentOf = (tokens: string[]): { parent: Json; last: string } => {
    const parent = get(tokens.slice(0, -1));
    if (parent === undefined || (typeof parent !== 'object' || parent === null)) throw new Error(`${where}: path /${tokens.join('/')} has no parent`);
    return { parent, last: tokens[tokens.length - 1]! };
  };
  const add = (tokens: string[], value: Json): void => {
    if (tokens.length === 0) {
      out = value;
      return;
    }
    const { parent, last } = parentOf(tokens);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!(i >= 0 && i <= parent.length)) throw new Error(`${where}: index ${last} out of range`);
      parent.splice(i, 0, value);
    } else (parent as JsonObject)[last] = value;
  };
  const remove = (tokens: string[]): Json => {
    const { parent, last } = parentOf(tokens);
    const existing = get(tokens);
    if (existing === undefined) throw new Error(`${where}: cannot remove missing /${tokens.join('/')}`);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as JsonObject)[last];
    return existing;
  };
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new Error(`${where}: bad operation ${JSON.stringify(op)}`);
    const tokens = pointer(op.path);
    switch (op.op) {
      case 'add':
        add(tokens, clone(op.value ?? null));
        break;
      case 'remove':
        remove(tokens);
        break;
      case 'replace':
        remove(tokens);
        add(tokens, clone(op.value ?? null));
        break;
      case 'test':
        if (JSON.stringify(get(tokens)) !== JSON.stringify(op.value)) throw new Error(`${where}: test failed at ${op.path}`);
        break;
      case 'copy':
      case 'move': {
        if (typeof op.from !== 'string') throw new Error(`${where}: ${op.op} needs from`);
        const from = pointer(op.from);
        const value = op.op === 'move' ? remove(from) : clone(get(from));
        if (value === undefined) throw new Error(`${where}: ${op.from} does not exist`);
        add(tokens, value);
        break;
      }
      default:
        throw new Error(`${where}: unknown op ${op.op}`);
    }
  }
  return out;
}
