// A real HTTP server on 127.0.0.1 (node:http) that records every request it gets and answers 204:
// where the notify tests point `notify: url:`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly type: string;
  readonly path: string;
  readonly body: string;
}

export interface HttpReceiver {
  /** Every request so far, in arrival order. */
  readonly got: Received[];
  /** The receiver's URL with this path ('/topic'). */
  url(path: string): string;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({
        method: req.method ?? '',
        type: req.headers['content-type'] ?? '',
        path: req.url ?? '',
        body,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    got,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
