// The key that authenticates configuration messages between nodes (CPG offers/acks/hellos and
// the TCP sync service). Every node derives the same 32-byte key from a file all nodes share:
// by default corosync's /etc/corosync/authkey (already identical on every node of a cluster
// that uses knet crypto), or any file given with `--key FILE` for clusters without one.
//
// Why derive instead of using the file bytes: the authkey is corosync's own secret; HKDF with
// our own label gives an independent key, so a MAC we publish can never help an attacker
// against corosync's crypto, and vice versa.
import { fileError } from '../util/file-error';
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export const DEFAULT_AUTHKEY_FILE = '/etc/corosync/authkey';
const HKDF_INFO = 'corolistener config distribution v1';
/** A shorter secret is guessable; corosync-keygen writes 256 bytes (min. 64 accepted by corosync). */
export const MIN_KEY_FILE_BYTES = 16;

export class ClusterKey {
  private constructor(private readonly key: Buffer) {}

  /** Derives the cluster key from the secret bytes of a shared key file. */
  static fromSecret(secret: Buffer, source = 'key'): ClusterKey {
    if (secret.length < MIN_KEY_FILE_BYTES) {
      throw new Error(`${source}: ${secret.length} bytes, a cluster key file needs at least ${MIN_KEY_FILE_BYTES}`);
    }
    return new ClusterKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), HKDF_INFO, 32)));
  }

  static async fromFile(file: string = DEFAULT_AUTHKEY_FILE): Promise<ClusterKey> {
    let secret: Buffer;
    try {
      secret = await readFile(file);
    } catch (err) {
      throw new Error(`cannot read the cluster key file: ${fileError(err, file).message}`);
    }
    return ClusterKey.fromSecret(secret, file);
  }

  /**
   * HMAC-SHA256 over the parts, each length-prefixed so that no two different part lists
   * produce the same input (["ab","c"] vs ["a","bc"]). Hex encoded.
   */
  mac(parts: readonly string[]): string {
    const h = createHmac('sha256', this.key);
    for (const part of parts) {
      const bytes = Buffer.from(part, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length);
      h.update(len).update(bytes);
    }
    return h.digest('hex');
  }

  /** Constant-time check of a received MAC. */
  verify(parts: readonly string[], mac: string): boolean {
    const expected = Buffer.from(this.mac(parts), 'hex');
    const got = /^[0-9a-f]{64}$/.test(mac) ? Buffer.from(mac, 'hex') : Buffer.alloc(0);
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}
