//! EventBridge and SQS in memory, for `steward-local serve` (issue 18). Being built: the
//! event-pattern matcher, buses and rules, queues, and their JSON wire protocols.
