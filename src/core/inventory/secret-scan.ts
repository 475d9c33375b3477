// No secrets in Git: literal credentials in compose files, Tailscale keys and private keys in any
// text under hosts/. Messages say where the secret belongs and never repeat its value.
import { isMap, isScalar, isSeq } from 'yaml';
import type { Problem } from '../problem.js';
import type { YamlSource } from './yaml-source.js';
import { formatField } from './yaml-source.js';
import { scalarText } from './scalar-text.js';

/** Environment keys whose value is a credential. */
const SECRET_KEY = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|AUTH_?KEY|PRIVATE_?KEY|ACCESS_?KEY/i;
/** Settings about a secret rather than the secret: `*_FILE` names a file, `*_TTL` a duration... */
const SETTING_KEY = /_(FILE|PATH|DIR|ENABLED|DISABLED|TTL|EXPIRY|EXPIRES|LENGTH|TIMEOUT|MIN|MAX)$/i;
/** Flags and switches are not credentials. */
const FLAG_VALUE = /^(true|false|yes|no|on|off)$/i;
/** `${VAR}`, `${VAR:-x}`, `$VAR`: the value comes from the node's .env, not from Git. */
const INTERPOLATION = /(^|[^$])\$(\{[A-Za-z_]|[A-Za-z_])/;
const TAILSCALE_KEY = /tskey-[A-Za-z0-9]/g;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g;

export interface SecretHome {
  /** `<root>/config/<service>/.env` on the node, as the message should print it. */
  readonly envFile: string;
  readonly configDir: string;
}

/** A problem with any key-shaped text cut out: messages quote what the user wrote, never a secret. */
export function hideSecrets(p: Problem): Problem {
  const message = p.message
    .replace(/tskey-[A-Za-z0-9-]+/g, 'tskey-…')
    .replace(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g, 'a private key');
  return message === p.message ? p : { ...p, message };
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !SETTING_KEY.test(key);
}

/** Tailscale keys and private keys anywhere in a text file, with their line and column. */
export function scanText(file: string, text: string, home: SecretHome): Problem[] {
  const out: Problem[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(TAILSCALE_KEY))
      out.push({
        file,
        line: i + 1,
        col: (m.index ?? 0) + 1,
        field: '',
        message:
          `a Tailscale auth key is committed here: revoke it in the Tailscale admin console, put the new key in ` +
          `${home.envFile} on the node (for example TS_AUTHKEY=...) and reference it as \${TS_AUTHKEY}`,
      });
    for (const m of line.matchAll(PRIVATE_KEY))
      out.push({
        file,
        line: i + 1,
        col: (m.index ?? 0) + 1,
        field: '',
        message:
          `a private key is committed here: remove it from Git, replace it (it is no longer private), and keep ` +
          `the new one on the node under ${home.configDir}/, mounted into the container`,
      });
  });
  return out;
}

function literalSecret(value: unknown): boolean {
  if (value === null || value === undefined || typeof value === 'boolean') return false;
  const s = scalarText(value);
  if (s === '' || FLAG_VALUE.test(s)) return false;
  if (/tskey-|PRIVATE KEY/.test(s)) return false; // reported by scanText at its exact column
  return !INTERPOLATION.test(s);
}

function credentialMessage(key: string, home: SecretHome): string {
  return (
    `${key} is set to a literal value: secrets must not be committed to Git. Put ${key}=... in ` +
    `${home.envFile} on the node, write \${${key}} here instead, list ${key} under the service's ` +
    '"secrets:" in inventory/topology.yaml, and change the committed password'
  );
}

/** Literal credentials in the `environment:` of each compose service, at the value's position. */
export function scanComposeEnvironment(src: YamlSource, home: SecretHome): Problem[] {
  const out: Problem[] = [];
  for (const svc of src.pairsAt(['services'])) {
    const envPath = ['services', svc.key, 'environment'];
    const env =
      src.pairsAt(['services', svc.key]).find((p) => p.key === 'environment')?.value ?? null;
    if (isMap(env)) {
      for (const p of src.pairsAt(envPath)) {
        const v = isScalar(p.value) ? p.value.value : undefined;
        if (isSecretKey(p.key) && literalSecret(v))
          out.push(
            src.problem(
              src.position([...envPath, p.key]),
              formatField([...envPath, p.key]),
              credentialMessage(p.key, home),
            ),
          );
      }
    } else if (isSeq(env)) {
      env.items.forEach((item: unknown, i: number) => {
        if (!isScalar(item) || typeof item.value !== 'string') return;
        const eq = item.value.indexOf('=');
        if (eq < 0) return;
        const key = item.value.slice(0, eq);
        if (isSecretKey(key) && literalSecret(item.value.slice(eq + 1)))
          out.push(
            src.problem(
              src.position([...envPath, i]),
              formatField([...envPath, i]),
              credentialMessage(key, home),
            ),
          );
      });
    }
  }
  return out;
}
