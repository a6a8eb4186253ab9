import { CairnError } from '../errors.js';

/** Events that were reported but not stored: names the endpoint, the entities and the server's answer. */
export class ReportingError extends CairnError {
  constructor(
    message: string,
    readonly details: {
      endpoint: string;
      /** `task <id>` / `model <id>` for every entity whose events were refused. */
      entities: string[];
      /** How many events were lost. */
      lost: number;
      /** The server's per-message counts, when it answered with them. */
      errorsInfo?: Record<string, number>;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
