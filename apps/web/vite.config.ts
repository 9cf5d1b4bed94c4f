import { defineConfig } from 'vite';

const here = (path: string) => decodeURIComponent(new URL(path, import.meta.url).pathname);

// Vite 8 compiles TSX itself with oxc: no React plugin (and no fast refresh) needed.
export default defineConfig({
  root: here('.'),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    // No source maps in what the gateway serves: they would hand out the UI's source
    // (comments included) and cost a download for nothing; debug with `vite` instead.
    sourcemap: false,
  },
  server: {
    // `npx vite --config apps/web/vite.config.ts` against a gateway on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
