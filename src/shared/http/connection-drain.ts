import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * How long (ms) a keep-alive connection that is idle when the drain starts may stay open for one more
 * request. A client that reuses a socket at the very moment the server closes it sees a reset (the
 * keep-alive race, RFC 9112 §9.6): closing only sockets idle this long keeps that to clients that sat
 * idle anyway, while busy clients get their next answer with `Connection: close`.
 */
export const IDLE_GRACE_MS = 1_000;
const SWEEP_INTERVAL_MS = 100;

interface ConnectionState {
  /** Requests received on this connection and not yet answered. */
  active: number;
  idleSince: number;
  /** socket.bytesRead when it went idle: a change means a request has started arriving. */
  bytesReadWhenIdle: number;
}

/**
 * Graceful stop of an http.Server without cutting a request: tracks its connections from the start,
 * and on `drain()` stops accepting, answers every further response with `Connection: close` (in-flight
 * ones included, if their headers are not out yet), closes connections once idle for `idleGraceMs`, and
 * resolves when the last one has closed.
 */
export class ConnectionDrain {
  private readonly connections = new Map<Socket, ConnectionState>();
  private readonly pending = new Set<ServerResponse>();
  private draining = false;

  constructor(
    private readonly server: Server,
    private readonly idleGraceMs = IDLE_GRACE_MS,
  ) {
    server.prependListener('connection', (socket: Socket) => {
      this.connections.set(socket, { active: 0, idleSince: Date.now(), bytesReadWhenIdle: 0 });
      socket.once('close', () => this.connections.delete(socket));
    });
    // Before the app's own listener, so the header is set before any handler can answer.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.track(req.socket, res));
  }

  /** Connections still open. */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Starts the drain (idempotent); resolves once every connection has closed. */
  drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      for (const res of this.pending) this.closeAfter(res);
    }
    return new Promise((resolve) => {
      // net.Server's close, not http.Server's: the latter also drops idle keep-alive sockets at once,
      // racing clients that are sending their next request on them right now.
      if (this.server.listening) NetServer.prototype.close.call(this.server);
      const sweep = setInterval(() => {
        this.closeIdle();
        if (this.connections.size === 0) {
          clearInterval(sweep);
          resolve();
        }
      }, SWEEP_INTERVAL_MS);
      sweep.unref();
    });
  }

  /** Last resort when the drain ran out of time: drops every connection, mid-request or not. */
  destroyAll(): void {
    for (const socket of this.connections.keys()) socket.destroy();
  }

  private track(socket: Socket, res: ServerResponse): void {
    const state = this.connections.get(socket);
    if (state) state.active += 1;
    this.pending.add(res);
    if (this.draining) this.closeAfter(res);
    res.once('close', () => {
      this.pending.delete(res);
      if (!state) return;
      state.active -= 1;
      state.idleSince = Date.now();
      state.bytesReadWhenIdle = socket.bytesRead;
    });
  }

  /** Node ends the connection after a response that carries `Connection: close`. */
  private closeAfter(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [socket, state] of this.connections) {
      const idle = state.active === 0 && socket.bytesRead === state.bytesReadWhenIdle;
      if (idle && now - state.idleSince >= this.idleGraceMs) socket.destroy();
    }
  }
}
