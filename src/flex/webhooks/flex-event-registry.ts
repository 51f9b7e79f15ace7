import type { FlexMode } from '@prisma/client';
import type { Repositories } from '../../db/repositories';
import type { ShopId } from '../../lib/ids';
import type { FlexAccountClient } from '../flex-client';

export interface FlexEvent {
  event_id?: string;
  event_type: string;
  object: Record<string, unknown>;
  test_mode?: boolean;
}

export interface FlexEventContext {
  shopId: ShopId;
  /** The mode of the endpoint whose secret verified the delivery. */
  mode: FlexMode;
  event: FlexEvent;
  flex: FlexAccountClient;
}

/**
 * A consumer of one or more Flex event types. `prepare` runs before the transaction (it may call
 * Flex: nothing holds a database transaction across an HTTP call); `apply` runs inside the
 * transaction that records the delivery and returns the outcome to record.
 */
export interface FlexEventHandler<P = undefined> {
  prepare?(context: FlexEventContext): Promise<P>;
  /**
   * The outcome to record on the delivery (`deliveryId`, recorded in this transaction), or word that
   * `apply` recorded it itself, in a statement that did more (one round trip fewer on every payment).
   */
  apply(context: FlexEventContext & { repos: Repositories; prepared: P; deliveryId: string }): Promise<string | { outcome: string; recordedOnDelivery: true }>;
  /**
   * Every statement `apply` reaches is SQL as written, so the delivery's transaction runs on a pg
   * connection of its own (Transactor.runSql) instead of Prisma's: for the events of every payment.
   */
  sqlOnly?: boolean;
}

/** A Flex call failed while preparing: answer non-2xx so Flex redelivers later. */
export class FlexEventNotReady extends Error {}

/**
 * Which Flex events the app acts on, and who acts on each. Consumers (payments, refunds) register
 * their events here at start-up, and the list the app subscribes to when it registers a webhook
 * endpoint with Flex is read from here, so what is subscribed and what is handled cannot drift.
 */
export class FlexEventRegistry {
  private readonly handlers = new Map<string, FlexEventHandler<any>>();

  on<P>(eventTypes: readonly string[], handler: FlexEventHandler<P>): void {
    for (const type of eventTypes) {
      if (this.handlers.has(type)) throw new Error(`Flex event ${type} already has a handler`);
      this.handlers.set(type, handler);
    }
  }

  handlerFor(eventType: string): FlexEventHandler<unknown> | undefined {
    return this.handlers.get(eventType);
  }

  /** The event types to subscribe to at Flex: exactly those with a handler. */
  subscribedEvents(): string[] {
    return [...this.handlers.keys()].sort();
  }
}

/** The object of an event: under its resource name (`object.refund`), or the first one (flex-api.md §6.2). */
export function eventObject(event: FlexEvent, resource: string): unknown {
  return event.object[resource] ?? Object.values(event.object)[0];
}
