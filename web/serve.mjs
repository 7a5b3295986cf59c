#!/usr/bin/env node
// A tiny static file server for the demo and the browser test, no dependencies:
//   node web/serve.mjs [--port 8080] [--root DIR]    (root: the repository)
// then open http://localhost:8080/web/demo/. Serves files only (no directory listings), never
// outside the root, with the right MIME type for .wasm (needed for streaming compilation).

import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.toml': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Starts the server; resolves to {server, url} once listening (port 0 picks a free port). */
export function serve({ root = fileURLToPath(new URL('..', import.meta.url)), port = 8080, host = '127.0.0.1', quiet = false } = {}) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let stat;
    try {
      stat = statSync(file);
    } catch {
      stat = null;
    }
    if (stat?.isDirectory()) {
      res.writeHead(301, { location: `${path}/` }).end();
      return;
    }
    if (!stat?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      if (!quiet) console.log(`404 ${path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const url = `http://${host === '127.0.0.1' ? 'localhost' : host}:${server.address().port}`;
      ok({ server, url });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const { url } = await serve({ port: Number(arg('--port', 8080)), root: arg('--root', undefined) });
  console.log(`serving ${resolve(arg('--root', fileURLToPath(new URL('..', import.meta.url))))}`);
  console.log(`demo: ${url}/web/demo/`);
}
