/**
 * The process's serving state, shared by readiness and the shutdown in `main.ts`: once draining,
 * GET /ready answers 503 so a load balancer (a Kubernetes Service) stops routing new traffic here.
 */
export class Lifecycle {
  private drainingSince?: Date;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Marks the start of a graceful shutdown (SIGTERM); there is no way back. */
  beginDrain(): void {
    this.drainingSince ??= new Date();
  }
}
