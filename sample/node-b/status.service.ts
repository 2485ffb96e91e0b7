import { Inject, Injectable, Logger, UseGuards } from '@nestjs/common';
import { Balanced, Broadcast } from '../../lib/index.js';
import { CallersGuard } from './callers.guard.js';
import type { CollectAnswer, StatusAnswer } from './node-b.api.js';

/** This instance's variant id, so answers show which NodeB produced them. */
export const VARIANT = Symbol('VARIANT');

@Injectable()
export class StatusService {
  private readonly logger = new Logger(StatusService.name);

  constructor(@Inject(VARIANT) private readonly variant: string) {}

  // One NodeB instance answers each call, in turn.
  @UseGuards(CallersGuard)
  @Balanced()
  status({ test }: { test: string }): StatusAnswer {
    return { status: `ok ${test}`, variant: this.variant };
  }

  // Every NodeB instance answers; the caller gets all the answers as an array.
  @UseGuards(CallersGuard)
  @Broadcast({ responds: true })
  collect({ test }: { test: string }): CollectAnswer {
    return { command: test, variant: this.variant };
  }

  // Every instance stores the request and works through its queue one at a time, in order
  // (in memory here; give the module `redis` to survive crashes). No caller guard: a job runs
  // later from the queue, which does not keep the caller (its context's caller is empty); the
  // callee's `allow` was enforced when the request was stored.
  @Broadcast({ queued: true })
  async ingest({ seq }: { seq: number }): Promise<void> {
    this.logger.log(`ingested #${seq}`);
  }
}
