/// <reference types="vite-plugin-pwa/client" />
import { registerSW } from 'virtual:pwa-register';
import './components/parley-app.ts';

// The service worker precaches the app shell: once visited, the app starts with no network.
// autoUpdate: a new build takes over on the next load, with no prompt.
registerSW({ immediate: true });
