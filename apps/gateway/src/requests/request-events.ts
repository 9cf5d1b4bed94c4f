import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { RequestStatus } from './requests.repository.js';

export interface RequestChange {
  id: string;
  status: RequestStatus;
  credentialId: string;
  requesterId: string;
  at: string;
}

/** Request changes after their transaction committed, for long polls and server-sent events. */
@Injectable()
export class RequestEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(change: RequestChange): void {
    this.emitter.emit('change', change);
  }

  subscribe(listener: (change: RequestChange) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
}
