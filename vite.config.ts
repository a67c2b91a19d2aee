import { fileURLToPath } from 'node:url';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';

const root = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
/** `npm run dev` proxies the API and sockets to a running sync server (scripts/dev.ts starts one). */
const devServer = process.env.PARLEY_DEV_SERVER ?? 'http://127.0.0.1:8787';
/** Paths the service worker must never answer with the app shell: they belong to the server. */
const SERVER_PATHS = [/^\/api\//, /^\/sync\//, /^\/ws/, /^\/healthz/];

// One config for Vite (the web app in client/ui) and Vitest (every test, from the project root).
export default defineConfig({
  root: root('./client/ui'),
  build: {
    outDir: root('./dist/app'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/api': devServer,
      '/healthz': devServer,
      '/sync': { target: devServer, ws: true },
      '/ws': { target: devServer, ws: true },
    },
  },
  plugins: [
    VitePWA({
      strategies: 'generateSW',
      registerType: 'autoUpdate',
      injectRegister: false,
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'Parley',
        short_name: 'Parley',
        description: 'Chat that works offline',
        theme_color: '#4f46e5',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        // json: the emoji picker's data (emoji-picker-element-data), so the picker opens offline too.
        globPatterns: ['**/*.{js,css,html,svg,webmanifest,json}'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: SERVER_PATHS,
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
  test: {
    root: root('.'),
    include: ['test/**/*.test.ts', 'shared/**/*.test.ts', 'server/**/*.test.ts', 'client/**/*.test.ts'],
    environment: 'node',
    // Integration tests start real servers on port 0; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two test files at a time (one per core): about 510 s against 660 to 720 one at a time. The
    // two failures that once kept this at one were product bugs, fixed: a quiet segment's channel
    // dropping the shared socket after 40 s (the 300,000-message room's paging), and the web app
    // dropping a message sent while its room was still opening (a browser test's send).
    maxWorkers: 2,
    // Builds the web app for the browser tests once, before the test files start (test/support/webAppGlobalSetup.ts).
    globalSetup: ['./test/support/webAppGlobalSetup.ts'],
    reporters: ['default', './test/support/plainSummaryReporter.ts'],
  },
});
