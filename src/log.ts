import { pino, type Logger, type LoggerOptions } from "pino";

/**
 * REDACT_PATHS keeps secrets out of every log line: authorization headers, private keys, token
 * values and EST credentials. Certificates are logged by serial and fingerprint, never as PEM.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "private_key",
  "*.private_key",
  "privateKey",
  "*.privateKey",
  "value",
  "*.value",
  "token",
  "*.token",
  "password",
  "*.password",
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { pid: process.pid },
  };
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return destination ? pino(loggerOptions(level), destination as never) : pino(loggerOptions(level));
}
export type { Logger };
