/**
 * The error type of the toolkit. Every message says what failed, where (file, op, option), and the fix.
 * `kind` lets callers and the CLI sort errors without parsing messages.
 */
export type CmidErrorKind = 'input' | 'checkpoint' | 'backend' | 'numeric' | 'config' | 'kernel';

export class CmidError extends Error {
  readonly kind: CmidErrorKind;
  /** The file the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(kind: CmidErrorKind, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CmidError';
    this.kind = kind;
    this.file = options.file;
  }
}

/** True when `e` is tfjs's "Kernel 'X' not registered for backend 'Y'" error; returns the kernel name. */
export function missingKernelName(e: unknown): string | undefined {
  const m = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(String((e as Error)?.message ?? e));
  return m?.[1];
}

/**
 * Re-throws tfjs's missing-kernel error with the fix tfjs leaves out; other errors pass through unchanged.
 */
export function explainKernelError(e: unknown): never {
  const kernel = missingKernelName(e);
  if (kernel !== undefined) {
    throw new CmidError(
      'kernel',
      `${(e as Error).message}. Call initBackend() from @cmid/core before building models: it registers the ` +
        `training kernels the backend lacks. If '${kernel}' is still missing after that, it has no implementation ` +
        `on this backend yet; set CMID_BACKEND to another backend (see \`cmid info\`).`,
      { cause: e },
    );
  }
  throw e;
}
