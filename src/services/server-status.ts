// What the admin console's status page shows: which Axon this is, how long
// it has run, on which database, and how many users and rooms it holds.
import type { Engine } from '../storage/database.js';

export interface ServerStatus {
  serverName: string;
  version: string;
  startedTs: number;
  uptimeMs: number;
  databaseEngine: Engine;
  /** Accounts not deactivated. */
  users: number;
  /** Rooms this server knows, joined or not. */
  rooms: number;
}

export interface ServerStatusDeps {
  serverName: string;
  version: string;
  databaseEngine: Engine;
  clock: () => number;
  countUsers: () => Promise<number>;
  countRooms: () => Promise<number>;
}

export class ServerStatusService {
  private readonly startedTs: number;

  constructor(private readonly deps: ServerStatusDeps) {
    this.startedTs = deps.clock();
  }

  async status(): Promise<ServerStatus> {
    const [users, rooms] = await Promise.all([this.deps.countUsers(), this.deps.countRooms()]);
    const { serverName, version, databaseEngine } = this.deps;
    return { serverName, version, startedTs: this.startedTs, uptimeMs: this.deps.clock() - this.startedTs, databaseEngine, users, rooms };
  }
}
