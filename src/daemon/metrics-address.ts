// The address of the metrics endpoint (`run --metrics HOST:PORT`), parsed without loading prom-client.

/** HOST:PORT (IPv4, a name, or [IPv6]:PORT) as a listen address; a clear error naming the value otherwise. */
export function parseMetricsAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !(port >= 1 && port <= 65535)) throw new Error(`metrics address must be HOST:PORT (e.g. 127.0.0.1:9410), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}
