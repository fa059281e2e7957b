/**
 * Command-line parsing shared by the `wafka` subcommands: node:util parseArgs
 * with strict checking, and one error type for bad arguments (exit code 2,
 * as getopt-style tools use).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT_USAGE = 2;

/** Bad command-line input: printed with the subcommand's usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, with its errors (unknown option, missing value, stray argument) as UsageError. */
export function parse<O extends Options>(argv: string[], options: O, positionalsMax = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.positionals.length > positionalsMax) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionalsMax]}'`);
  }
  return parsed;
}

/** An integer option in [min, max]; undefined when absent. */
export function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got '${value}'`);
  }
  return n;
}

/** `k=v` pairs (Kafka's --config / --property form) into entries; a pair without '=' is a usage error. */
export function keyValues(pairs: string[] | undefined, name: string): { name: string; value: string }[] {
  return (pairs ?? []).map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--${name} expects key=value, got '${pair}'`);
    return { name: pair.slice(0, at), value: pair.slice(at + 1) };
  });
}
