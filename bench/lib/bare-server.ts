/**
 * The reference file server: bare `node:http` on loopback, no framework, no hashing, no auth. `PUT /<name>`
 * streams the body to `<dir>/<name>`; `GET /<name>` streams the file back with its length. It is what the
 * physical path (loopback + disk) allows a Node process, and runs in its own process like Cairn's server.
 * Argument: the folder.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.argv[2]!;
/** Files are read and written in 1 MiB blocks, as Cairn's server and SDK do: Node's default 64 KiB costs several times the CPU per byte. */
const CHUNK_BYTES = 1024 * 1024;

const server = createServer(async (req, res) => {
  const file = path.join(dir, path.basename(decodeURIComponent(req.url ?? '/')));
  try {
    if (req.method === 'PUT') {
      const handle = await open(file, 'w');
      try {
        let block: Buffer[] = [];
        let blockBytes = 0;
        let position = 0;
        const flush = async () => {
          const data = Buffer.concat(block, blockBytes);
          block = [];
          blockBytes = 0;
          await handle.write(data, 0, data.length, position);
          position += data.length;
        };
        for await (const chunk of req as AsyncIterable<Buffer>) {
          block.push(chunk);
          blockBytes += chunk.length;
          if (blockBytes >= CHUNK_BYTES) await flush();
        }
        if (blockBytes) await flush();
      } finally {
        await handle.close();
      }
      res.writeHead(204).end();
    } else if (req.method === 'GET') {
      const { size } = await stat(file);
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
      await pipeline(createReadStream(file, { highWaterMark: CHUNK_BYTES }), res);
    } else {
      res.writeHead(405).end();
    }
  } catch (err) {
    if (!res.headersSent) res.writeHead(500).end(String(err));
    else res.destroy();
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
