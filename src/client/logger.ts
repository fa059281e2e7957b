/**
 * A pluggable logger shaped like KafkaJS's: `logLevel` is a number from
 * `logLevel` (NOTHING 0, ERROR 1, WARN 2, INFO 4, DEBUG 5) and `logCreator`
 * is `(level) => ({ namespace, level, label, log }) => void`, so a KafkaJS log
 * creator (pino, winston adapters) works unchanged.
 */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;
export type LogLevel = (typeof logLevel)[keyof typeof logLevel];

export interface LogEntry {
  namespace: string;
  level: LogLevel;
  label: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  log: { timestamp: string; logger: 'wafka'; message: string; [key: string]: unknown };
}
export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

export interface Logger {
  error(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  debug(message: string, extra?: Record<string, unknown>): void;
  namespace(namespace: string, level?: LogLevel): Logger;
  setLogLevel(level: LogLevel): void;
}

/** The default: one line per entry on the console, like KafkaJS's. */
export const consoleLogCreator: LogCreator = () => ({ namespace, level, label, log }) => {
  const { timestamp, logger, message, ...extra } = log;
  const prefix = namespace ? `[${namespace}] ` : '';
  const line = `${label} ${prefix}${message}${Object.keys(extra).length ? ' ' + JSON.stringify(extra, bigintReplacer) : ''}`;
  if (level === logLevel.ERROR) console.error(line);
  else if (level === logLevel.WARN) console.warn(line);
  else console.log(line);
};

const bigintReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? String(value) : value);

export function createLogger(options: { level?: LogLevel; logCreator?: LogCreator } = {}): Logger {
  const state = { level: options.level ?? logLevel.INFO };
  const write = (options.logCreator ?? consoleLogCreator)(state.level);
  const make = (namespace: string, own: LogLevel | undefined): Logger => {
    const at = (level: LogLevel, label: LogEntry['label']) => (message: string, extra?: Record<string, unknown>) => {
      if (level > (own ?? state.level)) return;
      write({ namespace, level, label, log: { timestamp: new Date().toISOString(), logger: 'wafka', message, ...extra } });
    };
    return {
      error: at(logLevel.ERROR, 'ERROR'),
      warn: at(logLevel.WARN, 'WARN'),
      info: at(logLevel.INFO, 'INFO'),
      debug: at(logLevel.DEBUG, 'DEBUG'),
      namespace: (child, level) => make(child, level ?? own),
      setLogLevel: (level) => { state.level = level; },
    };
  };
  return make('', undefined);
}
