/** What an alert watches. */
export type AlertKind = 'sync_lag' | 'oversell' | 'success_rate' | 'dead_letters' | 'consumer_backlog' | 'drift';

export type AlertSeverity = 'warning' | 'critical';

/** One alert as listed at `GET /v1/alerts` and sent to the webhook. Times are ISO 8601. */
export interface Alert {
  /** `<kind>:<channel>`, or `<kind>` for hub-wide alerts (consumer backlog, dead-lettered events). */
  id: string;
  kind: AlertKind;
  channel?: string;
  severity: AlertSeverity;
  firing: boolean;
  /** When it started firing (kept after it clears). */
  since: string;
  /** When it cleared; absent while firing. */
  resolvedAt?: string;
  /** The measured value at the last evaluation (at the moment it cleared, for a cleared alert). */
  value: number;
  threshold: number;
  message: string;
}

/** The webhook body, POSTed once when an alert fires and once when it clears. */
export interface AlertNotification {
  status: 'firing' | 'resolved';
  alert: Alert;
}
