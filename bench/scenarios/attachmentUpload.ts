import { existsSync } from 'node:fs';
import { AttachmentSchema } from '../../shared/models/attachment.ts';
import { COMPILED_CLI, type ChildServer, startChildServer, stopChildServer } from '../../test/support/childServer.ts';
import { makeTempDir } from '../../test/support/tempDir.ts';
import { procStats } from '../load/peerServer.ts';
import { createRoom, devLogin } from '../load/parleyApi.ts';
import type { Figure, RunOptions, Scenario } from '../scenario.ts';

/*
 * Attachment uploads (issue 18): CLIENTS clients each POST one file of FILE_MIB at the same time
 * to a server with its defaults (25 MiB per file, 1 GiB quota) in its own process, into one room.
 * The bodies are streamed (chunked, 256 KiB pieces made as they are sent) and are not images, so
 * the figures are the upload path itself: the blob store's streamed put (SHA-256, write, fsync,
 * rename) and the record. Reported: throughput (all bytes / wall time), and the server's RSS
 * sampled from /proc every 10 ms during the run against its RSS at idle just before. The same run
 * with 5 MiB files is the control: a server that held uploads in memory would grow about five
 * times more with 25 MiB files; one that streams grows about the same. The scenario fails when
 * the 25 MiB run grows more than twice the 5 MiB run plus 16 MiB.
 */

const CLIENTS = 20;
const CHUNK = 256 * 1024;
const MiB = 1024 * 1024;

/** A body of `total` bytes in CHUNK pieces, each made as the client sends it. */
function body(total: number, fill: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(CHUNK, total - sent);
      const chunk = new Uint8Array(n).fill(fill);
      // Distinct bytes per client and piece, so no two uploads share a blob.
      chunk[0] = sent / CHUNK;
      sent += n;
      controller.enqueue(chunk);
    },
  });
}

interface Run {
  readonly seconds: number;
  readonly idleRss: number;
  readonly peakRss: number;
}

async function uploadAll(fileMiB: number): Promise<Run> {
  const tmp = makeTempDir('parley-bench-attach-');
  let server: ChildServer | null = null;
  try {
    // The compiled server, as `npm run bench` builds it; from source (tsx) when there is no build.
    server = await startChildServer(['--dev', '--port', '0', '--data-dir', tmp.dir, '--app-dir', 'off'], {}, { fromSource: !existsSync(COMPILED_CLI) });
    const url = server.url;
    const pid = server.child.pid;
    if (pid === undefined) throw new Error('no server pid');
    const users = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => devLogin(url, `Uploader ${i}`)));
    const roomId = await createRoom(url, users[0]!.token, { name: 'files', type: 'group', members: users.slice(1).map((u) => ({ user_id: u.userId })) });
    const post = async (token: string, total: number, fill: number): Promise<void> => {
      const res = await fetch(`${url}/api/rooms/${roomId}/attachments?name=file-${fill}.bin`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: body(total, fill),
        duplex: 'half',
      } as RequestInit);
      const answer: unknown = await res.json();
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(answer)}`);
      if (AttachmentSchema.parse(answer).size !== total) throw new Error('upload stored the wrong size');
    };
    // Warm-up: one small upload per client (routes, sniffing, SQLite statements).
    await Promise.all(users.map((u, i) => post(u.token, 64 * 1024, 200 + i)));
    const idleRss = procStats(pid)?.rssBytes ?? Number.NaN;
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      const rss = procStats(pid)?.rssBytes ?? 0;
      if (rss > peakRss) peakRss = rss;
    }, 10);
    const started = performance.now();
    try {
      await Promise.all(users.map((u, i) => post(u.token, fileMiB * MiB, i + 1)));
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    peakRss = Math.max(peakRss, procStats(pid)?.rssBytes ?? 0);
    return { seconds, idleRss, peakRss };
  } finally {
    if (server) await stopChildServer(server);
    tmp.remove();
  }
}

async function measure(): Promise<Figure[]> {
  const small = await uploadAll(5);
  const large = await uploadAll(25);
  const growth = (r: Run): number => (r.peakRss - r.idleRss) / MiB;
  const ratio = growth(large) / Math.max(growth(small), 1);
  const note = (mib: number, r: Run) => `${CLIENTS} concurrent streamed uploads of ${mib} MiB (${CLIENTS * mib} MiB) in ${r.seconds.toFixed(2)} s`;
  const figures: Figure[] = [
    { metric: 'upload throughput, 25 MiB files', value: (CLIENTS * 25) / large.seconds, unit: 'MiB/s', better: 'higher', note: note(25, large) },
    { metric: 'upload throughput, 5 MiB files', value: (CLIENTS * 5) / small.seconds, unit: 'MiB/s', better: 'higher', note: note(5, small) },
    { metric: 'server RSS at idle (25 MiB run)', value: large.idleRss / MiB, unit: 'MiB', better: 'lower' },
    { metric: 'server peak RSS growth, 25 MiB files', value: growth(large), unit: 'MiB', better: 'lower', note: `peak ${(large.peakRss / MiB).toFixed(0)} MiB, sampled every 10 ms from /proc` },
    { metric: 'server peak RSS growth, 5 MiB files', value: growth(small), unit: 'MiB', better: 'lower', note: `peak ${(small.peakRss / MiB).toFixed(0)} MiB` },
    {
      metric: 'RSS growth ratio, 25 MiB / 5 MiB files',
      value: ratio,
      unit: 'x',
      better: 'lower',
      note: 'files 5 times larger: about 1 when uploads stream, about 5 if they were held in memory',
    },
  ];
  if (growth(large) > 2 * growth(small) + 16) {
    throw new Error(`RSS growth scales with file size: ${growth(large).toFixed(0)} MiB with 25 MiB files vs ${growth(small).toFixed(0)} MiB with 5 MiB files`);
  }
  return figures;
}

const attachmentUpload: Scenario = {
  name: 'attachmentUpload',
  description: `${CLIENTS} clients upload 25 MiB files at once (and 5 MiB as the control): throughput and the server's peak RSS growth`,
  run: (_opts: RunOptions) => measure(),
};

export default attachmentUpload;
