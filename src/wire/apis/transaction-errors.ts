/**
 * A transaction request answered by a broker either in its response (the
 * `error` field) or by a thrown WafkaError (a request it refused outright);
 * on the wire both become the response's error code.
 */
import { WafkaError, type WafkaErrorJSON } from '../../errors.ts';

export async function answerOrError<T>(call: () => Promise<T>): Promise<T | { failed: WafkaErrorJSON }> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof WafkaError)) throw error;
    return { failed: error.toJSON() };
  }
}

/** The request-level error of an answer from answerOrError. */
export function requestError(answer: object): WafkaErrorJSON | undefined {
  if ('failed' in answer) return answer.failed as WafkaErrorJSON;
  return (answer as { error?: WafkaErrorJSON }).error;
}
