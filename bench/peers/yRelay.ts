import http from 'node:http';
import { WebSocketServer } from 'ws';
// The reference relay's own connection handler, exactly as its bin (src/server.js) wires it.
// Persistence is its own too: it reads YPERSISTENCE (a y-leveldb directory) when this module loads.
import { getPersistence, setupWSConnection } from '@y/websocket-server/utils';

/*
 * @y/websocket-server 0.1.1, started as its bin does (src/server.js), with one addition: on
 * SIGTERM it closes every socket and waits for y-leveldb's queued writes before exiting, so a
 * restart (cold load) finds everything the relay meant to store. Nothing is merged or compacted
 * beyond what the relay does itself. Env: PORT, HOST, YPERSISTENCE (persistence on when set), GC.
 */

const port = Number(process.env.PORT ?? '1234');
const host = process.env.HOST ?? '127.0.0.1';

const wss = new WebSocketServer({ noServer: true });
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'text/plain' });
  response.end('okay');
});
wss.on('connection', setupWSConnection);
server.on('upgrade', (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
});
server.listen(port, host);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  for (const client of wss.clients) client.terminate();
  server.close();
  const persistence = getPersistence() as { provider?: { destroy?: () => Promise<void> } } | null;
  // Give the relay's own close handlers a turn, then let y-leveldb finish its queued writes.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await persistence?.provider?.destroy?.();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
