// Where media bytes live under media_store_path, in Synapse's layout so an
// operator recognises it: local_content/ab/cd/<rest of id>, and thumbnails
// in local_thumbnails/ab/cd/<rest>/<w>-<h>-<type>-<subtype>-<method>; other
// servers' media in remote_content/<server>/ab/cd/<rest of our file ID>
// and remote_thumbnail/<server>/… likewise.
// Every file is written to tmp/ first and renamed into place, so a reader
// never sees a half-written file and a crash leaves only litter in tmp/.
import { randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isValidMediaId, parseServerName } from '../../core/identifiers.js';

/** The media ID grammar of the spec (content_repo.md, "Security considerations"): safe as file names. */
export const isSafeMediaId = isValidMediaId;

function shard(mediaId: string): string[] {
  // Paths are only ever built from IDs of the spec's grammar: no '.', no '/'.
  if (!isSafeMediaId(mediaId) || mediaId.length < 5) throw new Error(`refusing to build a path from media ID '${mediaId}'`);
  return [mediaId.slice(0, 2), mediaId.slice(2, 4), mediaId.slice(4)];
}

/** The grammar of server names has no '/' and no empty DNS label, so a valid one is a safe directory name. */
function serverDirectory(serverName: string): string {
  if (parseServerName(serverName) === null) throw new Error(`refusing to build a path from server name '${serverName}'`);
  return serverName;
}

function thumbnailName(width: number, height: number, contentType: string, method: string): string {
  const [top, sub] = contentType.split('/');
  return `${width}-${height}-${top}-${sub}-${method}`;
}

export class MediaFiles {
  constructor(private readonly root: string) {}

  contentPath(mediaId: string): string {
    return join(this.root, 'local_content', ...shard(mediaId));
  }

  thumbnailPath(mediaId: string, width: number, height: number, contentType: string, method: string): string {
    return join(this.root, 'local_thumbnails', ...shard(mediaId), thumbnailName(width, height, contentType, method));
  }

  remoteContentPath(origin: string, filesystemId: string): string {
    return join(this.root, 'remote_content', serverDirectory(origin), ...shard(filesystemId));
  }

  remoteThumbnailPath(origin: string, filesystemId: string, width: number, height: number, contentType: string, method: string): string {
    return join(this.root, 'remote_thumbnail', serverDirectory(origin), ...shard(filesystemId), thumbnailName(width, height, contentType, method));
  }

  /** Writes `bytes` to `path` atomically: temp file, fsync, rename. */
  async writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(tmpDir, randomBytes(12).toString('hex'));
    try {
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** The file's size, or undefined when it is missing. */
  async sizeOf(path: string): Promise<number | undefined> {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  openRead(path: string): ReadStream {
    return createReadStream(path);
  }
}
