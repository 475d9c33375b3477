// A real HTTPS Git server on loopback for tests: `git http-backend` behind node:https, with a
// self-signed certificate made at start and HTTP basic auth.
//
//   const srv = await startHttpsGit({ user: 'reader', token: 'read-token' });
//   git init --bare ${srv.root}/lab.git;  the nodes clone srv.url('lab.git')
//   node side: http.sslCAInfo = srv.caFile, the token in a credential helper
//   await srv.stop();
//
// What it sets up, per call:
// - A temp dir (srv.dir, mode 0755) holding key.pem and cert.pem from
//   `openssl req -x509 -newkey ec ... -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`
//   (the certificate is its own CA: srv.caFile, mode 0644 so other users can read it), and
//   srv.root, the GIT_PROJECT_ROOT (bare repos go there; the test process owns them).
// - An https server on 127.0.0.1 and a free port. Every request needs
//   `Authorization: Basic user:token`; otherwise 401 with `WWW-Authenticate: Basic` (Git then asks
//   its credential helper, and on a wrong token says "Authentication failed").
// - Each request runs `git http-backend` as a CGI: GIT_PROJECT_ROOT, GIT_HTTP_EXPORT_ALL=1,
//   PATH_INFO, QUERY_STRING, REQUEST_METHOD, CONTENT_TYPE, REMOTE_USER (and HTTP_CONTENT_ENCODING,
//   so http-backend itself inflates a gzip request body; HTTP_GIT_PROTOCOL for protocol v2). The
//   request body goes to its stdin; its stdout is parsed as CGI (headers, `Status:`, then body).
//   The token is read-only: receive-pack is off (http.receivepack=false), so a push over HTTPS
//   is refused (403); tests push to the bare repo's path under srv.root.
// - srv.requests counts the requests and their statuses (srv.statuses), for the test to check that
//   Git really went through this server.
//
// stop() closes the server (and its open sockets) and removes srv.dir.
import { execFile, spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/shell/free-port.js';

const run = promisify(execFile);

export interface HttpsGitOptions {
  /** The basic-auth user name the server accepts. */
  readonly user: string;
  /** The read token (the basic-auth password). */
  readonly token: string;
}

export interface HttpsGit {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Temp dir of this server (certificate, key, repos). */
  readonly dir: string;
  /** GIT_PROJECT_ROOT: bare repos created here are served at url(name). */
  readonly root: string;
  /** The self-signed certificate, which is its own CA (for http.sslCAInfo). */
  readonly caFile: string;
  /** `https://127.0.0.1:PORT/<name>` */
  url(name: string): string;
  /** Requests answered so far. */
  readonly requests: number;
  /** The status of every request answered, in order. */
  readonly statuses: readonly number[];
  stop(): Promise<void>;
}

export async function startHttpsGit(opts: HttpsGitOptions): Promise<HttpsGit> {
  const dir = mkdtempSync(join(tmpdir(), 'homelab-https-git-'));
  chmodSync(dir, 0o755);
  const root = join(dir, 'repos');
  mkdirSync(root, { mode: 0o755 });
  const keyFile = join(dir, 'key.pem');
  const caFile = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  chmodSync(caFile, 0o644);

  const expected = Buffer.from(
    `Basic ${Buffer.from(`${opts.user}:${opts.token}`).toString('base64')}`,
  );
  const authorized = (header: string | undefined): boolean => {
    const got = Buffer.from(header ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  const statuses: number[] = [];
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const done = (status: number): void => {
      statuses.push(status);
    };
    if (!authorized(req.headers.authorization)) {
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="homelab test git"',
        'Content-Type': 'text/plain',
      });
      res.end('authentication required\n');
      done(401);
      return;
    }
    const u = new URL(req.url ?? '/', 'https://127.0.0.1');
    const header = (name: string): string => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : (v ?? '');
    };
    const child = spawn('git', ['http-backend'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.replace(/^\?/, ''),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: header('content-type'),
        HTTP_CONTENT_ENCODING: header('content-encoding'),
        HTTP_GIT_PROTOCOL: header('git-protocol'),
        REMOTE_USER: opts.user,
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        GATEWAY_INTERFACE: 'CGI/1.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
        // The token reads: no push over HTTPS.
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.receivepack',
        GIT_CONFIG_VALUE_0: 'false',
      },
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let head = Buffer.alloc(0);
    let started = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (started) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      const sep = end === crlf ? 4 : 2;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      started = true;
      res.writeHead(status, headers);
      done(status);
      res.write(head.subarray(end + sep));
    });
    child.on('close', (code) => {
      if (!started) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited ${String(code)} without headers: ${stderr}\n`);
        done(500);
        return;
      }
      res.end();
    });
  };

  const key = readFileSync(keyFile);
  const cert = readFileSync(caFile);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // A throw in the handler answers 500 rather than leaving Git waiting for its timeout.
    const server: Server = createServer({ key, cert }, (req, res) => {
      try {
        handle(req, res);
      } catch (e) {
        statuses.push(500);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`https git server: ${String(e)}\n`);
      }
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
    } catch (e) {
      lastError = e;
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      dir,
      root,
      caFile,
      url: (name) => `https://127.0.0.1:${port}/${name}`,
      get requests() {
        return statuses.length;
      },
      statuses,
      stop: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`https git server: no free port on 127.0.0.1 (${String(lastError)})`);
}
