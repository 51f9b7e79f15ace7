import { payStep } from './pay-step';
import { paymentSession } from './payment-session';
import type { RequestScenario } from './scenario';

/** Every request scenario, in the order they are measured and reported. */
export const SCENARIOS: readonly RequestScenario[] = [paymentSession, payStep];

/** The scenario of results saved before there were several (its key is absent there). */
export const DEFAULT_SCENARIO = paymentSession.key;

export function scenarioTitle(key: string | undefined): string {
  const scenario = SCENARIOS.find((s) => s.key === (key ?? DEFAULT_SCENARIO));
  return scenario?.title ?? key ?? DEFAULT_SCENARIO;
}
