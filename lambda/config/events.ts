// The sources the service's events carry on the stack's bus: plain data that both the function
// (which publishes) and the stack (whose role may publish only these) take from here.

/** EventBridge `source` per kind of event. Subscribers match on it. */
export const EVENT_SOURCES = {
  /** Verified Plaid webhooks, handed on as received (detail-type `<webhook_type>.<webhook_code>`). */
  plaid_webhook: 'link-token-service.plaid',
  /** Changes the service makes to an Item: created, removed, status changed. */
  item_lifecycle: 'link-token-service.items',
  /** Changes to a user of the service: erased. */
  user_lifecycle: 'link-token-service.users',
} as const;
