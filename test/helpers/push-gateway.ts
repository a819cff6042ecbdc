// A push gateway for tests (push-gateway-api.md, POST /_matrix/push/v1/notify):
// a plain HTTP server on 127.0.0.1 that records what it receives.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GatewayRequest {
  path: string;
  body: { notification: Record<string, unknown> & { devices: Array<Record<string, unknown>> } };
}

/** A push gateway on 127.0.0.1 that records what it receives and answers with `rejected`. */
export class FakeGateway {
  readonly received: GatewayRequest[] = [];
  rejected: string[] = [];
  private server!: Server;
  private waiters: Array<() => void> = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', body: JSON.parse(text) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ rejected: this.rejected }));
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/_matrix/push/v1/notify`;
  }

  async waitFor(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`gateway got ${this.received.length} requests, expected ${count}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
