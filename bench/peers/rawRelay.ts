import http from 'node:http';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/*
 * The machine's limit: a WebSocket relay that forwards every binary frame, byte for byte and
 * without decoding it, to every other socket on the same path. It holds no document, so a
 * client never gets a sync step 2 from it and a late joiner sees nothing that came before.
 * Env: PORT, HOST.
 */

const port = Number(process.env.PORT ?? '0');
const host = process.env.HOST ?? '127.0.0.1';
const rooms = new Map<string, Set<WebSocket>>();

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('raw relay');
});
const wss = new WebSocketServer({ server });

wss.on('connection', (socket, req) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  let peers = rooms.get(path);
  if (!peers) rooms.set(path, (peers = new Set()));
  const room = peers;
  room.add(socket);
  socket.on('message', (data: RawData, isBinary: boolean) => {
    for (const other of room) if (other !== socket && other.readyState === WebSocket.OPEN) other.send(data, { binary: isBinary });
  });
  socket.on('close', () => {
    room.delete(socket);
    if (room.size === 0) rooms.delete(path);
  });
  socket.on('error', () => socket.terminate());
});

server.listen(port, host);
const stop = (): void => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
