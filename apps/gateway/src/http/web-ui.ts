import type { INestApplication } from '@nestjs/common';
import express from 'express';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `vite build` puts the operator UI (apps/web/dist), found from the repo root. */
export const WEB_UI_DIR = resolve(process.cwd(), 'apps/web/dist');

const NOT_UI = /^\/(api|healthz|readyz|metrics|\.well-known)(\/|$)/;

/**
 * Serves the web UI from the gateway's own origin (so the session cookie can be
 * SameSite=Strict), with the SPA's index.html for client-side routes.
 */
export function serveWebUi(app: INestApplication, dir = WEB_UI_DIR): void {
  const index = join(dir, 'index.html');
  const http = app.getHttpAdapter().getInstance() as express.Express;
  if (!existsSync(index)) {
    http.get('/', (_req, res) => {
      res.type('text/plain').send('quorumgate: the web UI is not built (npm run build). The API is at /api/v1, its docs at /api/docs.\n');
    });
    return;
  }
  const assets = express.static(dir, {
    index: false,
    setHeaders: (res, path) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      // Vite names assets by content hash: they never change under the same name.
      if (path.includes('/assets/')) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    },
  });
  // API paths never touch the file system.
  http.use((req, res, next) => (NOT_UI.test(req.path) ? next() : assets(req, res, next)));
  http.get(/.*/, (req, res, next) => {
    if (NOT_UI.test(req.path) || req.method !== 'GET') return next();
    if (req.path.startsWith('/assets/')) {
      res.status(404).type('text/plain').send('not found\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    res.sendFile(index);
  });
}
