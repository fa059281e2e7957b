/**
 * Retries with exponential backoff and jitter, KafkaJS's scheme and defaults
 * (except a shorter first wait: an embedded cluster answers in microseconds):
 * wait_n = min(maxRetryTime, initialRetryTime * multiplier^n), randomized by ±factor.
 * Only retriable errors are retried.
 */
import { WafkaError } from '../errors.ts';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries?: number;
  initialRetryTime?: number;
  maxRetryTime?: number;
  factor?: number;
  multiplier?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = {
  retries: 5,
  initialRetryTime: 100,
  maxRetryTime: 30_000,
  factor: 0.2,
  multiplier: 2,
};

export function resolveRetry(...options: (RetryOptions | undefined)[]): Required<RetryOptions> {
  return Object.assign({}, RETRY_DEFAULTS, ...options.filter(Boolean));
}

/** How long to wait before attempt number `attempt + 1` (attempt 0 is the first retry). */
export function backoffMs(retry: Required<RetryOptions>, attempt: number, random = Math.random): number {
  const base = Math.min(retry.maxRetryTime, retry.initialRetryTime * retry.multiplier ** attempt);
  const jitter = base * retry.factor * (random() * 2 - 1);
  return Math.max(0, Math.min(retry.maxRetryTime, Math.round(base + jitter)));
}

export const isRetriable = (error: unknown): boolean => error instanceof WafkaError && error.retriable;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs fn, retrying retriable errors; `onRetry` may refresh metadata between attempts. */
export async function withRetry<T>(
  retry: Required<RetryOptions>,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (error: unknown, attempt: number) => void | Promise<void>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetriable(error) || attempt >= retry.retries) throw error;
      await sleep(backoffMs(retry, attempt));
      await onRetry?.(error, attempt);
    }
  }
}
