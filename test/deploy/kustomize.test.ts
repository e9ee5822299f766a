/** The test renderer (./kustomize.ts) behaves as kustomize does for the features deploy/ uses. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kustomizationDirs, KUBERNETES } from './helpers';
import { applyJson6902, imageName, imageTag, kubectlAvailable, kubectlKustomize, renderKustomization, strategicMerge, type JsonObject, type Manifest } from './kustomize';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-kustomize-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  const f = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      initContainers:
        - { name: side, image: side:1, restartPolicy: Always }
      containers:
        - name: main
          image: registry.example.com:5000/team/main:1.0
          env: [{ name: A, value: "1" }, { name: B, value: "2" }]
          ports: [{ containerPort: 80 }]
          resources: { requests: { cpu: 10m } }
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
`;
const NAMESPACE = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod }\n';

function base(): void {
  write('base/kustomization.yaml', 'resources: [deploy.yaml, svc.yaml]\n');
  write('base/deploy.yaml', DEPLOYMENT);
  write('base/svc.yaml', SERVICE);
}

const find = (ms: Manifest[], kind: string): Manifest => ms.find((m) => m.kind === kind)!;
const containers = (m: Manifest): JsonObject[] => ((m.spec as any).template.spec.containers as JsonObject[]);

describe('renderKustomization', () => {
  test('resources: files (multi-document) and nested kustomizations, all files recorded', () => {
    base();
    write('overlay/kustomization.yaml', 'resources: [../base, ns.yaml]\n');
    write('overlay/ns.yaml', `${NAMESPACE}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n`);
    const r = renderKustomization(path.join(tmp, 'overlay'));
    expect(r.manifests.map((m) => m.kind)).toEqual(['Deployment', 'Service', 'Namespace', 'ConfigMap']);
    expect([...r.files].map((f) => path.relative(tmp, f)).sort()).toEqual(
      ['base/deploy.yaml', 'base/kustomization.yaml', 'base/svc.yaml', 'overlay/kustomization.yaml', 'overlay/ns.yaml'].sort(),
    );
  });

  test('namespace applies to namespaced objects only', () => {
    base();
    write('o/kustomization.yaml', 'namespace: prod\nresources: [../base, ns.yaml]\n');
    write('o/ns.yaml', NAMESPACE);
    const ms = renderKustomization(path.join(tmp, 'o')).manifests;
    expect(find(ms, 'Deployment').metadata.namespace).toBe('prod');
    expect(find(ms, 'Service').metadata.namespace).toBe('prod');
    expect(find(ms, 'Namespace').metadata.namespace).toBeUndefined();
  });

  test('labels: metadata and templates; selectors only with includeSelectors', () => {
    base();
    write('a/kustomization.yaml', 'resources: [../base]\nlabels:\n  - pairs: { team: x }\n    includeTemplates: true\n');
    const a = renderKustomization(path.join(tmp, 'a')).manifests;
    const d = find(a, 'Deployment');
    expect(d.metadata.labels).toEqual({ app: 'web', team: 'x' });
    expect((d.spec as any).template.metadata.labels).toEqual({ app: 'web', team: 'x' });
    expect((d.spec as any).selector.matchLabels).toEqual({ app: 'web' });
    expect((find(a, 'Service').spec as any).selector).toEqual({ app: 'web' });

    write('b/kustomization.yaml', 'resources: [../base]\ncommonLabels: { team: y }\n');
    const b = renderKustomization(path.join(tmp, 'b')).manifests;
    expect((find(b, 'Deployment').spec as any).selector.matchLabels).toEqual({ app: 'web', team: 'y' });
    expect((find(b, 'Service').spec as any).selector).toEqual({ app: 'web', team: 'y' });
  });

  test('images: newName and newTag by image name, in containers and init containers', () => {
    base();
    write(
      'o/kustomization.yaml',
      'resources: [../base]\nimages:\n  - { name: registry.example.com:5000/team/main, newTag: "2.0" }\n  - { name: side, newName: other/side, newTag: "3" }\n',
    );
    const d = find(renderKustomization(path.join(tmp, 'o')).manifests, 'Deployment');
    expect(containers(d)[0]!.image).toBe('registry.example.com:5000/team/main:2.0');
    expect((d.spec as any).template.spec.initContainers[0].image).toBe('other/side:3');
  });

  test('strategic-merge patch: containers and env merge by name, maps merge, lists without a key are replaced', () => {
    base();
    write('o/kustomization.yaml', 'resources: [../base]\npatches:\n  - path: p.yaml\n');
    write(
      'o/p.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers:
        - name: main
          env: [{ name: B, value: "20" }, { name: C, value: "3" }]
          resources: { limits: { cpu: "1" } }
          args: [x]
        - name: extra
          image: extra:1
`,
    );
    const d = find(renderKustomization(path.join(tmp, 'o')).manifests, 'Deployment');
    const [main, extra] = containers(d);
    expect(main!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '20' },
      { name: 'C', value: '3' },
    ]);
    expect(main!.resources).toEqual({ requests: { cpu: '10m' }, limits: { cpu: '1' } });
    expect(main!.image).toBe('registry.example.com:5000/team/main:1.0');
    expect(main!.args).toEqual(['x']);
    expect(extra!.name).toBe('extra');
  });

  test('JSON 6902 patch with a target; a patch that matches nothing is an error', () => {
    base();
    write(
      'o/kustomization.yaml',
      'resources: [../base]\npatches:\n  - target: { kind: Deployment, name: web }\n    patch: |\n      - { op: replace, path: /spec/template/spec/containers/0/image, value: "x:1" }\n      - { op: add, path: /spec/replicas, value: 3 }\n',
    );
    const d = find(renderKustomization(path.join(tmp, 'o')).manifests, 'Deployment');
    expect(containers(d)[0]!.image).toBe('x:1');
    expect((d.spec as any).replicas).toBe(3);

    write('bad/kustomization.yaml', 'resources: [../base]\npatches:\n  - path: p.yaml\n');
    write('bad/p.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: nope }\nspec: { replicas: 1 }\n');
    expect(() => renderKustomization(path.join(tmp, 'bad'))).toThrow(/matches no resource/);
  });

  test('refuses what it does not implement, duplicates, and files outside the root', () => {
    base();
    write('gen/kustomization.yaml', 'resources: [../base]\nconfigMapGenerator: [{ name: x, literals: [a=b] }]\n');
    expect(() => renderKustomization(path.join(tmp, 'gen'))).toThrow(/configMapGenerator.*not supported/);
    write('dup/kustomization.yaml', 'resources: [../base, svc.yaml]\n');
    write('dup/svc.yaml', SERVICE);
    expect(() => renderKustomization(path.join(tmp, 'dup'))).toThrow(/appears twice/);
    write('out/kustomization.yaml', 'resources: [../base/svc.yaml]\n');
    expect(() => renderKustomization(path.join(tmp, 'out'))).toThrow(/outside the kustomization root/);
  });
});

describe('strategicMerge', () => {
  test('$patch: delete removes a list item; null removes a key; $patch: replace replaces a map', () => {
    const b = { spec: { containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }], x: 1, m: { k: 1, j: 2 } } };
    const merged = strategicMerge(b, { spec: { containers: [{ name: 'a', $patch: 'delete' }], x: null, m: { $patch: 'replace', z: 3 } } }, []);
    expect(merged).toEqual({ spec: { containers: [{ name: 'b', image: 'b' }], m: { z: 3 } } });
  });

  test('container ports merge by containerPort, Service ports by port, volumeMounts by mountPath', () => {
    const ports = strategicMerge([{ containerPort: 80, name: 'a' }], [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81 }], ['spec', 'containers', 'ports']);
    expect(ports).toEqual([{ containerPort: 80, name: 'a', protocol: 'TCP' }, { containerPort: 81 }]);
    expect(strategicMerge([{ port: 1, name: 'x' }], [{ port: 1, targetPort: 2 }], ['spec', 'ports'])).toEqual([{ port: 1, name: 'x', targetPort: 2 }]);
    expect(strategicMerge([{ mountPath: '/a', name: 'v' }], [{ mountPath: '/a', readOnly: true }], ['containers', 'volumeMounts'])).toEqual([
      { mountPath: '/a', name: 'v', readOnly: true },
    ]);
  });
});

describe('applyJson6902', () => {
  test('add, remove, replace, test, move, copy; escaped pointers', () => {
    const doc = { a: { 'b/c': 1 }, l: [1, 2] };
    expect(
      applyJson6902(doc, [
        { op: 'test', path: '/a/b~1c', value: 1 },
        { op: 'add', path: '/l/-', value: 3 },
        { op: 'add', path: '/l/0', value: 0 },
        { op: 'remove', path: '/l/1' },
        { op: 'replace', path: '/a/b~1c', value: 2 },
        { op: 'copy', from: '/a', path: '/c' },
        { op: 'move', from: '/c', path: '/d' },
      ]),
    ).toEqual({ a: { 'b/c': 2 }, l: [0, 2, 3], d: { 'b/c': 2 } });
    expect(() => applyJson6902(doc, [{ op: 'test', path: '/l/0', value: 9 }])).toThrow(/test failed/);
    expect(() => applyJson6902(doc, [{ op: 'remove', path: '/zz' }])).toThrow(/missing/);
  });
});

test('image references: name and tag', () => {
  expect(imageName('registry:5000/a/b:1.2@sha256:abc')).toBe('registry:5000/a/b');
  expect(imageTag('registry:5000/a/b:1.2@sha256:abc')).toBe('1.2');
  expect(imageTag('registry:5000/a/b')).toBeUndefined();
  expect(imageName('busybox')).toBe('busybox');
});

// The deploy tests render with kubectl where it is installed; where it is not, they rely on the in-process renderer, kept faithful here.
(kubectlAvailable ? describe : describe.skip)('the in-process renderer against kubectl kustomize', () => {
  const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
  const byKey = (ms: Manifest[]) => Object.fromEntries(ms.map((m) => [key(m), m]));
  test.each(kustomizationDirs().map((d) => [path.relative(KUBERNETES, d), d]))('deploy/kubernetes/%s renders the same', (_rel, dir) => {
    expect(byKey(renderKustomization(dir).manifests)).toEqual(byKey(kubectlKustomize(dir)));
  });
});
