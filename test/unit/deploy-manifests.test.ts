/**
 * deploy/ (Kubernetes kustomize base) and the Dockerfile agree with the code: valid YAML, the
 * kustomization lists exactly the manifests, ports and probes match libs/config/settings.ts and
 * the paths the apps serve, every JQ_* key is a known setting (loadConfig refuses unknown ones, so
 * a typo would crash-loop the pods), shutdown fits in the grace period, containers run as non-root.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { SETTING_KEYS, settingsSchema } from "../../libs/config/settings.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const BASE = join(DEPLOY, "kubernetes");
const APPS = ["api", "scheduler", "health"] as const;
type App = (typeof APPS)[number];
/** What libs/probes/probe-server.ts answers (besides /metrics, which is no probe). */
const PROBE_PATHS = new Set(["/healthz", "/readyz"]);
const EXPECTED_REPLICAS: Record<App, number> = { api: 2, scheduler: 2, health: 1 };

interface Meta {
  name: string;
  labels?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  grpc?: { port: number; service?: string };
  tcpSocket?: unknown;
  exec?: unknown;
}
interface Container {
  name: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        enableServiceLinks?: boolean;
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
      };
    };
  };
}
interface Service extends K8sObject {
  spec: { selector: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[] };
}
interface Hpa extends K8sObject {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics: { type: string; resource?: { name: string } }[];
  };
}
interface ConfigLike extends K8sObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    })
    .sort();
}

/** Every document of a file; throws on a YAML error (duplicate keys included) or warning. */
function parseFile(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, "utf8"), { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new Error(`${path}: not a YAML stream`);
  return docs
    .map((doc) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length > 0) throw new Error(`${relative(ROOT, path)}: ${problems.map((p) => p.message).join("; ")}`);
      return doc.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

const kustomization = parseFile(join(BASE, "kustomization.yaml"))[0] as { kind: string; resources: string[] };
const objects = kustomization.resources.flatMap((file) => parseFile(join(BASE, file)) as K8sObject[]);
const ofKind = <T extends K8sObject>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
const named = <T extends K8sObject>(kind: string, name: string): T => {
  const found = ofKind<T>(kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};

const deployments = ofKind<Deployment>("Deployment");
const configMaps = ofKind<ConfigLike>("ConfigMap");
const secrets = ofKind<ConfigLike>("Secret");
const secretValues = (s: ConfigLike): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])),
  ...(s.stringData ?? {}),
});
/** What the pods' environment holds from the ConfigMaps and Secrets they load with envFrom. */
const configEnv: Record<string, string> = Object.assign(
  {},
  ...configMaps.map((c) => c.data ?? {}),
  ...secrets.map(secretValues),
) as Record<string, string>;

const DEFAULTS = settingsSchema.parse({});
// As loadConfig does: an empty variable counts as unset.
// Unknown keys and bad values are reported by the "configuration" tests rather than at load time.
const PARSED = settingsSchema.safeParse(
  Object.fromEntries(Object.entries(configEnv).filter(([k, v]) => v.trim() !== "" && (SETTING_KEYS as string[]).includes(k))),
);
const EFFECTIVE = PARSED.success ? PARSED.data : DEFAULTS;
const httpPortOf = (app: App, s: typeof DEFAULTS): number =>
  ({ api: s.JQ_API_HTTP_PORT, scheduler: s.JQ_SCHEDULER_HTTP_PORT, health: s.JQ_HEALTH_HTTP_PORT })[app];

function deploymentOf(app: App): Deployment {
  const found = deployments.filter((d) => d.spec.template.metadata.labels["app.kubernetes.io/component"] === app);
  expect(found, `one Deployment for ${app}`).toHaveLength(1);
  return found[0]!;
}
function containerOf(app: App): Container {
  const containers = deploymentOf(app).spec.template.spec.containers;
  expect(containers, `${app}: one container`).toHaveLength(1);
  return containers[0]!;
}
function resolvePort(c: Container, port: number | string): number | undefined {
  return typeof port === "number" ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}
const probesOf = (c: Container) =>
  (["startupProbe", "readinessProbe", "livenessProbe"] as const).flatMap((kind) => (c[kind] ? [[kind, c[kind]] as const] : []));

describe("deploy/ YAML", () => {
  it("parses every document under deploy/ (no duplicate keys) and each is a Kubernetes object", () => {
    const files = yamlFiles(DEPLOY);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const docs = parseFile(file) as Partial<K8sObject>[];
      expect(docs.length, relative(ROOT, file)).toBeGreaterThan(0);
      for (const doc of docs) {
        expect(typeof doc.apiVersion, relative(ROOT, file)).toBe("string");
        expect(typeof doc.kind, relative(ROOT, file)).toBe("string");
      }
    }
  });

  it("parseFile refuses duplicate keys", () => {
    const docs = parseAllDocuments("a: 1\na: 2\n", { uniqueKeys: true });
    expect(Array.isArray(docs) && docs[0]!.errors.length).toBeGreaterThan(0);
  });

  it("the kustomization lists every manifest of the base, and each listed file exists", () => {
    expect(kustomization.kind).toBe("Kustomization");
    for (const file of kustomization.resources) expect(existsSync(join(BASE, file)), file).toBe(true);
    expect(new Set(kustomization.resources).size).toBe(kustomization.resources.length);
    const manifests = yamlFiles(BASE)
      .map((f) => relative(BASE, f))
      .filter((f) => f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(manifests);
  });

  it("has no two objects of one kind with one name", () => {
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("configuration", () => {
  it("sets only known JQ_* settings, with values the settings schema accepts", () => {
    const known = new Set<string>(SETTING_KEYS);
    for (const key of Object.keys(configEnv)) expect(known.has(key), `${key} is not in libs/config/settings.ts`).toBe(true);
    expect(PARSED.error?.issues ?? []).toEqual([]);
  });

  it("keeps JQ_DATABASE_URL and JQ_API_KEYS in a Secret, not in a ConfigMap", () => {
    for (const key of ["JQ_DATABASE_URL", "JQ_API_KEYS"]) {
      expect(configMaps.some((c) => key in (c.data ?? {})), key).toBe(false);
      expect(secrets.some((s) => key in secretValues(s)), key).toBe(true);
    }
  });

  it("every container loads the ConfigMap and the Secret with envFrom, and only known JQ_* env", () => {
    const known = new Set<string>(SETTING_KEYS);
    for (const app of APPS) {
      const c = containerOf(app);
      const refs = c.envFrom ?? [];
      for (const cm of configMaps) expect(refs.some((r) => r.configMapRef?.name === cm.metadata.name), `${app} ← ${cm.metadata.name}`).toBe(true);
      for (const s of secrets) expect(refs.some((r) => r.secretRef?.name === s.metadata.name), `${app} ← ${s.metadata.name}`).toBe(true);
      for (const r of refs) {
        if (r.configMapRef) named("ConfigMap", r.configMapRef.name);
        if (r.secretRef) named("Secret", r.secretRef.name);
      }
      for (const e of c.env ?? []) if (e.name.startsWith("JQ_")) expect(known.has(e.name), `${app}: ${e.name}`).toBe(true);
      const nodeId = c.env?.find((e) => e.name === "JQ_NODE_ID");
      expect(nodeId?.valueFrom?.fieldRef?.fieldPath, `${app}: JQ_NODE_ID from the pod name`).toBe("metadata.name");
    }
  });

  it("turns off service links, which would inject unknown JQ_*_SERVICE_HOST/PORT variables", () => {
    for (const d of deployments) expect(d.spec.template.spec.enableServiceLinks, d.metadata.name).toBe(false);
  });
});

describe("Deployments", () => {
  it.each(APPS)("%s: replicas, the app argument, selector and resources", (app) => {
    const d = deploymentOf(app);
    expect(d.spec.replicas).toBe(EXPECTED_REPLICAS[app]);
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    const c = containerOf(app);
    expect([...(c.command ?? []), ...(c.args ?? [])]).toContain(app);
    for (const kind of ["requests", "limits"] as const) {
      expect(c.resources?.[kind]?.cpu, `${app} ${kind}.cpu`).toBeDefined();
      expect(c.resources?.[kind]?.memory, `${app} ${kind}.memory`).toBeDefined();
    }
  });

  it.each(APPS)("%s: container ports are the configured ports", (app) => {
    const c = containerOf(app);
    const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    const expected: Record<string, number> = { http: httpPortOf(app, EFFECTIVE) };
    if (app === "api") expected.grpc = EFFECTIVE.JQ_GRPC_PORT;
    expect(ports).toEqual(expected);
  });

  it.each(APPS)("%s: probes use paths the apps serve, on the configured ports", (app) => {
    const c = containerOf(app);
    expect(c.readinessProbe, `${app} readinessProbe`).toBeDefined();
    expect(c.livenessProbe, `${app} livenessProbe`).toBeDefined();
    for (const [kind, probe] of probesOf(c)) {
      const what = `${app} ${kind}`;
      if (probe.httpGet) {
        expect(PROBE_PATHS.has(probe.httpGet.path), `${what}: ${probe.httpGet.path}`).toBe(true);
        expect(resolvePort(c, probe.httpGet.port), what).toBe(httpPortOf(app, EFFECTIVE));
      } else if (probe.grpc) {
        expect(app, `${what}: only the api serves gRPC`).toBe("api");
        expect(probe.grpc.port, what).toBe(EFFECTIVE.JQ_GRPC_PORT);
        // grpc.health.v1 status "" is the whole server (apps/api/grpc-server.ts).
        expect(probe.grpc.service ?? "", what).toBe("");
      } else {
        throw new Error(`${what}: expected an httpGet or grpc probe`);
      }
    }
    if (app === "api") {
      expect(c.readinessProbe?.grpc, "api readiness on grpc.health.v1").toBeDefined();
      expect(c.livenessProbe?.grpc, "api liveness on grpc.health.v1").toBeDefined();
    } else {
      expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
    }
  });

  it.each(APPS)("%s: the grace period outlasts JQ_SHUTDOWN_TIMEOUT_MS", (app) => {
    // 30 s is what Kubernetes applies when the field is absent, so the default is the real value.
    const grace = deploymentOf(app).spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(grace * 1000).toBeGreaterThan(EFFECTIVE.JQ_SHUTDOWN_TIMEOUT_MS);
  });

  it.each(APPS)("%s: runs as non-root, read-only, without privileges", (app) => {
    const pod = deploymentOf(app).spec.template.spec;
    const c = containerOf(app);
    expect(c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot).toBe(true);
    // Set explicitly: without it the image's user decides, and a missing field must fail here.
    const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    expect(uid, `${app} runAsUser`).toBeTypeOf("number");
    expect(uid).toBeGreaterThan(0);
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext?.capabilities?.drop).toContain("ALL");
  });
});

describe("Services and autoscaling", () => {
  it("each Service selects one Deployment and exposes its configured ports", () => {
    const services = ofKind<Service>("Service");
    expect(services.map((s) => s.spec.selector["app.kubernetes.io/component"]).sort()).toEqual(["api", "health"]);
    for (const s of services) {
      const app = s.spec.selector["app.kubernetes.io/component"] as App;
      const labels = deploymentOf(app).spec.template.metadata.labels;
      for (const [k, v] of Object.entries(s.spec.selector)) expect(labels[k], `${s.metadata.name} selector ${k}`).toBe(v);
      const c = containerOf(app);
      const expected: Record<string, number> = { http: httpPortOf(app, EFFECTIVE) };
      if (app === "api") expected.grpc = EFFECTIVE.JQ_GRPC_PORT;
      expect(Object.fromEntries(s.spec.ports.map((p) => [p.name, p.port]))).toEqual(expected);
      for (const p of s.spec.ports) expect(resolvePort(c, p.targetPort ?? p.port), `${s.metadata.name} ${p.name}`).toBe(expected[p.name ?? ""]);
    }
  });

  it("an autoscaling/v2 HPA scales the api Deployment on CPU", () => {
    const hpas = ofKind<Hpa>("HorizontalPodAutoscaler");
    expect(hpas).toHaveLength(1);
    const hpa = hpas[0]!;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: deploymentOf("api").metadata.name });
    expect(hpa.spec.metrics.some((m) => m.type === "Resource" && m.resource?.name === "cpu")).toBe(true);
    expect(hpa.spec.minReplicas ?? 1).toBeLessThanOrEqual(EXPECTED_REPLICAS.api);
    expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas ?? 1);
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const instructions = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("#"))
    .map((l) => {
      const [op = "", ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
  const lastStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf("FROM"));

  it("is multi-stage", () => {
    expect(instructions.filter((i) => i.op === "FROM").length).toBeGreaterThanOrEqual(2);
  });

  it("runs the final stage as a non-root user, numeric so runAsNonRoot can check it", () => {
    const users = lastStage.filter((i) => i.op === "USER");
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(":")[0]!;
    expect(user).toMatch(/^\d+$/);
    expect(user).not.toBe("0");
  });

  it("EXPOSEs the default ports", () => {
    const exposed = lastStage
      .filter((i) => i.op === "EXPOSE")
      .flatMap((i) => i.args.split(/\s+/))
      .map((p) => Number(p.split("/")[0]))
      .sort();
    const expected = [DEFAULTS.JQ_GRPC_PORT, ...APPS.map((a) => httpPortOf(a, DEFAULTS))].sort();
    expect(exposed).toEqual(expected);
  });

  it("copies what the runtime needs: dist, migrations, the descriptor set, package.json, node_modules", () => {
    const copies = lastStage.filter((i) => i.op === "COPY").map((i) => i.args);
    const copied = (source: RegExp, target: RegExp) => copies.some((c) => source.test(c) && target.test(c));
    expect(copied(/\/dist\b/, /\s\.?\/?(app\/)?dist\/?$/)).toBe(true);
    expect(copied(/\/migrations\b/, /\s\.?\/?(app\/)?migrations\/?$/)).toBe(true);
    // DESCRIPTOR_SET_PATH (libs/proto/index.ts) looks at ../../../libs/proto/gen/jq.binpb from dist.
    expect(copied(/libs\/proto\/gen\/jq\.binpb/, /\s\.?\/?(app\/)?libs\/proto\/gen\/(jq\.binpb)?$/)).toBe(true);
    expect(copied(/package\.json/, /package\.json$|\s\.\/?$/)).toBe(true);
    expect(copied(/node_modules/, /node_modules\/?$/)).toBe(true);
  });

  it("starts the app through an entry point that knows every app", () => {
    const entry = readFileSync(join(DEPLOY, "docker", "entrypoint.sh"), "utf8");
    for (const app of APPS) {
      expect(existsSync(join(ROOT, "apps", app, "main.ts")), app).toBe(true);
      expect(entry).toContain(app);
    }
    expect(entry).toContain("exec node");
    expect(lastStage.some((i) => i.op === "COPY" && i.args.includes("deploy/docker/entrypoint.sh"))).toBe(true);
  });

  it("sets no unknown JQ_* variable (loadConfig would refuse it)", () => {
    const known = new Set<string>(SETTING_KEYS);
    const keys = instructions.filter((i) => i.op === "ENV").flatMap((i) => [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys.filter((k) => k.startsWith("JQ_"))) expect(known.has(key), key).toBe(true);
  });
});
