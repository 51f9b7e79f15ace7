import type { FlexMode } from '@prisma/client';
import type { Repositories } from '../../db/repositories';
import type { NewFlexWebhookDelivery } from '../../db/repositories/flex-webhook-deliveries';
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
 * transaction that records the delivery and returns the outcome to record. The delivery is recorded
 * by HandleFlexWebhook before `apply` runs, or (`recordsDelivery`) by `apply`'s first statement.
 */
export type FlexEventHandler<P = undefined> = FlexEventHandlerAfterDelivery<P> | FlexEventHandlerRecordingDelivery<P>;

interface FlexEventHandlerBase<P> {
  prepare?(context: FlexEventContext): Promise<P>;
  /**
   * Every statement `apply` reaches is SQL as written, so the delivery's transaction runs on a pg
   * connection of its own (Transactor.runSql) instead of Prisma's: for the events of every payment.
   */
  sqlOnly?: boolean;
}

/** What `apply` came to: the outcome to record on the delivery, or word that it recorded it itself, in a statement that did more (one round trip fewer). */
export type FlexEventApplied = string | { outcome: string; recordedOnDelivery: true };

/** `apply` runs once the delivery is recorded (`deliveryId`); a redelivery never reaches it. */
export interface FlexEventHandlerAfterDelivery<P> extends FlexEventHandlerBase<P> {
  recordsDelivery?: false;
  apply(context: FlexEventContext & { repos: Repositories; prepared: P; deliveryId: string }): Promise<FlexEventApplied>;
}

/**
 * `apply` records the delivery in its first statement, with what that statement does (one round trip
 * fewer on every payment's webhook), and writes nothing before it. Every answer says where the delivery
 * stands: recorded under `deliveryId` (with the outcome to set on it, or already set:
 * `recordedOnDelivery`), recorded before (`duplicate`: nothing applied), or not recorded because `apply`
 * returned before its first statement (`beforeDelivery`: HandleFlexWebhook records it with the outcome).
 */
export interface FlexEventHandlerRecordingDelivery<P> extends FlexEventHandlerBase<P> {
  recordsDelivery: true;
  apply(context: FlexEventContext & { repos: Repositories; prepared: P; delivery: NewFlexWebhookDelivery }): Promise<FlexEventAppliedWithDelivery>;
}

export type FlexEventAppliedWithDelivery =
  | { outcome: string; deliveryId: string; recordedOnDelivery?: true }
  | { duplicate: true }
  | { outcome: string; beforeDelivery: true };

/**
 * A Flex call failed while preparing: answer non-2xx so Flex redelivers later. `keyRefused`: Flex
 * refused the key (which a kept connection may hold after the merchant replaced it).
 */
export class FlexEventNotReady extends Error {
  constructor(
    message: string,
    readonly keyRefused = false,
  ) {
    super(message);
  }
}

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
